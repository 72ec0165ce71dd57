// One JSON line per request, with the fields and the response flags of Istio's JSON access log
// format (istio.io/latest/docs/tasks/observability/logs/access-log/; flags as in
// www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#command-operators).
// As every sidecar of the local data plane shares one process, each line also names its `proxy`.

/** Envoy's response flags this data plane sets. */
export const RESPONSE_FLAGS = {
  /** No healthy upstream host. */
  noHealthyUpstream: 'UH',
  /** Upstream connection failure. */
  upstreamConnectionFailure: 'UF',
  /** Upstream overflow: the circuit breaker's pending queue was full. */
  upstreamOverflow: 'UO',
  /** No route configured for the request. */
  noRouteFound: 'NR',
  /** Upstream retry limit exceeded. */
  upstreamRetryLimitExceeded: 'URX',
  /** Upstream request timeout (route or per try). */
  upstreamRequestTimeout: 'UT',
  /** Upstream remote reset: the connection ended before a whole answer. */
  upstreamRemoteReset: 'UR',
  /** Downstream connection termination: the client went away. */
  downstreamConnectionTermination: 'DC',
  /** The request was aborted by fault injection. */
  faultInjected: 'FI',
  /** The request was delayed by fault injection. */
  delayInjected: 'DI',
} as const;
export type ResponseFlag = (typeof RESPONSE_FLAGS)[keyof typeof RESPONSE_FLAGS];

/** What one request did, as the access log records it. */
export interface AccessLogEntry {
  proxy: string;
  startTime: Date;
  method: string;
  path: string;
  authority?: string;
  status: number;
  flags: ResponseFlag[];
  /** Envoy's %RESPONSE_CODE_DETAILS%, e.g. `via_upstream`, `upstream_reset_before_response_started{connection_failure}`. */
  details: string;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  upstreamServiceTimeMs?: number;
  upstreamCluster?: string;
  upstreamHost?: string;
  attempts?: number;
  requestId?: string;
  traceparent?: string;
  routeName?: string;
  downstreamRemoteAddress?: string;
  downstreamPeer?: string;
  userAgent?: string;
}

const orDash = (value: string | number | undefined) => (value === undefined || value === '' ? '-' : value);

/** The entry as one JSON line, Istio's keys, `-` for what is unknown as Envoy writes it. */
export function formatAccessLog(entry: AccessLogEntry): string {
  return JSON.stringify({
    start_time: entry.startTime.toISOString(),
    proxy: entry.proxy,
    method: entry.method,
    path: entry.path,
    protocol: 'HTTP/1.1',
    response_code: entry.status,
    response_flags: entry.flags.length ? [...new Set(entry.flags)].join(',') : '-',
    response_code_details: entry.details,
    bytes_received: entry.bytesReceived,
    bytes_sent: entry.bytesSent,
    duration: Math.round(entry.durationMs),
    upstream_service_time: orDash(
      entry.upstreamServiceTimeMs === undefined ? undefined : Math.round(entry.upstreamServiceTimeMs),
    ),
    upstream_cluster: orDash(entry.upstreamCluster),
    upstream_host: orDash(entry.upstreamHost),
    upstream_request_attempt_count: entry.attempts ?? 0,
    route_name: orDash(entry.routeName),
    authority: orDash(entry.authority),
    request_id: orDash(entry.requestId),
    traceparent: orDash(entry.traceparent),
    downstream_remote_address: orDash(entry.downstreamRemoteAddress),
    downstream_peer_uri_san: orDash(entry.downstreamPeer),
    user_agent: orDash(entry.userAgent),
  });
}
