import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from './request-context';

export type { Logger } from 'pino';

/**
 * JSON logs whose lines carry the active span's trace_id and span_id, so logs and traces join up,
 * and the id of the request being served (`request_id`: x-request-id in a service, the Lambda
 * request id in a function), so every line of one request can be found.
 */
export function createLogger(
  service: string,
  level = process.env.LOG_LEVEL || 'info',
  destination?: DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const requestId = currentRequestId();
      const request = requestId ? { request_id: requestId } : {};
      const context = trace.getActiveSpan()?.spanContext();
      if (!context || !isSpanContextValid(context)) return request;
      const { traceId, spanId, traceFlags } = context;
      return { ...request, trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` };
    },
  };
  // stdout written synchronously: each line is out before the next statement, and nothing is left to
  // flush at exit, where pino's asynchronous writer retries forever into a pipe whose reader is gone
  // (a launcher that died); on a broken pipe pino stops writing instead.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
