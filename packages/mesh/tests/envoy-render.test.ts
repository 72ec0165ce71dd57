/**
 * The compose renderer translates Istio resources as istiod does. Each case starts from the repository's
 * configuration, replaces the resources it is about with its own, and checks the Envoy config that comes out.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AuthorizationPolicy,
  COMPOSE,
  type DestinationRule,
  loadMeshConfig,
  type MeshConfig,
  MeshConfigError,
  type PeerAuthentication,
  UnsupportedPolicyError,
  type VirtualService,
} from '@twin/mesh';
import { renderComposeSidecars } from '../src/envoy/render';
import { DEFAULT_SAMPLING_PERCENT, tracingSamplingPercent } from '../src/envoy/telemetry';

const ROOT = path.resolve(__dirname, '../../..');
const base = loadMeshConfig({ root: ROOT, stage: 'canary-10' });
const V1 = 'outbound|80|v1|backend.mesh-demo.svc.cluster.local';
const V2 = 'outbound|80|v2|backend.mesh-demo.svc.cluster.local';

// ---- reading the rendered configs

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function render(config: MeshConfig, options: { ejectSingleHost?: boolean } = {}) {
  return Object.fromEntries(
    renderComposeSidecars(config, { samplingPercent: 100, ...options }).map((r) => [
      r.sidecar,
      r.config as Any,
    ]),
  );
}
const listener = (sidecar: Any, name: string): Any =>
  sidecar.static_resources.listeners.find((l: Any) => l.name === name);
const manager = (l: Any): Any => l.filter_chains[0].filters[0].typed_config;
const routes = (l: Any): Any[] => manager(l).route_config.virtual_hosts[0].routes;
const cluster = (sidecar: Any, name: string): Any =>
  sidecar.static_resources.clusters.find((c: Any) => c.name === name);
const backendRoutes = (config: MeshConfig) =>
  routes(listener(render(config)['frontend-envoy']!, 'outbound_0.0.0.0_9080'));

// ---- building inputs

const meta = { namespace: 'mesh-demo' };
function withBackendRoutes(http: VirtualService['spec']['http']): MeshConfig {
  const vs: VirtualService = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'backend', ...meta },
    spec: { hosts: ['backend'], http },
  };
  return {
    ...base,
    virtualServices: [vs, ...base.virtualServices.filter((v) => v.metadata.name !== 'backend')],
  };
}
const split = (v1: number, v2: number) => [
  { destination: { host: 'backend', subset: 'v1' }, weight: v1 },
  { destination: { host: 'backend', subset: 'v2' }, weight: v2 },
];
function withBackendRule(trafficPolicy: DestinationRule['spec']['trafficPolicy']): MeshConfig {
  const dr: DestinationRule = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'backend', ...meta },
    spec: { host: 'backend', trafficPolicy, subsets: base.destinationRules[0]!.spec.subsets },
  };
  return { ...base, destinationRules: [dr] };
}
const previousHosts = {
  name: 'envoy.retry_host_predicates.previous_hosts',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
  },
};

describe('VirtualService routes', () => {
  it('gives reads and writes the retries the VirtualService says, one Envoy route per match', () => {
    const out = backendRoutes(
      withBackendRoutes([
        {
          name: 'reads',
          match: [{ method: { exact: 'GET' } }, { method: { exact: 'HEAD' } }],
          route: split(90, 10),
          timeout: '4s',
          retries: {
            attempts: 2,
            perTryTimeout: '1.5s',
            retryOn: '5xx,reset,connect-failure,refused-stream',
          },
        },
        {
          name: 'writes',
          route: split(90, 10),
          timeout: '4s',
          retries: { attempts: 2, perTryTimeout: '4s', retryOn: 'connect-failure,refused-stream' },
        },
      ]),
    );
    expect(out.map((r) => [r.name, r.match])).toEqual([
      ['reads', { prefix: '/', headers: [{ name: ':method', string_match: { exact: 'GET' } }] }],
      ['reads', { prefix: '/', headers: [{ name: ':method', string_match: { exact: 'HEAD' } }] }],
      ['writes', { prefix: '/' }],
    ]);
    expect(out[0]!.route).toEqual({
      weighted_clusters: {
        clusters: [
          { name: V1, weight: 90 },
          { name: V2, weight: 10 },
        ],
      },
      timeout: '4s',
      retry_policy: {
        retry_on: '5xx,reset,connect-failure,refused-stream',
        num_retries: 2,
        per_try_timeout: '1.5s',
        retry_host_predicate: [previousHosts],
        host_selection_retry_max_attempts: 5,
      },
    });
    expect(out[2]!.route.retry_policy).toMatchObject({
      retry_on: 'connect-failure,refused-stream',
      per_try_timeout: '4s',
    });
    expect(out[2]!.decorator).toEqual({ operation: 'backend:80/*' });
  });

  it("uses Istio's default retries without `retries`, none at attempts 0, and status codes from retryOn", () => {
    const [none, off, codes] = backendRoutes(
      withBackendRoutes([
        { name: 'a', match: [{ uri: { prefix: '/a' } }], route: split(50, 50) },
        { name: 'b', match: [{ uri: { prefix: '/b' } }], route: split(50, 50), retries: { attempts: 0 } },
        { name: 'c', route: split(50, 50), retries: { attempts: 3, retryOn: '503,connect-failure' } },
      ]),
    );
    expect(none!.route.retry_policy).toEqual({
      retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      num_retries: 2,
      retry_host_predicate: [previousHosts],
      host_selection_retry_max_attempts: 5,
      retriable_status_codes: [503],
    });
    expect(none!.route.timeout).toBe('0s');
    expect(off!.route.retry_policy).toBeUndefined();
    expect(codes!.route.retry_policy).toMatchObject({
      retry_on: 'connect-failure,retriable-status-codes',
      num_retries: 3,
      retriable_status_codes: [503],
    });
  });

  it('leaves a 0-weight destination out of the split, but keeps its cluster', () => {
    const config = withBackendRoutes([{ name: 'all', route: split(0, 100) }]);
    const [route] = backendRoutes(config);
    expect(route!.route.weighted_clusters).toEqual({ clusters: [{ name: V2, weight: 100 }] });
    expect(cluster(render(config)['frontend-envoy']!, V1)).toBeDefined();
  });

  it('routes a single destination to its cluster, named after the host', () => {
    const [route] = backendRoutes(
      withBackendRoutes([{ route: [{ destination: { host: 'backend', subset: 'v2' } }] }]),
    );
    expect(route).toMatchObject({
      name: 'backend-0',
      route: { cluster: V2 },
      decorator: { operation: 'backend.mesh-demo.svc.cluster.local:80/*' },
    });
  });

  it('translates uri, header and method matches, and stops after a route that takes everything', () => {
    const out = backendRoutes(
      withBackendRoutes([
        {
          name: 'api',
          match: [
            {
              name: 'one',
              uri: { regex: '/products/[0-9a-f-]+' },
              headers: { 'x-b': { prefix: 'b' }, 'x-a': { exact: 'a' } },
              method: { exact: 'DELETE' },
            },
            { uri: { exact: '/version' }, ignoreUriCase: true },
          ],
          route: split(100, 0),
        },
        { name: 'rest', route: split(0, 100) },
        { name: 'unreachable', route: split(50, 50) },
      ]),
    );
    expect(out.map((r) => r.name)).toEqual(['api.one', 'api', 'rest']);
    expect(out[0]!.match).toEqual({
      safe_regex: { regex: '/products/[0-9a-f-]+' },
      headers: [
        { name: 'x-a', string_match: { exact: 'a' } },
        { name: 'x-b', string_match: { prefix: 'b' } },
        { name: ':method', string_match: { exact: 'DELETE' } },
      ],
    });
    expect(out[0]!.decorator).toEqual({ operation: 'backend:80/products/[0-9a-f-]+' });
    expect(out[1]!.match).toEqual({ path: '/version', case_sensitive: false });
  });

  it('injects faults through the fault filter, percentages in parts per million', () => {
    const config = withBackendRoutes([
      {
        name: 'faulty',
        route: split(90, 10),
        fault: { delay: { fixedDelay: '2s', percentage: { value: 12.5 } }, abort: { httpStatus: 503 } },
      },
    ]);
    const outbound = listener(render(config)['frontend-envoy']!, 'outbound_0.0.0.0_9080');
    expect(manager(outbound).http_filters.map((f: Any) => f.name)).toEqual([
      'envoy.filters.http.fault',
      'envoy.filters.http.router',
    ]);
    expect(routes(outbound)[0]!.typed_per_filter_config).toEqual({
      'envoy.filters.http.fault': {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
        delay: { fixed_delay: '2s', percentage: { numerator: 125_000, denominator: 'MILLION' } },
        abort: { http_status: 503, percentage: { numerator: 0, denominator: 'MILLION' } },
      },
    });
    // The other listeners need no fault filter.
    const minio = listener(render(config)['frontend-envoy']!, 'outbound_0.0.0.0_9000');
    expect(manager(minio).http_filters.map((f: Any) => f.name)).toEqual(['envoy.filters.http.router']);
  });
});

describe('DestinationRule clusters', () => {
  const frontendCluster = (config: MeshConfig, name = V2, options = {}) =>
    cluster(render(config, options)['frontend-envoy']!, name);

  it('maps the connection pool to circuit breakers, connect timeout and HTTP protocol options', () => {
    const c = frontendCluster(
      withBackendRule({
        connectionPool: {
          tcp: { maxConnections: 7, connectTimeout: '250ms' },
          http: {
            http1MaxPendingRequests: 3,
            http2MaxRequests: 9,
            maxRetries: 4,
            maxRequestsPerConnection: 1,
            idleTimeout: '90s',
          },
        },
      }),
    );
    expect(c).toMatchObject({
      connect_timeout: '0.25s',
      lb_policy: 'LEAST_REQUEST',
      circuit_breakers: {
        thresholds: [
          {
            max_connections: 7,
            max_pending_requests: 3,
            max_requests: 9,
            max_retries: 4,
            track_remaining: true,
          },
        ],
      },
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          common_http_protocol_options: { max_requests_per_connection: 1, idle_timeout: '90s' },
        },
      },
    });
    expect(c.outlier_detection).toBeUndefined();
    expect(c.common_lb_config).toBeUndefined();
  });

  it('maps outlier detection as Istio does: each error count enforced only when above 0, panic routing per minHealthPercent', () => {
    const c = frontendCluster(
      withBackendRule({
        outlierDetection: {
          consecutive5xxErrors: 0,
          interval: '1s',
          baseEjectionTime: '2m',
          minHealthPercent: 20,
        },
      }),
    );
    expect(c.outlier_detection).toEqual({
      consecutive_5xx: 0,
      enforcing_consecutive_5xx: 0,
      enforcing_consecutive_gateway_failure: 0,
      enforcing_success_rate: 0,
      interval: '1s',
      base_ejection_time: '120s',
      max_ejection_percent: 10,
      always_eject_one_host: true,
    });
    expect(c.common_lb_config).toEqual({ healthy_panic_threshold: { value: 20 } });
    const gateway = frontendCluster(withBackendRule({ outlierDetection: { consecutiveGatewayErrors: 3 } }));
    expect(gateway.outlier_detection).toMatchObject({
      consecutive_5xx: 5,
      enforcing_consecutive_5xx: 100,
      consecutive_gateway_failure: 3,
      enforcing_consecutive_gateway_failure: 100,
    });
    expect(gateway.common_lb_config).toEqual({ healthy_panic_threshold: { value: 0 } });
  });

  it('ejects a single host past max_ejection_percent only when asked to, and never at 100%', () => {
    const rule = withBackendRule({ outlierDetection: { maxEjectionPercent: 50 } });
    expect(
      frontendCluster(rule, V2, { ejectSingleHost: false }).outlier_detection.always_eject_one_host,
    ).toBeUndefined();
    const all = withBackendRule({ outlierDetection: { maxEjectionPercent: 100 } });
    expect(frontendCluster(all).outlier_detection.always_eject_one_host).toBeUndefined();
  });

  it("gives a host without DestinationRule Istio's unlimited pool and the mesh's 10s connect timeout", () => {
    const c = cluster(render(base)['frontend-envoy']!, 'outbound|9000||minio.mesh-demo.svc.cluster.local');
    expect(c).toMatchObject({
      connect_timeout: '10s',
      circuit_breakers: {
        thresholds: [
          {
            max_connections: 4294967295,
            max_pending_requests: 4294967295,
            max_requests: 4294967295,
            max_retries: 4294967295,
          },
        ],
      },
    });
    expect(c.outlier_detection).toBeUndefined();
    expect(c.transport_socket).toBeUndefined(); // MinIO has no sidecar in compose
  });
});

describe('mutual TLS and authorization', () => {
  function withPeerAuthentication(mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): MeshConfig {
    const pa: PeerAuthentication = {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'backend', ...meta },
      spec: { selector: { matchLabels: { app: 'backend' } }, mtls: { mode } },
    };
    return { ...base, peerAuthentications: [...base.peerAuthentications, pa] };
  }
  const inbound = (config: MeshConfig) =>
    listener(render(config)['backend-v1-envoy']!, 'inbound_0.0.0.0_8443');

  it('calls a sidecar over mTLS with its own certificate, expecting the SPIFFE ID of the peer', () => {
    expect(cluster(render(base)['frontend-envoy']!, V1).transport_socket.typed_config).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      sni: 'outbound_.80_.v1_.backend.mesh-demo.svc.cluster.local',
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
        tls_certificates: [
          {
            certificate_chain: { filename: `${COMPOSE.certDir}/frontend.crt` },
            private_key: { filename: `${COMPOSE.certDir}/frontend.key` },
          },
        ],
        validation_context: {
          trusted_ca: { filename: `${COMPOSE.certDir}/ca.crt` },
          match_typed_subject_alt_names: [
            { san_type: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/mesh-demo/sa/backend' } },
          ],
        },
      },
    });
  });

  it('follows the PeerAuthentication mode on the inbound listener, and on the callers', () => {
    const strict = inbound(base);
    expect(strict.filter_chains).toHaveLength(1);
    expect(strict.filter_chains[0].transport_socket.typed_config.require_client_certificate).toBe(true);
    expect(strict.listener_filters).toBeUndefined();

    const permissive = inbound(withPeerAuthentication('PERMISSIVE'));
    expect(permissive.listener_filters.map((f: Any) => f.name)).toEqual([
      'envoy.filters.listener.tls_inspector',
    ]);
    expect(
      permissive.filter_chains.map((c: Any) => [c.filter_chain_match, Boolean(c.transport_socket)]),
    ).toEqual([
      [{ transport_protocol: 'tls' }, true],
      [{ transport_protocol: 'raw_buffer' }, false],
    ]);

    const disabled = withPeerAuthentication('DISABLE');
    expect(inbound(disabled).filter_chains).toEqual([{ filters: expect.any(Array) }]);
    expect(cluster(render(disabled)['frontend-envoy']!, V1).transport_socket).toBeUndefined();
  });

  const policy = (name: string, spec: AuthorizationPolicy['spec']): AuthorizationPolicy => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, ...meta },
    spec: { selector: { matchLabels: { app: 'backend' } }, ...spec },
  });
  const withPolicies = (...policies: AuthorizationPolicy[]): MeshConfig => ({
    ...base,
    authorizationPolicies: policies,
  });

  it('runs DENY policies before ALLOW ones, each rule a named RBAC policy', () => {
    const config = withPolicies(
      policy('open', { rules: [{}] }),
      policy('no-deletes', {
        action: 'DENY',
        rules: [
          {
            from: [{ source: { notNamespaces: ['mesh-*'] } }],
            to: [{ operation: { methods: ['DELETE'], notPaths: ['/x*'] } }],
          },
        ],
      }),
    );
    const filters = manager(inbound(config)).http_filters as Any[];
    expect(filters.map((f) => [f.name, f.typed_config.rules?.action])).toEqual([
      ['envoy.filters.http.rbac', 'DENY'],
      ['envoy.filters.http.rbac', 'ALLOW'],
      ['envoy.filters.http.router', undefined],
    ]);
    expect(filters[0]!.typed_config.rules.policies).toEqual({
      'ns[mesh-demo]-policy[no-deletes]-rule[0]': {
        permissions: [
          {
            and_rules: {
              rules: [
                { or_rules: { rules: [{ header: { name: ':method', string_match: { exact: 'DELETE' } } }] } },
                { not_rule: { or_rules: { rules: [{ url_path: { path: { prefix: '/x' } } }] } } },
              ],
            },
          },
        ],
        principals: [
          {
            and_ids: {
              ids: [
                {
                  not_id: {
                    or_ids: {
                      ids: [
                        { authenticated: { principal_name: { safe_regex: { regex: '.*/ns/mesh-.*/.*' } } } },
                      ],
                    },
                  },
                },
              ],
            },
          },
        ],
      },
    });
    expect(filters[1]!.typed_config.rules.policies).toEqual({
      'ns[mesh-demo]-policy[open]-rule[0]': {
        permissions: [{ and_rules: { rules: [{ any: true }] } }],
        principals: [{ and_ids: { ids: [{ any: true }] } }],
      },
    });
  });

  it('adds no RBAC filter where no policy applies', () => {
    const filters = manager(inbound(withPolicies())).http_filters as Any[];
    expect(filters.map((f) => f.name)).toEqual(['envoy.filters.http.router']);
  });

  it.each([
    [{ action: 'CUSTOM' as const, provider: { name: 'opa' }, rules: [{}] }, /action CUSTOM is not rendered/],
    [
      { rules: [{ when: [{ key: 'request.headers[x]', values: ['y'] }] }] },
      /'when' conditions are not rendered/,
    ],
    [{ rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] }, /requestPrincipals need JWT/],
    [{ rules: [{ to: [{ operation: { paths: ['/products/{*}'] } }] }] }, /path templates/],
  ])('refuses what a compose sidecar cannot enforce: %j', (spec, message) => {
    const render = () => renderComposeSidecars(withPolicies(policy('odd', spec)), { samplingPercent: 100 });
    expect(render).toThrow(UnsupportedPolicyError);
    expect(render).toThrow(message);
  });
});

