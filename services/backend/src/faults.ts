import type { RequestHandler } from 'express';
import type { Logger } from '@twin/observability';

export interface FaultSettings {
  delayMs: number;
  errorRate: number;
  errorStatus: number;
}

/**
 * Added latency and failures on the API routes, so outlier detection, retries and timeouts can be
 * watched at work. Health routes stay honest: they are mounted before this.
 */
export function injectFaults(
  { delayMs, errorRate, errorStatus }: FaultSettings,
  logger: Logger,
): RequestHandler {
  if (delayMs === 0 && errorRate === 0) return (_req, _res, next) => next();
  logger.warn({ delayMs, errorRate, errorStatus }, 'fault injection is on');
  return (_req, res, next) => {
    const act = () => {
      if (Math.random() < errorRate) {
        res.status(errorStatus).json({ error: 'injected fault' });
        return;
      }
      next();
    };
    if (delayMs > 0) setTimeout(act, delayMs);
    else act();
  };
}
