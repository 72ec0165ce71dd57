import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER } from './request-context';

const expectedAnswers = new WeakSet<ServerResponse>();

/**
 * Marks a 4xx answer as an ordinary outcome of its route, logged at info as a success is rather than at
 * warn: e.g. 404 for a thumbnail still being made, which the web page asks for every second until it is
 * there. Call it before the answer is sent.
 */
export function expectedAnswer(res: ServerResponse): void {
  expectedAnswers.add(res);
}

/**
 * One log line per request, with its status, duration and request id: error for 5xx, warn for other
 * 4xx than those marked with expectedAnswer, info for the rest; probes log at debug.
 */
export function requestLogging(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage) => String(req.headers[REQUEST_ID_HEADER] ?? ''),
    customLogLevel: (req: IncomingMessage, res: ServerResponse, err?: Error) => {
      if (err || res.statusCode >= 500) return 'error';
      if (req.url === '/healthz' || req.url === '/readyz') return 'debug';
      return res.statusCode >= 400 && !expectedAnswers.has(res) ? 'warn' : 'info';
    },
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
