import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { requestContext, requestLogging, traceResponse } from '@twin/observability';
import { healthRoutes, type HealthOptions, versionRoute } from './health';
import { keepUndecodableSegments } from './middleware';

export interface ServiceAppOptions extends HealthOptions {
  /** Runs before every route but the health probes (e.g. fault injection), so probes stay honest. */
  routeMiddleware?: RequestHandler[];
}

/**
 * An Express app with what every service shares up front: security headers, request id, trace id
 * (`traceresponse`), request logs, health and version routes. The service adds its routes, then
 * calls `finishApp`.
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(keepUndecodableSegments);
  app.set('trust proxy', true);
  // Helmet's defaults, less upgrade-insecure-requests: the services speak plain HTTP (TLS belongs to
  // the mesh and the ingress), and the directive would break the page on any address but localhost.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(requestContext());
  // The trace id goes back to the caller, so a page or a curl user can open that trace in Jaeger.
  app.use(traceResponse());
  app.use(requestLogging(options.logger));
  app.use(healthRoutes(options));
  for (const middleware of options.routeMiddleware ?? []) app.use(middleware);
  app.use(versionRoute(options));
  return app;
}
