import type { Context } from 'aws-lambda';
// The logger and request context modules alone: the package index also loads the OpenTelemetry SDK,
// which would add megabytes to every bundle and to every cold start.
import type { Logger } from '@twin/observability/logger';
import { setInvocationRequestId } from '@twin/observability/request-context';

export type { Logger };
type LoggerModule = typeof import('@twin/observability/logger');

/**
 * A handler's JSON logger, at `level` (LOG_LEVEL by default). Lambda sends stdout and stderr alike
 * to CloudWatch Logs; writing to stderr keeps stdout for results, so `npm run invoke` prints nothing
 * but the handler's answer there.
 */
export function handlerLogger(service: string, level = process.env.LOG_LEVEL || 'info'): Logger {
  // Loaded on this call, not with the handler's module: pino, its streams and the OpenTelemetry API
  // then cost nothing to a function that only logs on failure (handlerLoggerOnDemand).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createLogger } = require('@twin/observability/logger') as LoggerModule;
  return createLogger(service, level, process.stderr);
}

/**
 * handlerLogger, made when first asked for: a function that logs only what fails (products) keeps
 * the logger's loading out of its init and out of invocations that succeed.
 */
export function handlerLoggerOnDemand(service: string, level?: string): () => Logger {
  let logger: Logger | undefined;
  return () => (logger ??= handlerLogger(service, level));
}

/**
 * Wraps a handler so that every log line of an invocation carries its Lambda request id
 * (`request_id`), as a service's lines carry the request's x-request-id.
 */
export function withInvocationLogContext<E, R>(
  handler: (event: E, context?: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    setInvocationRequestId(context?.awsRequestId);
    try {
      return await handler(event, context);
    } finally {
      setInvocationRequestId(undefined);
    }
  };
}
