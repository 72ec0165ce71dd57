import type { S3Event } from 'aws-lambda';
import {
  createS3Client,
  InvalidNotificationError,
  type RecordResult,
  ThumbnailProcessor,
  TransientError,
} from '@twin/thumbnails';
import { handlerLogger } from '../runtime/logger';

function optionalInteger(name: string): number | undefined {
  const value = process.env[name];
  // resolveThumbnailOptions rejects anything but a positive integer, so a bad value fails the init.
  return value ? Number(value) : undefined;
}

// Once per container: the S3 client keeps its connections, the processor its validated options.
const logger = handlerLogger('image-processor');
const processor = new ThumbnailProcessor(createS3Client(), {
  width: optionalInteger('THUMBNAIL_WIDTH'),
  height: optionalInteger('THUMBNAIL_HEIGHT'),
});

function logResult(result: RecordResult): void {
  if (result.outcome === 'failed') logger.warn(result, 'image rejected; the event is acknowledged');
  else logger.info(result, `thumbnail ${result.outcome}`);
}

/**
 * S3 ObjectCreated on uploads/ -> thumbnails/, every record of the event. A record that can never
 * succeed (corrupt or oversized image, foreign key) is logged and acknowledged. When the object store
 * failed, the invocation throws: Lambda retries the event, then sends it to the on-failure destination.
 */
export const handler = async (event: S3Event): Promise<{ results: RecordResult[] }> => {
  try {
    const results = await processor.process(event);
    results.forEach(logResult);
    return { results };
  } catch (err) {
    if (err instanceof TransientError) {
      err.results.forEach(logResult);
      logger.error(
        { err, failures: err.failures.map(({ bucket, key }) => ({ bucket, key })) },
        'object store failed; the event will be retried',
      );
    } else if (err instanceof InvalidNotificationError) {
      // Not something S3 sends: fail loudly so a caller sees it and the failure destination keeps it.
      logger.error({ err }, 'not an S3 event notification');
    }
    throw err;
  }
};
