import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@twin/observability';
import { HttpError } from './errors';

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
  // The router marks a path parameter that does not decode (/products/%ff) with 400 and no `expose`.
  if (err instanceof URIError && parserError.status === 400)
    return new HttpError(400, 'URL path is not valid percent-encoded UTF-8');
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
