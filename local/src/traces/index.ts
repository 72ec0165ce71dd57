export {
  type JaegerKeyValue,
  type JaegerReference,
  type JaegerSpan,
  type JaegerTrace,
  toJaegerTrace,
} from './jaeger-json';
export { DEFAULT_LIMITS, type SpanLimits, type StoreLimits, type TraceStoreLimits } from './limits';
export { OtlpError, readOtlpJson } from './otlp';
export { startTraceServer, type TraceServer, type TraceServerOptions } from './server';
export { type StoreStats, type StoredTrace, TraceStore, type TraceQuery } from './store';
export { startTraceThread, type ThreadStats, type TraceThread, type TraceThreadOptions } from './thread';
export { type StackTracing, stackTracing } from './stack-tracing';