describe('tracing', () => {
  it("traces every listener to Jaeger with Istio's service name and tags, at the Telemetry resource's rate", () => {
    const sidecar = render(base)['backend-v2-envoy']!;
    expect(sidecar.node).toEqual({ id: 'backend-v2-envoy', cluster: 'backend.mesh-demo' });
    const tracing = manager(listener(sidecar, 'inbound_0.0.0.0_8443')).tracing;
    expect(tracing.provider.typed_config.service_name).toBe('backend.mesh-demo');
    expect(tracing.custom_tags).toContainEqual({ tag: 'istio.canonical_revision', literal: { value: 'v2' } });
    expect(
      cluster(sidecar, tracing.provider.typed_config.grpc_service.envoy_grpc.cluster_name),
    ).toMatchObject({
      load_assignment: {
        endpoints: [
          {
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: 'jaeger', port_value: 4317 } } } },
            ],
          },
        ],
      },
    });
  });

  describe('tracingSamplingPercent', () => {
    let root: string;
    beforeEach(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'telemetry-'));
      fs.mkdirSync(path.join(root, 'k8s/addons'), { recursive: true });
      fs.writeFileSync(
        path.join(root, 'k8s/addons/kustomization.yaml'),
        'resources: [other.yaml, telemetry.yaml]\n',
      );
      fs.writeFileSync(path.join(root, 'k8s/addons/other.yaml'), 'kind: ConfigMap\nmetadata: { name: x }\n');
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
    const telemetry = (tracing: string) =>
      fs.writeFileSync(
        path.join(root, 'k8s/addons/telemetry.yaml'),
        `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: mesh-default, namespace: istio-system }\nspec:\n  tracing: ${tracing}\n`,
      );

    it("reads the mesh-wide resource's randomSamplingPercentage", () => {
      telemetry('[{ randomSamplingPercentage: 25.5 }]');
      expect(tracingSamplingPercent(root)).toBe(25.5);
    });

    it("falls back to Istio's 1% without one", () => {
      telemetry('[{ providers: [{ name: jaeger }] }]');
      expect(tracingSamplingPercent(root)).toBe(DEFAULT_SAMPLING_PERCENT);
    });

    it('names file and field when the percentage is not one', () => {
      telemetry('[{ randomSamplingPercentage: 150 }]');
      expect(() => tracingSamplingPercent(root)).toThrow(MeshConfigError);
      expect(() => tracingSamplingPercent(root)).toThrow(
        'k8s/addons/telemetry.yaml: spec.tracing[0].randomSamplingPercentage: must be a number from 0 to 100',
      );
    });
  });
});
