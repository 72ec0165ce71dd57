import type { Express } from 'express';
import type { Logger } from '@twin/observability';
import { createServiceApp, finishApp, HttpError, textBody } from '@twin/service-kit';
import { InvalidNotificationError, type ThumbnailProcessor, TransientError } from '@twin/thumbnails';

export interface ThumbnailerAppOptions {
  processor: ThumbnailProcessor;
  version: string;
  logger: Logger;
  ready: () => Promise<void>;
}

/** A notification lists keys, not images: a few kilobytes even for a batch. */
const MAX_NOTIFICATION_BYTES = 256 * 1024;

/**
 * POST /events takes an S3-format notification (AWS `Records[]` or MinIO's webhook body) and answers
 * 2xx only once the thumbnails are written, so MinIO (or the local stack) redelivers on failure.
 */
export function createThumbnailerApp({ processor, version, logger, ready }: ThumbnailerAppOptions): Express {
  const app = createServiceApp({ service: 'thumbnailer', version, logger, ready });
  app.post('/events', textBody(MAX_NOTIFICATION_BYTES), async (req, res) => {
    try {
      const results = await processor.process(typeof req.body === 'string' ? req.body : '');
      for (const result of results) {
        if (result.outcome === 'failed') logger.warn({ result }, 'image rejected; not retried');
        else logger.info({ result }, `thumbnail ${result.outcome}`);
      }
      res.json({ results });
    } catch (err) {
      if (err instanceof InvalidNotificationError) throw new HttpError(400, err.message);
      if (err instanceof TransientError) {
        logger.error(
          { err, failures: err.failures.map(({ key }) => key) },
          'thumbnails failed; asking for redelivery',
        );
        throw new HttpError(503, 'object store is unavailable; deliver the event again', {
          failed: err.failures.map(({ bucket, key }) => ({ bucket, key })),
          results: err.results,
        });
      }
      throw err;
    }
  });
  return finishApp(app, logger);
}
