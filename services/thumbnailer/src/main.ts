import { createLogger } from '@twin/observability';
import { main, runService } from '@twin/service-kit';
import { checkBucket, createS3Client, ThumbnailProcessor } from '@twin/thumbnails';
import { createThumbnailerApp } from './app';
import { readThumbnailerConfig } from './config';

main(async () => {
  const config = readThumbnailerConfig();
  const logger = createLogger('thumbnailer', config.LOG_LEVEL);
  const s3 = createS3Client();
  const processor = new ThumbnailProcessor(s3, {
    width: config.THUMBNAIL_WIDTH,
    height: config.THUMBNAIL_HEIGHT,
    maxInputBytes: config.MAX_INPUT_BYTES,
    limitInputPixels: config.MAX_INPUT_PIXELS,
  });
  const app = createThumbnailerApp({
    processor,
    version: config.APP_VERSION,
    logger,
    ready: () => checkBucket(s3, config.BUCKET),
  });
  await runService({ app, port: config.PORT, logger, onShutdown: () => s3.destroy() });
});
