// The logger entry point alone: the package index also loads the OpenTelemetry SDK, which would add
// megabytes to every bundle and to every cold start.
import { createLogger, type Logger } from '@twin/observability/logger';

export type { Logger };

/**
 * A handler's JSON logger. Lambda sends stdout and stderr alike to CloudWatch Logs; writing to
 * stderr keeps stdout for results, so `npm run invoke` prints nothing but the handler's answer there.
 */
export function handlerLogger(service: string): Logger {
  return createLogger(service, process.env.LOG_LEVEL || 'info', process.stderr);
}
