export { createLogger, type Logger } from './logger';
export { currentRequestId, forwardedHeaders, REQUEST_ID_HEADER, requestContext } from './request-context';
export { requestLogging } from './request-logging';
export { readTracingSettings, TracingSettingsError, type TracingSettings } from './settings';
export { TRACE_RESPONSE_HEADER, traceResponse, traceResponseValue } from './trace-response';
export { shutdownTracing, startTracing, type TracingOptions } from './tracing';
