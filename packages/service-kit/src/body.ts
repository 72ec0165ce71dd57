import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';
import { HttpError } from './errors';

/**
 * The body as text, for routes that parse it themselves (JSON, as the Lambda shells get it from API
 * Gateway): any content type, at most `limit` bytes after decompression, and, unless the client
 * declared another charset, valid UTF-8. JSON must be UTF-8, and a lenient decoder would turn bytes
 * it cannot read into U+FFFD and store those instead of refusing the request.
 */
export function textBody(limit: number): RequestHandler {
  return express.text({
    type: () => true,
    limit,
    verify: (_req, _res, body, encoding) => {
      if (/^utf-?8$/i.test(encoding) && !isUtf8(body)) {
        throw new HttpError(400, 'request body is not valid UTF-8');
      }
    },
  });
}
