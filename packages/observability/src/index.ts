export { createLogger, type Logger } from './logger';
export { forwardedHeaders, requestContext } from './request-context';
export { expectedAnswer, requestLogging } from './request-logging';
export { traceResponse } from './trace-response';
export { shutdownTracing, startTracing, type TracingOptions } from './tracing';
