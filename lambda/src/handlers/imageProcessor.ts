import type { S3Event } from 'aws-lambda';
import { readConfig } from '@twin/service-kit/config';
import {
  createS3Client,
  createThumbnailEvents,
  type RecordResult,
  ThumbnailProcessor,
  thumbnailEnvSchema,
  thumbnailOptionsFrom,
} from '@twin/thumbnails';
import { handlerLogger, withInvocationLogContext } from '../runtime/logger';

// Once per container: the S3 client keeps its connections; a bad setting fails the init, naming it.
const config = readConfig(thumbnailEnvSchema);
const events = createThumbnailEvents(
  new ThumbnailProcessor(createS3Client(), thumbnailOptionsFrom(config)),
  handlerLogger('image-processor'),
);

/**
 * S3 ObjectCreated on uploads/ -> thumbnails/, every record of the event, through the same entry as
 * the thumbnailer's POST /events: its 200 body is returned; anything else fails the invocation (an
 * object store failure, so Lambda retries the event and then sends it to the on-failure destination;
 * or an event that is not an S3 notification). Its log lines carry the invocation's request id.
 */
export const handler = withInvocationLogContext(
  async (event: S3Event): Promise<{ results: RecordResult[] }> => {
    const response = await events.handle(event);
    if (response.statusCode !== 200) throw response.error;
    return response.body;
  },
);
