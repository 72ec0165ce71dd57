import { Router } from 'express';
import type { Logger } from '@twin/observability';

export interface HealthOptions {
  service: string;
  version: string;
  logger: Logger;
  /** Resolves when the service's dependencies answer; rejects with the reason otherwise. */
  ready: () => Promise<void>;
}

/** GET /healthz (alive) and GET /readyz (dependencies answer). */
export function healthRoutes({ logger, ready }: Pick<HealthOptions, 'logger' | 'ready'>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await ready();
      res.json({ status: 'ready' });
    } catch (err) {
      logger.warn({ err }, 'not ready');
      res.status(503).json({ status: 'unavailable', error: (err as Error).message });
    }
  });
  return router;
}

/** GET /version: which build answered, so a canary split can be counted. */
export function versionRoute({ service, version }: Pick<HealthOptions, 'service' | 'version'>): Router {
  return Router().get('/version', (_req, res) => {
    res.json({ service, version });
  });
}
