import isObject from 'is-plain-obj';
import { InvalidNotificationError } from './errors';

/** The parts of one S3 event record that thumbnailing uses. */
export interface NotificationRecord {
  /** `ObjectCreated:Put` from S3, `s3:ObjectCreated:Put` from MinIO. */
  readonly eventName: string;
  readonly bucket: string;
  /** The object key as the event carries it: URL-encoded, spaces as `+` (see decodeEventKey). */
  readonly key: string;
}

/**
 * Reads the records of an S3 event notification. Accepts the AWS shape `{Records: [...]}` (S3 -> Lambda, or any
 * S3-format notification) and MinIO's webhook body `{EventName, Key, Records: [...]}`, whose records have the same
 * shape. A string or byte body is parsed as JSON first. Anything else throws InvalidNotificationError.
 */
export function parseNotification(body: unknown): NotificationRecord[] {
  const notification = typeof body === 'string' || body instanceof Uint8Array ? parseJson(body) : body;
  if (!isObject(notification) || !Array.isArray(notification.Records)) {
    throw new InvalidNotificationError(
      'not an S3 event notification: expected an object with a Records array',
    );
  }
  for (const field of ['EventName', 'Key'] as const) {
    if (field in notification && typeof notification[field] !== 'string') {
      throw new InvalidNotificationError(`${field} must be a string`);
    }
  }
  return notification.Records.map(parseRecord);
}

function parseRecord(record: unknown, index: number): NotificationRecord {
  const at = `Records[${index}]`;
  const s3 = isObject(record) ? record.s3 : undefined;
  const bucket = isObject(s3) && isObject(s3.bucket) ? s3.bucket.name : undefined;
  const key = isObject(s3) && isObject(s3.object) ? s3.object.key : undefined;
  const eventName = isObject(record) ? record.eventName : undefined;
  if (typeof eventName !== 'string') throw new InvalidNotificationError(`${at}.eventName must be a string`);
  if (typeof bucket !== 'string' || bucket === '') {
    throw new InvalidNotificationError(`${at}.s3.bucket.name must be a non-empty string`);
  }
  if (!BUCKET_NAME.test(bucket)) {
    throw new InvalidNotificationError(`${at}.s3.bucket.name is not a bucket name`);
  }
  if (typeof key !== 'string' || key === '') {
    throw new InvalidNotificationError(`${at}.s3.object.key must be a non-empty string`);
  }
  return { eventName, bucket, key };
}

/**
 * The characters of S3 bucket names, legacy ones included (letters, digits, dots, hyphens,
 * underscores), starting with a letter or digit. Anything else ("a/b", "..") would change the path
 * of the request made for it, or be refused by the SDK, and can only come from a forged event.
 */
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** Only creations (Put, Post, Copy, CompleteMultipartUpload) produce thumbnails. */
export function isObjectCreated(eventName: string): boolean {
  return /^(s3:)?ObjectCreated:/.test(eventName);
}

function parseJson(body: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
  } catch (error) {
    throw new InvalidNotificationError(`body is not JSON: ${(error as Error).message}`);
  }
}
