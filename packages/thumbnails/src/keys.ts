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
