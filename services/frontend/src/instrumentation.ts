// Loaded with `node --require` so tracing starts before express is imported.
import { startTracing } from '@twin/observability';
import { UNTRACED_PATH_PREFIXES } from './untraced-paths';

startTracing('frontend', process.env, { untracedPathPrefixes: UNTRACED_PATH_PREFIXES });
