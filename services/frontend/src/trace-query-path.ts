// Free of imports on purpose: instrumentation.ts reads it before express may be loaded.

/** Where the frontend relays Jaeger's query API (GET /api/jaeger/... -> <JAEGER_QUERY_URL>/api/...). */
export const TRACE_QUERY_PREFIX = '/api/jaeger/';
