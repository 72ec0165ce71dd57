import type { Express } from 'express';
import type { Logger } from '@twin/observability';
import { createServiceApp, finishApp, textBody } from '@twin/service-kit';
import type { ThumbnailEvents } from '@twin/thumbnails';

export interface ThumbnailerAppOptions {
  events: ThumbnailEvents;
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
export function createThumbnailerApp({ events, version, logger, ready }: ThumbnailerAppOptions): Express {
  const app = createServiceApp({ service: 'thumbnailer', version, logger, ready });
  app.post('/events', textBody(MAX_NOTIFICATION_BYTES), async (req, res) => {
    const { statusCode, body } = await events.handle(typeof req.body === 'string' ? req.body : '');
    res.status(statusCode).json(body);
  });
  return finishApp(app, logger);
}
