import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { requestContext, requestLogging } from '@twin/observability';
import { healthRoutes, type HealthOptions, versionRoute } from './health';

export interface ServiceAppOptions extends HealthOptions {
  /** Runs before every route but the health probes (e.g. fault injection), so probes stay honest. */
  routeMiddleware?: RequestHandler[];
}

/**
 * An Express app with what every service shares up front: security headers, request id, request logs,
 * health and version routes. The service adds its routes, then calls `finishApp`.
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(helmet());
  app.use(requestContext());
  app.use(requestLogging(options.logger));
  app.use(healthRoutes(options));
  for (const middleware of options.routeMiddleware ?? []) app.use(middleware);
  app.use(versionRoute(options));
  return app;
}
