import { createLogger } from '@twin/observability';
import { main, runService } from '@twin/service-kit';
import { checkBucket, createS3Client } from '@twin/thumbnails';
import { createFrontendApp } from './app';
import { BackendClient } from './backend-client';
import { readFrontendConfig } from './config';
import { ImageStore } from './image-store';

main(async () => {
  const config = readFrontendConfig();
  const logger = createLogger('frontend', config.LOG_LEVEL);
  const backend = new BackendClient({ baseUrl: config.BACKEND_URL, timeoutMs: config.BACKEND_TIMEOUT_MS });
  const s3 = createS3Client();
  const app = createFrontendApp({
    backend,
    images: new ImageStore(s3, config.BUCKET),
    uploadLimits: { maxBytes: config.UPLOAD_MAX_BYTES, maxPixels: config.UPLOAD_MAX_PIXELS },
    version: config.APP_VERSION,
    logger,
    page: { jaegerUiUrl: config.JAEGER_UI_URL, traceService: config.OTEL_SERVICE_NAME },
    traceQuery: { queryUrl: config.JAEGER_QUERY_URL, timeoutMs: config.BACKEND_TIMEOUT_MS },
    storeReady: () => checkBucket(s3, config.BUCKET),
  });
  await runService({ app, port: config.PORT, host: config.HOST, logger, onShutdown: () => s3.destroy() });
});
