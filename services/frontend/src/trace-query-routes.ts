import { type Response, Router } from 'express';
import { callUpstream, HttpError } from '@twin/service-kit';
import { TRACE_QUERY_PREFIX } from './untraced-paths';

export interface TraceQueryOptions {
  /** Jaeger's query API as the frontend reaches it, e.g. http://127.0.0.1:16686; unset: no relay. */
  queryUrl?: string;
  /** Deadline of each call to it. */
  timeoutMs: number;
}

/** The search parameters of Jaeger's GET /api/traces that the relay passes on. */
const SEARCH_PARAMS = [
  'service',
  'operation',
  'tag',
  'tags',
  'start',
  'end',
  'lookback',
  'minDuration',
  'maxDuration',
  'limit',
];

/**
 * The page's way to Jaeger's query API, which its Content Security Policy (only 'self') keeps it
 * from calling directly: GET /api/jaeger/services, /api/jaeger/services/:service/operations,
 * /api/jaeger/traces (Jaeger's search parameters) and /api/jaeger/traces/:traceId, relayed to
 * `<queryUrl>/api/...` with Jaeger's answer as it is (its 4xx errors included); 502 when it fails,
 * 503/504 when it is down or slow, 404 when no query URL is configured.
 */
export function traceQueryRoutes({ queryUrl, timeoutMs }: TraceQueryOptions): Router {
  const router = Router();
  const base = queryUrl?.replace(/\/+$/, '');
  const relay = async (res: Response, path: string, query = new URLSearchParams()) => {
    if (!base) throw new HttpError(404, 'no trace query API is configured (JAEGER_QUERY_URL)');
    const search = query.size ? `?${query}` : '';
    const upstream = await callUpstream('jaeger', `${base}/api/${path}${search}`, { timeoutMs });
    if (upstream.status >= 500)
      throw new HttpError(502, 'the trace query API failed', { upstreamStatus: upstream.status });
    res
      .status(upstream.status)
      .type(upstream.contentType || 'application/json')
      .send(upstream.body);
  };
  router.get(`${TRACE_QUERY_PREFIX}services`, (_req, res) => relay(res, 'services'));
  router.get(`${TRACE_QUERY_PREFIX}services/:service/operations`, (req, res) =>
    relay(res, `services/${encodeURIComponent(req.params.service)}/operations`),
  );
  router.get(`${TRACE_QUERY_PREFIX}traces`, (req, res) => {
    const query = new URLSearchParams();
    for (const name of SEARCH_PARAMS) {
      const value = req.query[name];
      for (const item of Array.isArray(value) ? value : [value])
        if (typeof item === 'string') query.append(name, item);
    }
    return relay(res, 'traces', query);
  });
  router.get(`${TRACE_QUERY_PREFIX}traces/:traceId`, (req, res) =>
    relay(res, `traces/${encodeURIComponent(req.params.traceId)}`),
  );
  return router;
}
