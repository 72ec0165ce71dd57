import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON logs whose lines carry the active span's trace_id and span_id, so logs and traces join up;
 * to stdout unless a destination is given.
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
      const context = trace.getActiveSpan()?.spanContext();
      if (!context || !isSpanContextValid(context)) return {};
      const { traceId, spanId, traceFlags } = context;
      return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` };
    },
  };
  // stdout written synchronously: each line is out before the next statement, and nothing is left to
  // flush at exit, where pino's asynchronous writer retries forever into a pipe whose reader is gone
  // (a launcher that died); on a broken pipe pino stops writing instead.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
