import type { Express } from 'express';
import type { Logger } from '@twin/observability';
import { createServiceApp, finishApp } from '@twin/service-kit';
import type { BackendClient } from './backend-client';
import { productRoutes } from './products-routes';

export interface FrontendAppOptions {
  backend: BackendClient;
  version: string;
  logger: Logger;
}

export function createFrontendApp({ backend, version, logger }: FrontendAppOptions): Express {
  const app = createServiceApp({ service: 'frontend', version, logger, ready: () => backend.ready() });
  app.use(productRoutes(backend));
  return finishApp(app, logger);
}
