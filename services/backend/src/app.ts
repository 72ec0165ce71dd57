import type { Express, Response } from 'express';
import type { Logger } from '@twin/observability';
import type { ProductsApi, ProductsResponse } from '@twin/products';
import { MAX_PRODUCT_BODY_BYTES } from '@twin/products';
import { createServiceApp, finishApp, rawBody } from '@twin/service-kit';
import { type FaultSettings, injectFaults } from './faults';

export interface BackendAppOptions {
  api: ProductsApi;
  version: string;
  logger: Logger;
  faults: FaultSettings;
  ready: () => Promise<void>;
}

function send(res: Response, { statusCode, body }: ProductsResponse): void {
  if (body === undefined) res.status(statusCode).end();
  else res.status(statusCode).json(body);
}

/** The products API over HTTP: each route maps the request onto the shared API and sends its answer. */
export function createBackendApp({ api, version, logger, faults, ready }: BackendAppOptions): Express {
  const app = createServiceApp({
    service: 'backend',
    version,
    logger,
    ready,
    routeMiddleware: [injectFaults(faults, logger)],
  });
  // The body's bytes go to the shared API, which reads and validates them as the Lambda shell does.
  const productBody = rawBody(MAX_PRODUCT_BODY_BYTES);

  app.get('/products', async (req, res) =>
    send(res, await api.handle({ operation: 'list', query: req.query })),
  );
  app.post('/products', productBody, async (req, res) =>
    send(
      res,
      await api.handle({
        operation: 'create',
        body: req.body as Buffer,
        contentEncoding: req.headers['content-encoding'],
      }),
    ),
  );
  app.get('/products/:id', async (req, res) =>
    send(res, await api.handle({ operation: 'get', id: req.params.id })),
  );
  app.delete('/products/:id', async (req, res) =>
    send(res, await api.handle({ operation: 'delete', id: req.params.id })),
  );
  return finishApp(app, logger);
}
