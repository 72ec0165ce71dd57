export { checkBucket, createS3Client } from './client';
export { ThumbnailProcessor } from './processor';
export { THUMBNAIL_SPAN_NAME, traceMetadata } from './tracing';
export { parseNotification, isObjectCreated, type NotificationRecord } from './notification';
export {
  decodeEventKey,
  encodeEventKey,
  thumbnailKeyFor,
  UPLOADS_PREFIX,
  THUMBNAILS_PREFIX,
  type KeyMapping,
  type KeySkipReason,
} from './keys';
export {
  CONTENT_TYPES,
  createThumbnail,
  type ResizeOptions,
  type Thumbnail,
  type ThumbnailFormat,
} from './resize';
export {
  DEFAULT_THUMBNAIL_OPTIONS,
  resolveThumbnailOptions,
  type ThumbnailOptions,
  type ResolvedThumbnailOptions,
} from './options';
export { SOURCE_ETAG_METADATA_KEY } from './object-store';
export type { RecordResult, SkipReason } from './results';
export {
  InvalidNotificationError,
  ImageRejectedError,
  TransientError,
  type RejectionReason,
  type TransientFailure,
} from './errors';
