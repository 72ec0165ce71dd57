import { isUtf8 } from 'node:buffer';
import { finished } from 'node:stream';
import express, { type RequestHandler } from 'express';
import getRawBody from 'raw-body';
import { HttpError } from './errors';

/**
 * The body as text, for routes that parse it themselves: any content type, at most `limit` bytes
 * after decompression, and, unless the client declared another charset, valid UTF-8. JSON must be
 * UTF-8, and a lenient decoder would turn bytes it cannot read into U+FFFD and store those instead
 * of refusing the request.
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

/**
 * The body's bytes exactly as they arrived, as a Buffer in `req.body`, for routes whose core reads
 * them itself, as a Lambda function behind API Gateway gets them: whatever the Content-Type, never
 * decoded nor decompressed. Past `limit` bytes it fails with 413 (raw-body's `entity.too.large`,
 * which errorHandler answers as "request body is larger than <limit> bytes"), once the rest of the
 * body has been read: as body-parser does, because a response sent while the client is still writing
 * resets its connection (ECONNRESET) and the client never sees the 413.
 */
export function rawBody(limit: number): RequestHandler {
  return (req, _res, next) => {
    getRawBody(req, { length: req.headers['content-length'], limit }).then(
      (body) => {
        req.body = body;
        next();
      },
      (err: unknown) => {
        finished(req, () => next(err));
        req.resume();
      },
    );
  };
}
