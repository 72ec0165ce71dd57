import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@twin/observability';
import { HttpError } from './errors';

/**
 * Keeps a path segment that is not valid percent-encoded UTF-8 (`%ff`, a lone `%`) as the text it
 * came as, by escaping its `%`s, where Express's router would refuse the whole request before any
 * route. The Lambda shell's API Gateway emulation does the same with a path parameter it cannot
 * decode, so both shells hand the route the same text to judge (`/products/%ff`: "id: must be a
 * UUID"). Only `req.url` changes; `req.originalUrl` stays as the client sent it.
 */
export const keepUndecodableSegments: RequestHandler = (req, _res, next) => {
  const queryAt = req.url.indexOf('?');
  const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
  if (path.includes('%')) {
    const kept = path
      .split('/')
      .map((segment) => {
        try {
          decodeURIComponent(segment);
          return segment;
        } catch {
          return segment.replaceAll('%', '%25');
        }
      })
      .join('/');
    if (kept !== path) req.url = kept + (queryAt === -1 ? '' : req.url.slice(queryAt));
  }
  next();
};

/** Unknown routes get a JSON 404 like every other error. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, `no route for ${req.method} ${req.path}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  limit?: number;
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const parserError = err as BodyParserError;
  if (parserError?.type === 'entity.too.large') {
    return new HttpError(413, `request body is larger than ${parserError.limit} bytes`);
  }
  if (parserError?.type === 'entity.parse.failed')
    return new HttpError(400, 'request body is not valid JSON');
  if (parserError?.expose && typeof parserError.status === 'number' && parserError.status < 500) {
    return new HttpError(parserError.status, (err as Error).message);
  }
  return new HttpError(500, 'internal error');
}

/** JSON errors; details of unexpected failures go to the log, never to the client. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const httpError = toHttpError(err);
    if (httpError.status >= 500)
      logger.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(httpError.status).json(httpError);
  };
}
