import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { createLogger } from '@twin/observability';
import { main, runService } from '@twin/service-kit';
import { createS3Client } from '@twin/thumbnails';
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
    storeReady: async () => {
      await s3.send(new HeadBucketCommand({ Bucket: config.BUCKET }), {
        abortSignal: AbortSignal.timeout(2000),
      });
    },
  });
  await runService({ app, port: config.PORT, logger, onShutdown: () => s3.destroy() });
});
