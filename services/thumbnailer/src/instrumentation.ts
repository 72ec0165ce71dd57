// Loaded with `node --require` so tracing starts before express and the AWS SDK are imported.
import { startTracing } from '@twin/observability';

startTracing('thumbnailer');
