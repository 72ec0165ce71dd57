// Envoy clusters from the model's resolved cluster policies, the way istiod programs them
// (pilot/pkg/networking/core/cluster_traffic_policy.go: applyConnectionPool, applyOutlierDetection,
// applyLoadBalancer; cluster_tls.go for ISTIO_MUTUAL):
// - circuit_breakers: one threshold set with every limit at 2^32-1 unless the DestinationRule sets it
//   (tcp.maxConnections -> max_connections, http.http1MaxPendingRequests -> max_pending_requests,
//   http.http2MaxRequests -> max_requests, http.maxRetries -> max_retries), track_remaining on;
//   tcp.connectTimeout -> connect_timeout (the mesh's 10s otherwise); http.maxRequestsPerConnection and
//   http.idleTimeout -> the upstream HTTP protocol options;
// - outlier_detection: consecutive5xxErrors -> consecutive_5xx, consecutiveGatewayErrors ->
//   consecutive_gateway_failure, each enforced at 100% when above 0; success-rate ejection off;
//   interval, baseEjectionTime, maxEjectionPercent as given; minHealthPercent (0 by default) ->
//   healthy_panic_threshold, so an ejected host gets no traffic even when it is the last one;
// - lb_policy LEAST_REQUEST, Istio's default;
// - mTLS: the workload certificate, the mesh CA, the SPIFFE IDs the destination's pods run as, and
//   SNI `outbound_.<port>_.<subset>_.<fqdn>`.
// Compose has no endpoint discovery: endpoints are STRICT_DNS names of compose services.
import { formatDuration } from '../duration';
import type { ClusterPolicy, ResolvedConnectionPool } from '../policy';
import { type EnvoyObject, TLS_SOCKET, typeUrl } from './envoy';

/** A compose host and port an Envoy cluster sends to. */
export interface Endpoint {
  host: string;
  port: number;
}

/** The certificate files of a workload and its mesh CA, as mounted in the sidecar. */
export interface WorkloadCertificate {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** How a sidecar calls a peer sidecar: its own certificate, and the identities the peer may have. */
export interface UpstreamMtls extends WorkloadCertificate {
  /** The peer's SPIFFE IDs (`spiffe://cluster.local/ns/<ns>/sa/<sa>`). */
  peerIdentities: string[];
}

const strictDns = (name: string, endpoints: Endpoint[], connectTimeoutMs: number): EnvoyObject => ({
  name,
  type: 'STRICT_DNS',
  dns_lookup_family: 'V4_ONLY',
  connect_timeout: formatDuration(connectTimeoutMs),
  load_assignment: {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: endpoints.map(({ host, port }) => ({
          endpoint: { address: { socket_address: { address: host, port_value: port } } },
        })),
      },
    ],
  },
});

/** Istio's circuit breaker and upstream HTTP options for a resolved connection pool. */
function connectionPool(pool: ResolvedConnectionPool): EnvoyObject {
  const http: EnvoyObject = {
    ...(pool.maxRequestsPerConnection > 0 && { max_requests_per_connection: pool.maxRequestsPerConnection }),
    ...(pool.idleTimeoutMs !== undefined && { idle_timeout: formatDuration(pool.idleTimeoutMs) }),
  };
  return {
    circuit_breakers: {
      thresholds: [
        {
          max_connections: pool.maxConnections,
          max_pending_requests: pool.http1MaxPendingRequests,
          max_requests: pool.http2MaxRequests,
          max_retries: pool.maxRetries,
          track_remaining: true,
        },
      ],
    },
    ...(Object.keys(http).length && {
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': typeUrl('envoy.extensions.upstreams.http.v3.HttpProtocolOptions'),
          common_http_protocol_options: http,
          explicit_http_config: { http_protocol_options: {} },
        },
      },
    }),
  };
}

/** A DownstreamTlsContext/UpstreamTlsContext's common part: the workload certificate and the CA. */
export const commonTlsContext = (cert: WorkloadCertificate, extra: EnvoyObject = {}): EnvoyObject => ({
  tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
  tls_certificates: [
    { certificate_chain: { filename: cert.certFile }, private_key: { filename: cert.keyFile } },
  ],
  validation_context: { trusted_ca: { filename: cert.caFile }, ...extra },
});

/** Istio's SNI for a subset cluster: `outbound|80|v1|backend...` -> `outbound_.80_.v1_.backend...`. */
export const istioSni = (clusterName: string): string => clusterName.split('|').join('_.');

function upstreamTls(clusterName: string, mtls: UpstreamMtls): EnvoyObject {
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': typeUrl('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext'),
      sni: istioSni(clusterName),
      common_tls_context: commonTlsContext(mtls, {
        match_typed_subject_alt_names: mtls.peerIdentities.map((id) => ({
          san_type: 'URI',
          matcher: { exact: id },
        })),
      }),
    },
  };
}

export interface OutboundClusterOptions {
  /** Mutual TLS to the peer's sidecar; none: plaintext (a service without a sidecar). */
  mtls?: UpstreamMtls;
  /**
   * Let outlier detection eject a cluster's only host even when that exceeds max_ejection_percent
   * (Envoy's always_eject_one_host). Istio has no such setting; compose runs one container per version.
   */
  ejectSingleHost?: boolean;
}

/** An outbound cluster with the DestinationRule's traffic policy. */
export function outboundCluster(
  policy: ClusterPolicy,
  endpoints: Endpoint[],
  { mtls, ejectSingleHost = false }: OutboundClusterOptions = {},
): EnvoyObject {
  const od = policy.outlierDetection;
  return {
    ...strictDns(policy.name, endpoints, policy.connectionPool.connectTimeoutMs),
    lb_policy: 'LEAST_REQUEST',
    ...connectionPool(policy.connectionPool),
    ...(od && {
      outlier_detection: {
        consecutive_5xx: od.consecutive5xxErrors,
        enforcing_consecutive_5xx: od.consecutive5xxErrors > 0 ? 100 : 0,
        ...(od.consecutiveGatewayErrors > 0 && { consecutive_gateway_failure: od.consecutiveGatewayErrors }),
        enforcing_consecutive_gateway_failure: od.consecutiveGatewayErrors > 0 ? 100 : 0,
        enforcing_success_rate: 0,
        interval: formatDuration(od.intervalMs),
        base_ejection_time: formatDuration(od.baseEjectionTimeMs),
        max_ejection_percent: od.maxEjectionPercent,
        ...(ejectSingleHost &&
          endpoints.length === 1 &&
          od.maxEjectionPercent < 100 && { always_eject_one_host: true }),
      },
      common_lb_config: { healthy_panic_threshold: { value: od.minHealthPercent } },
    }),
    ...(mtls && { transport_socket: upstreamTls(policy.name, mtls) }),
  };
}

/**
 * The inbound cluster to the app beside the sidecar, `inbound|<port>||`: Istio gives it the default
 * connection pool (a DestinationRule without workloadSelector does not reach inbound clusters).
 */
export function inboundCluster(name: string, app: Endpoint, pool: ResolvedConnectionPool): EnvoyObject {
  return { ...strictDns(name, [app], pool.connectTimeoutMs), ...connectionPool(pool) };
}

/** A plain cluster for what is not a mesh service (Jaeger); `http2` for gRPC. */
export function plainCluster(
  name: string,
  endpoint: Endpoint,
  connectTimeoutMs: number,
  http2 = false,
): EnvoyObject {
  return {
    ...strictDns(name, [endpoint], connectTimeoutMs),
    ...(http2 && {
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': typeUrl('envoy.extensions.upstreams.http.v3.HttpProtocolOptions'),
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    }),
  };
}
