import { ValidationError } from './errors';

/** Opaque pagination cursor: DynamoDB's LastEvaluatedKey, which for this table is just the id. */
export function encodeCursor(lastKey: Record<string, unknown> | undefined): string | undefined {
  if (!lastKey || typeof lastKey.id !== 'string') return undefined;
  return Buffer.from(JSON.stringify({ id: lastKey.id })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { id: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object' && typeof (key as { id?: unknown }).id === 'string') {
      return { id: (key as { id: string }).id };
    }
  } catch {
    // falls through to the error below
  }
  throw new ValidationError('cursor: is not a cursor returned by this API', 'cursor');
}
