// Loaded with `node --require` so tracing starts before express is imported.
import { startTracing } from '@twin/observability';
import { TRACE_QUERY_PREFIX } from './trace-query-path';

// Reading traces through the relay makes no traces of its own, or each look would add one.
startTracing('frontend', process.env, { untracedPathPrefixes: [TRACE_QUERY_PREFIX] });
