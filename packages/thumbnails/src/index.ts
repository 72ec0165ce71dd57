export { checkBucket, createS3Client } from './client';
export { ThumbnailProcessor } from './processor';
export {
  createThumbnailEvents,
  type EventsLogger,
  type ThumbnailEvents,
  type ThumbnailEventsResponse,
} from './events';
export { thumbnailEnv, thumbnailEnvSchema, thumbnailOptionsFrom, type ThumbnailEnv } from './settings';
export { THUMBNAIL_SPAN_NAME, traceMetadata } from './tracing';
export { parseNotification, isObjectCreated, type NotificationRecord } from './notification';
export {
  decodeEventKey,
  encodeEventKey,
  imageIdFor,
  keyOfImageId,
  sourceKeyFor,
  thumbnailKeyFor,
  UPLOADS_PREFIX,
  THUMBNAILS_PREFIX,
  type KeyMapping,
  type KeySkipReason,
} from './keys';
export {
  InvalidCursorError,
  listImages,
  readThumbnail,
  type ImageEntry,
  type ImagePage,
  type ThumbnailRead,
  type ThumbnailState,
} from './catalog';
export { CONTENT_TYPES, isThumbnailFormat, SUPPORTED_FORMATS, type ThumbnailFormat } from './formats';
export { readImageHeader, type ImageHeader } from './header';
export { createThumbnail, type ResizeOptions, type Thumbnail } from './resize';
export {
  DEFAULT_THUMBNAIL_OPTIONS,
  resolveThumbnailOptions,
  type ThumbnailOptions,
  type ResolvedThumbnailOptions,
} from './options';
export {
  FAILURE_MESSAGE_METADATA_KEY,
  FAILURE_REASON_METADATA_KEY,
  SOURCE_ETAG_METADATA_KEY,
} from './object-store';
export type { RecordResult, SkipReason } from './results';
export {
  InvalidNotificationError,
  ImageRejectedError,
  TransientError,
  type RejectionReason,
  type TransientFailure,
} from './errors';
