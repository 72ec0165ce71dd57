// Free of imports on purpose: instrumentation.ts reads it before express may be loaded.

/** Where the frontend relays Jaeger's query API (GET /api/jaeger/... -> <JAEGER_QUERY_URL>/api/...). */
export const TRACE_QUERY_PREFIX = '/api/jaeger/';

/**
 * Requests that make no trace: reading traces (each look would add one), and the page's scripts,
 * styles and icon (a dozen traces per page load that say nothing about the application).
 */
export const UNTRACED_PATH_PREFIXES = [TRACE_QUERY_PREFIX, '/js/', '/vendor/', '/styles.css', '/favicon.svg'];
