export const UPLOADS_PREFIX = 'uploads/';
export const THUMBNAILS_PREFIX = 'thumbnails/';

/** Why a decoded key gets no thumbnail. */
export type KeySkipReason =
  /** A thumbnail's own creation event: acting on it would recurse. */
  | 'thumbnail-key'
  /** Not of the form uploads/<path>. */
  | 'not-an-upload'
  /**
   * Has `.` or `..` path segments, which would let a key name a path outside its upload, or
   * characters no object store keeps in a key (NUL, a lone UTF-16 surrogate, which has no UTF-8 form).
   */
  | 'unsafe-key';

export type KeyMapping =
  { readonly thumbnailKey: string; readonly skip?: undefined } | { readonly skip: KeySkipReason };

/**
 * Decodes an object key as S3 event notifications encode it (form encoding: `+` is a space), e.g.
 * `uploads/1/my+photo+%C3%B1.jpg` -> `uploads/1/my photo ñ.jpg`. Returns undefined when the key is not valid
 * percent-encoding.
 */
export function decodeEventKey(encodedKey: string): string | undefined {
  try {
    return decodeURIComponent(encodedKey.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Encodes a key the way S3 writes it into event notifications (the inverse of decodeEventKey):
 * form encoding per path segment, so a space is `+` and `ñ` is `%C3%B1`. For emulators and tests
 * that stand in for S3.
 */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

/**
 * Maps uploads/<path> to thumbnails/<path>: the frontend's uploads/<id>/<name> and a plain
 * `aws s3 cp photo.jpg s3://bucket/uploads/photo.jpg` alike. Every other key is skipped, with the reason.
 */
export function thumbnailKeyFor(sourceKey: string): KeyMapping {
  if (sourceKey.startsWith(THUMBNAILS_PREFIX)) return { skip: 'thumbnail-key' };
  if (!sourceKey.startsWith(UPLOADS_PREFIX)) return { skip: 'not-an-upload' };
  const path = sourceKey.slice(UPLOADS_PREFIX.length);
  if (/[\0\p{Cs}]/u.test(path)) return { skip: 'unsafe-key' };
  const segments = path.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) return { skip: 'unsafe-key' };
  if (segments.some((segment) => segment === '')) return { skip: 'not-an-upload' };
  return { thumbnailKey: THUMBNAILS_PREFIX + path };
}

/**
 * An image's id: its key below uploads/ in base64url (RFC 4648 §5), so that every key has one, stable and
 * URL-safe whatever it contains (spaces, unicode, `+`, `%`, slashes), and the key comes back from it
 * without a lookup. E.g. `uploads/photo.jpg` -> `cGhvdG8uanBn`.
 */
export function imageIdFor(sourceKey: string): string {
  if (!sourceKey.startsWith(UPLOADS_PREFIX))
    throw new RangeError(`${sourceKey} is not under ${UPLOADS_PREFIX}`);
  return Buffer.from(sourceKey.slice(UPLOADS_PREFIX.length), 'utf8').toString('base64url');
}

/** The key an image id stands for, whatever it is; undefined when the text is not canonical base64url of UTF-8. */
export function keyOfImageId(id: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,1400}$/.test(id)) return undefined;
  const path = Buffer.from(id, 'base64url').toString('utf8');
  // Only the one encoding of a valid UTF-8 key: no id aliases another, nothing decodes to U+FFFD.
  return Buffer.from(path, 'utf8').toString('base64url') === id ? UPLOADS_PREFIX + path : undefined;
}

/**
 * The source key an image id stands for, when it is one that can have a thumbnail (thumbnailKeyFor
 * maps it); undefined for anything else, so that no id can name an unsafe path.
 */
export function sourceKeyFor(id: string): string | undefined {
  const key = keyOfImageId(id);
  return key === undefined || thumbnailKeyFor(key).skip ? undefined : key;
}
