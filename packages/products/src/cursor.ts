import { ValidationError } from './errors';
import type { ProductKey } from './product';
import { isUuid } from './uuid';

/** The answer to any cursor this API did not issue. */
export function invalidCursor(): ValidationError {
  return new ValidationError('cursor: is not a cursor returned by this API', 'cursor');
}
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The opaque cursor for the page after `key`: base64url of {"createdAt","id"}. What DynamoDB needs
 * besides (the index's fixed partition key) is the store's to add, never the client's to send.
 */
export function encodeCursor({ createdAt, id }: ProductKey): string {
  return Buffer.from(JSON.stringify({ createdAt, id })).toString('base64url');
}

/** Whether `text` is the ISO 8601 form Date.prototype.toISOString writes, and a real instant. */
function isIsoInstant(text: unknown): text is string {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(text)) return false;
  const time = Date.parse(text);
  return !Number.isNaN(time) && new Date(time).toISOString() === text;
}

/**
 * Validates a cursor completely, so whatever a client sends, the store is only ever asked to start
 * after a key this API could have issued: a canonical encoding (exactly what encodeCursor writes)
 * of exactly `createdAt` (a real instant, as the store writes it) and `id` (a lower-case UUID).
 * Throws ValidationError naming the cursor otherwise.
 */
export function decodeCursor(cursor: string): ProductKey {
  if (!BASE64URL.test(cursor)) throw invalidCursor();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const { createdAt, id, ...rest } = (typeof key === 'object' && key !== null ? key : {}) as Record<
    string,
    unknown
  >;
  const valid =
    Object.keys(rest).length === 0 &&
    isIsoInstant(createdAt) &&
    isUuid(id) &&
    id === id.toLowerCase() &&
    encodeCursor({ createdAt, id }) === cursor;
  if (!valid) throw invalidCursor();
  return { createdAt, id };
}
