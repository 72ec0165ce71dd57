export { checkBucket, createS3Client } from './client';
export { ThumbnailProcessor } from './processor';
export {
  createThumbnailEvents,
  type EventsLogger,
  type ThumbnailEvents,
  type ThumbnailEventsResponse,
} from './events';
export { thumbnailEnv, thumbnailEnvSchema, thumbnailOptionsFrom, type ThumbnailEnv } from './settings';
export { traceMetadata } from './tracing';
export { parseNotification, type NotificationRecord } from './notification';
export { encodeEventKey, imageIdFor, type KeySkipReason, sourceKeyFor, UPLOADS_PREFIX } from './keys';
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
export type { ResolvedThumbnailOptions, ThumbnailOptions } from './options';
export type { RecordResult, SkipReason } from './results';
export {
  InvalidNotificationError,
  ImageRejectedError,
  TransientError,
  type RejectionReason,
  type TransientFailure,
} from './errors';
