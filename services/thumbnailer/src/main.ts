import { createLogger } from '@twin/observability';
import { main, runService } from '@twin/service-kit';
import {
  checkBucket,
  createS3Client,
  createThumbnailEvents,
  ThumbnailProcessor,
  thumbnailOptionsFrom,
} from '@twin/thumbnails';
import { createThumbnailerApp } from './app';
import { readThumbnailerConfig } from './config';

main(async () => {
  const config = readThumbnailerConfig();
  const logger = createLogger('thumbnailer', config.LOG_LEVEL);
  const s3 = createS3Client();
  const events = createThumbnailEvents(new ThumbnailProcessor(s3, thumbnailOptionsFrom(config)), logger);
  const app = createThumbnailerApp({
    events,
    version: config.APP_VERSION,
    logger,
    ready: () => checkBucket(s3, config.BUCKET),
  });
  await runService({ app, port: config.PORT, host: config.HOST, logger, onShutdown: () => s3.destroy() });
});
