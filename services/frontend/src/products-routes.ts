import { type Request, type Response, Router } from 'express';
import { MAX_PRODUCT_BODY_BYTES } from '@twin/products/validation';
import { rawBody, type UpstreamResponse } from '@twin/service-kit';
import type { BackendClient } from './backend-client';

function relay(res: Response, upstream: UpstreamResponse): void {
  res.status(upstream.status);
  if (upstream.contentType) res.type(upstream.contentType);
  res.send(upstream.body);
}

/**
 * The backend path for a request to /api/products...: the path and query string exactly as the
 * client sent them (still percent-encoded, a repeated key repeated), so the backend judges the same
 * bytes it would judge if called directly and its answer, 4xx included, reaches the client as is.
 */
const backendPath = (req: Request) => req.originalUrl.slice('/api'.length);

/** /api/products and /api/version, relayed to the backend. */
export function productRoutes(backend: BackendClient): Router {
  const router = Router();
  router.get('/api/products', async (req, res) => relay(res, await backend.request('GET', backendPath(req))));
  // The products API's own limit, so a body the backend would refuse is refused here, alike.
  router.post('/api/products', rawBody(MAX_PRODUCT_BODY_BYTES), async (req, res) =>
    relay(
      res,
      await backend.request('POST', backendPath(req), {
        body: req.body as Buffer,
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
      }),
    ),
  );
  router.get('/api/products/:id', async (req, res) =>
    relay(res, await backend.request('GET', backendPath(req))),
  );
  router.delete('/api/products/:id', async (req, res) =>
    relay(res, await backend.request('DELETE', backendPath(req))),
  );
  // The backend's /version, so a canary split shows through the frontend.
  router.get('/api/version', async (_req, res) => relay(res, await backend.request('GET', '/version')));
  return router;
}
