import type { RequestHandler } from 'express';
import type { Logger } from '@twin/observability';
import { type FaultSettings, faultsOff, INJECTED_FAULT, injectFault } from '@twin/service-kit/faults';

export type { FaultSettings };

/**
 * Added latency and failures on the API routes, so outlier detection, retries, timeouts and the
 * canary judge can be watched at work. Health routes stay honest: they are mounted before this.
 */
export function injectFaults(settings: FaultSettings, logger: Logger): RequestHandler {
  if (faultsOff(settings)) return (_req, _res, next) => next();
  logger.warn(settings, 'fault injection is on');
  return (_req, res, next) => {
    void injectFault(settings).then((status) => {
      if (status === undefined) next();
      else res.status(status).json(INJECTED_FAULT);
    });
  };
}
