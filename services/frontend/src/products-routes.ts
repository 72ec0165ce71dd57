import { type Response, Router } from 'express';
import { textBody, type UpstreamResponse } from '@twin/service-kit';
import type { BackendClient } from './backend-client';

/** A product body is small: anything bigger is refused here before it reaches the backend. */
const MAX_BODY_BYTES = 16 * 1024;

function relay(res: Response, upstream: UpstreamResponse): void {
  res.status(upstream.status);
  if (upstream.contentType) res.type(upstream.contentType);
  res.send(upstream.body);
}

function queryString(query: Record<string, unknown>, names: string[]): string {
  const params = new URLSearchParams();
  for (const name of names) {
    const value = query[name];
    if (typeof value === 'string') params.set(name, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** /api/products and /api/version, relayed to the backend. */
export function productRoutes(backend: BackendClient): Router {
  const router = Router();
  router.get('/api/products', async (req, res) =>
    relay(res, await backend.request('GET', `/products${queryString(req.query, ['limit', 'cursor'])}`)),
  );
  router.post('/api/products', textBody(MAX_BODY_BYTES), async (req, res) =>
    relay(res, await backend.request('POST', '/products', typeof req.body === 'string' ? req.body : '')),
  );
  router.get('/api/products/:id', async (req, res) =>
    relay(res, await backend.request('GET', `/products/${encodeURIComponent(req.params.id)}`)),
  );
  router.delete('/api/products/:id', async (req, res) =>
    relay(res, await backend.request('DELETE', `/products/${encodeURIComponent(req.params.id)}`)),
  );
  // The backend's /version, so a canary split shows through the frontend.
  router.get('/api/version', async (_req, res) => relay(res, await backend.request('GET', '/version')));
  return router;
}
