// Loaded with `node --require` so tracing starts before express is imported.
import { startTracing } from '@twin/observability';

startTracing('frontend');
