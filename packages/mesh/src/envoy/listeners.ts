// The listeners of a compose sidecar and their HTTP connection managers: tracing as the Telemetry
// resource asks (OpenTelemetry to Jaeger, Istio's span service name `<app>.<namespace>` and its
// istio.* tags), a JSON access log line per request, the fault and RBAC filters where the routes and
// policies need them, and mutual TLS on the inbound side as PeerAuthentication says
// (pilot/pkg/security/authn/utils: require_client_certificate; the peer's identity is then checked by
// RBAC, not by the handshake).
import { commonTlsContext, type WorkloadCertificate } from './clusters';
import {
  type EnvoyObject,
  FAULT_FILTER,
  HCM_FILTER,
  ROUTER_FILTER,
  TCP_PROXY_FILTER,
  TLS_SOCKET,
  typed,
  typeUrl,
} from './envoy';

/** What every HTTP connection manager of one sidecar shares. */
export interface SidecarTelemetry {
  /** The sidecar's compose name, written in each access log line. */
  sidecar: string;
  /** Span service name: Istio's `<canonical service>.<namespace>`, e.g. `backend.mesh-demo`. */
  serviceName: string;
  /** Istio's span tags: canonical service and revision, namespace. */
  tags: Record<string, string>;
  /** Share of requests traced, 0-100. */
  samplingPercent: number;
  /** The OTLP/gRPC cluster spans go to. */
  collectorCluster: string;
}

export type ListenerRole = 'gateway' | 'inbound' | 'outbound';

/** The access log fields of every listener; each role adds what it alone knows. */
const LOG_FIELDS: Record<string, string> = {
  time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  status: '%RESPONSE_CODE%',
  details: '%RESPONSE_CODE_DETAILS%',
  flags: '%RESPONSE_FLAGS%',
  duration_ms: '%DURATION%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_host: '%UPSTREAM_HOST%',
  request_id: '%REQ(X-REQUEST-ID)%',
  traceparent: '%REQ(TRACEPARENT)%',
};
const ROLE_LOG_FIELDS: Record<ListenerRole, Record<string, string>> = {
  gateway: { client: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' },
  inbound: { peer_identity: '%DOWNSTREAM_PEER_URI_SAN%' },
  outbound: {
    attempts: '%UPSTREAM_REQUEST_ATTEMPT_COUNT%',
    upstream_failure: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  },
};

export interface HttpListenerOptions {
  name: string;
  port: number;
  role: ListenerRole;
  telemetry: SidecarTelemetry;
  /** The route configuration's virtual host: name, domains and routes. */
  virtualHost: { name: string; domains: string[]; routes: EnvoyObject[] };
  /** RBAC filters (inbound), run before the router. */
  rbac?: EnvoyObject[];
  /** Whether a route carries a fault: the fault filter then runs first. */
  faults?: boolean;
  /** Inbound: how the listener treats the transport, per the PeerAuthentication mode. */
  mtls?: { mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'; certificate: WorkloadCertificate };
}

function connectionManager(options: HttpListenerOptions): EnvoyObject {
  const { name, role, telemetry } = options;
  return {
    '@type': typeUrl('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'),
    stat_prefix: name,
    codec_type: 'AUTO',
    // Istio's edge: the client's address is the TCP peer; inside the mesh, paths are normalized before
    // policies read them (its default BASE normalization).
    ...(role === 'gateway' && { use_remote_address: true }),
    ...(role !== 'outbound' && { normalize_path: true }),
    // The app sees who called: Istio's sidecars append the peer's certificate details.
    ...(role === 'inbound' && {
      forward_client_cert_details: 'APPEND_FORWARD',
      set_current_client_cert_details: { subject: true, dns: true, uri: true },
    }),
    tracing: {
      random_sampling: { value: telemetry.samplingPercent },
      provider: {
        name: 'envoy.tracers.opentelemetry',
        typed_config: {
          '@type': typeUrl('envoy.config.trace.v3.OpenTelemetryConfig'),
          grpc_service: { envoy_grpc: { cluster_name: telemetry.collectorCluster } },
          service_name: telemetry.serviceName,
        },
      },
      custom_tags: Object.entries(telemetry.tags).map(([tag, value]) => ({ tag, literal: { value } })),
    },
    access_log: [
      typed('envoy.access_loggers.stdout', 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', {
        log_format: {
          json_format: {
            sidecar: telemetry.sidecar,
            listener: name,
            ...LOG_FIELDS,
            ...ROLE_LOG_FIELDS[role],
          },
        },
      }),
    ],
    route_config: { name, virtual_hosts: [options.virtualHost] },
    http_filters: [
      ...(options.faults ? [typed(FAULT_FILTER, 'envoy.extensions.filters.http.fault.v3.HTTPFault')] : []),
      ...(options.rbac ?? []),
      typed(ROUTER_FILTER, 'envoy.extensions.filters.http.router.v3.Router'),
    ],
  };
}

const address = (port: number) => ({ socket_address: { address: '0.0.0.0', port_value: port } });

function downstreamTls(certificate: WorkloadCertificate): EnvoyObject {
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': typeUrl('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext'),
      require_client_certificate: true,
      common_tls_context: commonTlsContext(certificate),
    },
  };
}

/**
 * An HTTP listener. Inbound, its filter chains follow the mTLS mode: STRICT only TLS with a client
 * certificate, PERMISSIVE TLS or plaintext told apart by the TLS inspector, DISABLE plaintext.
 */
export function httpListener(options: HttpListenerOptions): EnvoyObject {
  const filters = [{ name: HCM_FILTER, typed_config: connectionManager(options) }];
  const mode = options.mtls?.mode ?? 'DISABLE';
  const tls = options.mtls && downstreamTls(options.mtls.certificate);
  const chains =
    mode === 'STRICT'
      ? [{ transport_socket: tls, filters }]
      : mode === 'PERMISSIVE'
        ? [
            { filter_chain_match: { transport_protocol: 'tls' }, transport_socket: tls, filters },
            { filter_chain_match: { transport_protocol: 'raw_buffer' }, filters },
          ]
        : [{ filters }];
  return {
    name: options.name,
    address: address(options.port),
    traffic_direction: options.role === 'outbound' ? 'OUTBOUND' : 'INBOUND',
    ...(mode === 'PERMISSIVE' && {
      listener_filters: [
        typed(
          'envoy.filters.listener.tls_inspector',
          'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
        ),
      ],
    }),
    filter_chains: chains,
  };
}

/** A listener that passes bytes through to one cluster, untraced (the apps' own OTLP exports). */
export function tcpListener(name: string, port: number, cluster: string): EnvoyObject {
  return {
    name,
    address: address(port),
    traffic_direction: 'OUTBOUND',
    filter_chains: [
      {
        filters: [
          typed(TCP_PROXY_FILTER, 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', {
            stat_prefix: name,
            cluster,
          }),
        ],
      },
    ],
  };
}

/** A listener's name, also its stat prefix: Istio's `<direction>_0.0.0.0_<port>` form. */
export const listenerName = (role: ListenerRole, port: number): string => `${role}_0.0.0.0_${port}`;
