export { LOG_LEVELS, type LogLevel } from './log-levels';
export { createLogger, type Logger } from './logger';
export {
  currentRequestId,
  forwardedHeaders,
  REQUEST_ID_HEADER,
  requestContext,
  setInvocationRequestId,
} from './request-context';
export { requestLogging } from './request-logging';
export { readTracingSettings, TracingSettingsError, type TracingSettings } from './settings';
export { TRACE_RESPONSE_HEADER, traceResponse, traceResponseValue } from './trace-response';
export { isTracingOn, shutdownTracing, startTracing, type TracingOptions } from './tracing';
