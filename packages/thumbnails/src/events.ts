import { InvalidNotificationError, TransientError } from './errors';
import type { ThumbnailProcessor } from './processor';
import type { RecordResult } from './results';

/** The logging the entry needs; a pino logger fits. Objects are merged into the line. */
export interface EventsLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * The answer to one notification, independent of HTTP or Lambda. 200: every record reached a final
 * result (created, already there, skipped, or failed for good). 400: not a notification; nothing was
 * done. 503: the object store failed for some record; deliver the whole event again (the records
 * that completed repeat harmlessly). `error` is what a Lambda shell throws to fail the invocation.
 */
export type ThumbnailEventsResponse =
  | { readonly statusCode: 200; readonly body: { readonly results: RecordResult[] } }
  | {
      readonly statusCode: 400;
      readonly body: { readonly error: string };
      readonly error: InvalidNotificationError;
    }
  | {
      readonly statusCode: 503;
      readonly body: {
        readonly error: string;
        readonly failed: Array<{ bucket: string; key: string }>;
        readonly results: readonly RecordResult[];
      };
      readonly error: TransientError;
    };

function logResult(logger: EventsLogger, result: RecordResult): void {
  if (result.outcome === 'failed')
    logger.warn(result, 'no thumbnail: image rejected; the event is acknowledged');
  else logger.info(result, `thumbnail ${result.outcome}`);
}

/**
 * The thumbnail makers once, for both shells (as createProductsApi is for products): the thumbnailer's
 * `POST /events` sends the response's status and body, the Lambda imageProcessor returns the body or
 * throws the error. Both log the same lines here, one per record plus one per failed notification.
 * Errors other than the two kinds above are bugs and are thrown.
 */
export function createThumbnailEvents(processor: ThumbnailProcessor, logger: EventsLogger) {
  return {
    async handle(notification: unknown): Promise<ThumbnailEventsResponse> {
      try {
        const results = await processor.process(notification);
        for (const result of results) logResult(logger, result);
        return { statusCode: 200, body: { results } };
      } catch (error) {
        if (error instanceof InvalidNotificationError) {
          logger.warn({ err: error }, 'not an S3 event notification');
          return { statusCode: 400, body: { error: error.message }, error };
        }
        if (!(error instanceof TransientError)) throw error;
        for (const result of error.results) logResult(logger, result);
        const failed = error.failures.map(({ bucket, key }) => ({ bucket, key }));
        logger.error({ err: error, failed }, 'object store failed; the event is to be delivered again');
        return {
          statusCode: 503,
          body: {
            error: 'object store is unavailable; deliver the event again',
            failed,
            results: error.results,
          },
          error,
        };
      }
    },
  };
}

export type ThumbnailEvents = ReturnType<typeof createThumbnailEvents>;
