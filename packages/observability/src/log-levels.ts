// Apart from the logger, so configuration readers (a Lambda function's included) name the levels
// without loading pino.

/** pino's levels, and `silent` for none: the values LOG_LEVEL takes everywhere. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
