// Where the local stack's services send their traces: the launcher's own trace store, unless the
// user names an OTLP endpoint (a real Jaeger, a collector) or another exporter.
import { startTraceThread, type TraceThread } from './thread';

export interface StackTracing {
  /** Every service's tracing variables. */
  env: Record<string, string>;
  /** The local trace store, when the traces go there. */
  store?: TraceThread;
}

/**
 * Starts the local trace store on `store.host:store.port` and points the services at it (OTLP/HTTP, batches
 * exported every second), unless `env` names an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or an exporter other than otlp (OTEL_TRACES_EXPORTER): then
 * the services follow those variables, and without an endpoint or a store tracing is off.
 */
export async function stackTracing(
  env: Record<string, string | undefined>,
  store: { port: number; host: string } | undefined,
  onStoreExit: (reason: string) => void,
): Promise<StackTracing> {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (exporter && exporter !== 'otlp') return { env: { OTEL_TRACES_EXPORTER: exporter } };
  if (endpoint) return { env: { OTEL_TRACES_EXPORTER: 'otlp' } };
  if (!store) return { env: { OTEL_TRACES_EXPORTER: 'none' } };
  const thread = await startTraceThread({ ...store, onExit: onStoreExit });
  return {
    env: {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: thread.url,
      // The SDK's default waits 5 s; a second keeps the page's traces fresh at the same batching.
      OTEL_BSP_SCHEDULE_DELAY: env.OTEL_BSP_SCHEDULE_DELAY ?? '1000',
    },
    store: thread,
  };
}
