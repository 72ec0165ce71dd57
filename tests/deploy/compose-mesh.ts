/**
 * docker-compose.yml and the Envoy configs it mounts, read the way compose and Envoy read them, plus the
 * consistency checks between the two. Every check returns the problems it finds (empty when all holds), so
 * a test can break a copy of the parsed files and see the check name what broke. What the configs say
 * (routes, retries, circuit breakers...) is the renderer's and is checked against a fresh render; these
 * checks are about what holds the deployment together.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { COMPOSE, spiffeIdOf } from '@twin/mesh';
import YAML from 'yaml';
import { rbacAllows, type RbacRequest, rbacFiltersOf } from './envoy-rbac';

export const ROOT = path.resolve(__dirname, '../..');

// ---------------------------------------------------------------- compose

export type Env = Record<string, string | undefined>;

export interface PortSpec {
  target: number;
  published?: string | number;
  host_ip?: string;
  protocol?: string;
}

export interface VolumeSpec {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean };
}

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  expose?: Array<string | number>;
  ports?: Array<PortSpec | string>;
  networks?: string[] | Record<string, unknown>;
  volumes?: Array<VolumeSpec | string>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  profiles?: string[];
  deploy?: { resources?: { limits?: { memory?: string } } };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean } | null>;
  volumes?: Record<string, unknown>;
}

/** Compose's variable substitution: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}. */
export function interpolate(text: string, env: Env): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      whole,
      braced: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare) as string;
      const value = env[name];
      if (!op) return value ?? '';
      const missing = op.startsWith(':') ? !value : value === undefined;
      if (op.endsWith('?') && missing) throw new Error(`compose: ${name} is required: ${arg}`);
      return missing && op.endsWith('-') ? (arg ?? '') : (value ?? '');
    },
  );
}

function interpolateDeep<T>(value: T, env: Env): T {
  if (typeof value === 'string') return interpolate(value, env) as T;
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)])) as T;
  }
  return value;
}

export const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

/** The compose file as `docker compose config` would see it: merge keys resolved, variables substituted. */
export function loadCompose(env: Env = {}, file = COMPOSE_FILE): ComposeFile {
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'), { merge: true }) as ComposeFile;
  return interpolateDeep(doc, env);
}

export const list = <T>(value: T[] | T | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export const networksOf = (service: ComposeService): string[] =>
  Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? { default: null });

export const dependsOn = (service: ComposeService): Record<string, { condition?: string }> =>
  Array.isArray(service.depends_on)
    ? Object.fromEntries(service.depends_on.map((name) => [name, { condition: 'service_started' }]))
    : (service.depends_on ?? {});

export const envOf = (service: ComposeService): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
  );

export function bindMounts(service: ComposeService): VolumeSpec[] {
  return list(service.volumes).map((volume) => {
    if (typeof volume !== 'string') return volume;
    const [source = '', target = '', mode = ''] = volume.split(':');
    const isPath = source.startsWith('.') || source.startsWith('/');
    return { type: isPath ? 'bind' : 'volume', source, target, read_only: mode.split(',').includes('ro') };
  });
}

export function publishedPorts(service: ComposeService): PortSpec[] {
  return list(service.ports).map((port) => {
    if (typeof port !== 'string') return port;
    const parts = port.split(':');
    const target = Number(parts.pop());
    return { target, published: parts.pop(), host_ip: parts.pop() };
  });
}

export const isSidecar = (service: ComposeService): boolean =>
  (service.image ?? '').startsWith('envoyproxy/envoy:');
/** The project's own services are the ones built from this repository. */
export const isApp = (service: ComposeService): boolean => service.build !== undefined;
export const sidecarOf = (app: string): string => `${app}-envoy`;

// ---------------------------------------------------------------- Envoy (the fields these checks read)

export interface SocketAddress {
  address: string;
  port_value: number;
}
export interface TlsCertificate {
  certificate_chain?: { filename?: string };
  private_key?: { filename?: string };
}
export interface SanMatcher {
  san_type?: string;
  matcher?: { exact?: string };
}
export interface TlsContext {
  '@type': string;
  sni?: string;
  require_client_certificate?: boolean;
  common_tls_context?: {
    tls_certificates?: TlsCertificate[];
    validation_context?: { trusted_ca?: { filename?: string }; match_typed_subject_alt_names?: SanMatcher[] };
  };
}
export interface TransportSocket {
  name: string;
  typed_config: TlsContext;
}
export interface RetryPolicy {
  retry_on?: string;
  num_retries?: number;
  per_try_timeout?: string;
}
export interface RouteAction {
  cluster?: string;
  weighted_clusters?: { clusters: Array<{ name: string; weight?: number }> };
  timeout?: string;
  retry_policy?: RetryPolicy;
}
export interface Route {
  name?: string;
  match: { prefix?: string; path?: string };
  route?: RouteAction;
  direct_response?: { status: number };
}
export interface HttpConnectionManager {
  '@type': string;
  stat_prefix: string;
  route_config?: { virtual_hosts: Array<{ routes: Route[] }> };
  tracing?: {
    provider?: {
      name?: string;
      typed_config?: { grpc_service?: { envoy_grpc?: { cluster_name?: string } } };
    };
  };
  access_log?: Array<{
    name: string;
    typed_config?: { log_format?: { json_format?: Record<string, unknown> } };
  }>;
  http_filters?: Array<{ name: string; typed_config?: Record<string, unknown> }>;
}
export interface NetworkFilter {
  name: string;
  typed_config: HttpConnectionManager & { cluster?: string };
}
export interface Listener {
  name: string;
  address: { socket_address: SocketAddress };
  traffic_direction?: string;
  filter_chains: Array<{ transport_socket?: TransportSocket; filters: NetworkFilter[] }>;
}
export interface Thresholds {
  priority?: string;
  max_connections?: number;
  max_pending_requests?: number;
  max_requests?: number;
  max_retries?: number;
}
export interface OutlierDetection {
  consecutive_5xx?: number;
  enforcing_consecutive_5xx?: number;
  consecutive_gateway_failure?: number;
  enforcing_consecutive_gateway_failure?: number;
  enforcing_success_rate?: number;
  interval?: string;
  base_ejection_time?: string;
  max_ejection_percent?: number;
  always_eject_one_host?: boolean;
}
export interface Cluster {
  name: string;
  connect_timeout?: string;
  load_assignment?: {
    endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: SocketAddress } } }> }>;
  };
  circuit_breakers?: { thresholds?: Thresholds[] };
  outlier_detection?: OutlierDetection;
  common_lb_config?: { healthy_panic_threshold?: { value?: number } };
  transport_socket?: TransportSocket;
  typed_extension_protocol_options?: Record<
    string,
    { common_http_protocol_options?: { max_requests_per_connection?: number } }
  >;
}
export interface Bootstrap {
  node?: { id?: string; cluster?: string };
  admin?: { address: { socket_address: SocketAddress } };
  static_resources: { listeners: Listener[]; clusters: Cluster[] };
}

export interface Sidecar {
  /** The file mounted as the sidecar's config, relative to the repository root (e.g. envoy/frontend.yaml). */
  file: string;
  config: Bootstrap;
}

export interface Mesh {
  compose: ComposeFile;
  /** By compose service name. */
  sidecars: Record<string, Sidecar>;
}

/** Where every sidecar's command has Envoy read its config. */
export const CONFIG_IN_CONTAINER = '/etc/envoy/envoy.yaml';

/** The file a sidecar mounts as its config, relative to the repository root. */
export function sidecarConfigFile(service: ComposeService): string | undefined {
  const mount = bindMounts(service).find((volume) => volume.target === CONFIG_IN_CONTAINER);
  return mount?.source ? path.normalize(mount.source) : undefined;
}

/** Compose (with `env` as the shell's environment) plus the config file every sidecar mounts. */
export function loadMesh(env: Env = {}): Mesh {
  const compose = loadCompose(env);
  const sidecars: Record<string, Sidecar> = {};
  for (const [name, service] of Object.entries(compose.services)) {
    if (!isSidecar(service)) continue;
    const file = sidecarConfigFile(service);
    if (!file) throw new Error(`${name}: mounts no config at ${CONFIG_IN_CONTAINER}`);
    sidecars[name] = {
      file,
      config: YAML.parse(fs.readFileSync(path.resolve(ROOT, file), 'utf8')) as Bootstrap,
    };
  }
  return { compose, sidecars };
}

export const clone = <T>(value: T): T => structuredClone(value);

// ---------------------------------------------------------------- helpers over Envoy configs

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const CERT_DIR = `${COMPOSE.certDir}/`;
const ADMIN_PORT = COMPOSE.adminPort;
/** Istio's identity of a service account of the compose namespace. */
export const identity = (serviceAccount: string): string => spiffeIdOf(COMPOSE.namespace, serviceAccount);

export const endpointsOf = (cluster: Cluster): SocketAddress[] =>
  (cluster.load_assignment?.endpoints ?? []).flatMap((locality) =>
    locality.lb_endpoints.map((lb) => lb.endpoint.address.socket_address),
  );

const filtersOf = (listener: Listener): NetworkFilter[] =>
  listener.filter_chains.flatMap((chain) => chain.filters);
const managersOf = (listener: Listener): HttpConnectionManager[] =>
  filtersOf(listener)
    .map((filter) => filter.typed_config)
    .filter((config) => config['@type'] === HCM);
export const routesOf = (listener: Listener): Route[] =>
  managersOf(listener).flatMap((hcm) => (hcm.route_config?.virtual_hosts ?? []).flatMap((vh) => vh.routes));

/** Every cluster a listener can send to: routes, weighted routes and TCP proxies. */
export function clustersOfListener(listener: Listener): string[] {
  const fromRoutes = routesOf(listener).flatMap((route) => [
    ...(route.route?.cluster ? [route.route.cluster] : []),
    ...(route.route?.weighted_clusters?.clusters.map((weighted) => weighted.name) ?? []),
  ]);
  const fromTcp = filtersOf(listener)
    .filter((filter) => filter.typed_config['@type'] === TCP_PROXY)
    .map((filter) => filter.typed_config.cluster ?? '');
  return [...fromRoutes, ...fromTcp];
}

export const portOf = (listener: Listener): number => listener.address.socket_address.port_value;
const findCluster = (config: Bootstrap, name: string): Cluster | undefined =>
  config.static_resources.clusters.find((cluster) => cluster.name === name);
const listenerOnPort = (config: Bootstrap, port: number): Listener | undefined =>
  config.static_resources.listeners.find((listener) => portOf(listener) === port);

function tlsOf(socket: TransportSocket | undefined, type: string): TlsContext | undefined {
  return socket?.name === 'envoy.transport_sockets.tls' && socket.typed_config['@type'] === type
    ? socket.typed_config
    : undefined;
}
const downstreamTls = (listener: Listener): TlsContext | undefined =>
  tlsOf(listener.filter_chains[0]?.transport_socket, DOWNSTREAM_TLS);
const upstreamTls = (cluster: Cluster): TlsContext | undefined =>
  tlsOf(cluster.transport_socket, UPSTREAM_TLS);

/** The mesh identity a TLS context presents: its certificate file names the service account (frontend.crt). */
export function identityOf(tls: TlsContext | undefined): string | undefined {
  const file = tls?.common_tls_context?.tls_certificates?.[0]?.certificate_chain?.filename;
  return file ? identity(path.basename(file, '.crt')) : undefined;
}
export const allowedSans = (tls: TlsContext | undefined): string[] =>
  (tls?.common_tls_context?.validation_context?.match_typed_subject_alt_names ?? [])
    .filter((san) => san.san_type === 'URI')
    .map((san) => san.matcher?.exact ?? '');

/** Files a config reads from the certificate folder. */
export function certFilesOf(config: Bootstrap): string[] {
  const contexts = [
    ...config.static_resources.listeners.flatMap((l) =>
      l.filter_chains.map((c) => c.transport_socket?.typed_config),
    ),
    ...config.static_resources.clusters.map((c) => c.transport_socket?.typed_config),
  ].filter((tls): tls is TlsContext => tls !== undefined);
  const files = contexts.flatMap((tls) => [
    ...(tls.common_tls_context?.tls_certificates ?? []).flatMap((cert) => [
      cert.certificate_chain?.filename,
      cert.private_key?.filename,
    ]),
    tls.common_tls_context?.validation_context?.trusted_ca?.filename,
  ]);
  return [...new Set(files.filter((file): file is string => file !== undefined))];
}

/** Ports a compose service listens on: its Envoy listeners for a sidecar (admin excluded), else `expose`. */
export function listeningPorts(mesh: Mesh, service: string): number[] {
  const sidecar = mesh.sidecars[service];
  if (sidecar) {
    return sidecar.config.static_resources.listeners
      .filter((listener) => listener.address.socket_address.address !== '127.0.0.1')
      .map(portOf);
  }
  return list(mesh.compose.services[service]?.expose).map(Number);
}

const shareNetwork = (a: ComposeService, b: ComposeService): boolean =>
  networksOf(a).some((network) => networksOf(b).includes(network));

/**
 * Where a request to `host:port` ends, seen from the mesh: a sidecar's listener is followed through its
 * clusters (and through the next sidecar) to the services behind it.
 */
export function destinations(mesh: Mesh, host: string, port: number, seen = new Set<string>()): string[] {
  const sidecar = mesh.sidecars[host];
  if (!sidecar) return [host];
  const key = `${host}:${port}`;
  if (seen.has(key)) return [];
  seen.add(key);
  const listener = listenerOnPort(sidecar.config, port);
  if (!listener) return [];
  return [
    ...new Set(
      clustersOfListener(listener).flatMap((name) => {
        const cluster = findCluster(sidecar.config, name);
        return cluster
          ? endpointsOf(cluster).flatMap((e) => destinations(mesh, e.address, e.port_value, seen))
          : [];
      }),
    ),
  ];
}

// ---------------------------------------------------------------- checks

/** The command every sidecar runs: Envoy with the mounted config (the image's entrypoint drops root). */
export const SIDECAR_COMMAND = ['envoy', '--config-path', CONFIG_IN_CONTAINER];

/**
 * Each app has a sidecar; each sidecar runs Envoy on `<configDir>/<app>.yaml` (the rendered config of its
 * app) and admin.sh for its health check, both mounted read-only.
 */
export function checkSidecarWiring(compose: ComposeFile, configDir = 'envoy'): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    if (isApp(service) && !isSidecar(compose.services[sidecarOf(name)] ?? {})) {
      problems.push(`${name}: has no sidecar '${sidecarOf(name)}'`);
    }
    if (!isSidecar(service)) continue;
    const args = list(service.command);
    if (args.join(' ') !== SIDECAR_COMMAND.join(' '))
      problems.push(`${name}: command should be ${SIDECAR_COMMAND.join(' ')}, got ${JSON.stringify(args)}`);
    const mounts = bindMounts(service);
    const need = [
      ['/etc/envoy/admin.sh', 'envoy/admin.sh'],
      [CONFIG_IN_CONTAINER, path.join(configDir, `${name.replace(/-envoy$/, '')}.yaml`)],
    ];
    for (const [target, source] of need) {
      const mount = mounts.find((volume) => volume.target === target);
      if (!mount) problems.push(`${name}: ${target} is not mounted`);
      else if (path.normalize(mount.source ?? '') !== source || !mount.read_only) {
        problems.push(`${name}: ${target} should be ./${source}, read-only`);
      } else if (!fs.existsSync(path.resolve(ROOT, source)))
        problems.push(`${name}: ./${source} does not exist`);
    }
    const config = mounts.find((volume) => volume.target === CONFIG_IN_CONTAINER);
    if (config && config.bind?.create_host_path !== false)
      problems.push(`${name}: a missing ${config.source} would be created as an empty folder`);
    const test = list(service.healthcheck?.test).join(' ');
    if (!test.includes('/etc/envoy/admin.sh ready'))
      problems.push(`${name}: health check should run admin.sh ready`);
  }
  return problems;
}

/** Inside each config: unique listeners, admin on localhost, every referenced cluster defined, traces and JSON access logs. */
export function checkEnvoyInternals(mesh: Mesh): string[] {
  const problems: string[] = [];
  for (const [name, { config }] of Object.entries(mesh.sidecars)) {
    const where = `${name} (${mesh.sidecars[name]?.file})`;
    const admin = config.admin?.address.socket_address;
    if (admin?.address !== '127.0.0.1' || admin.port_value !== ADMIN_PORT) {
      problems.push(`${where}: admin must listen on 127.0.0.1:${ADMIN_PORT} only`);
    }
    const ports = config.static_resources.listeners.map(portOf);
    for (const port of ports.filter((p, i) => ports.indexOf(p) !== i))
      problems.push(`${where}: two listeners on ${port}`);
    const names = config.static_resources.clusters.map((c) => c.name);
    for (const dup of names.filter((n, i) => names.indexOf(n) !== i))
      problems.push(`${where}: cluster ${dup} twice`);
    for (const listener of config.static_resources.listeners) {
      if (!['INBOUND', 'OUTBOUND'].includes(listener.traffic_direction ?? '')) {
        problems.push(`${where}: listener ${listener.name} needs traffic_direction (span kinds follow it)`);
      }
      for (const cluster of clustersOfListener(listener)) {
        if (!names.includes(cluster))
          problems.push(`${where}: listener ${listener.name} sends to unknown cluster '${cluster}'`);
      }
      for (const hcm of managersOf(listener)) {
        const provider = hcm.tracing?.provider;
        const tracer = provider?.typed_config?.grpc_service?.envoy_grpc?.cluster_name;
        if (provider?.name !== 'envoy.tracers.opentelemetry' || !tracer || !names.includes(tracer)) {
          problems.push(`${where}: listener ${listener.name} does not trace to a defined OTLP cluster`);
        } else if (
          !endpointsOf(findCluster(config, tracer) as Cluster).every(
            (e) => e.address === 'jaeger' && e.port_value === 4317,
          )
        ) {
          problems.push(`${where}: tracing cluster ${tracer} should be jaeger:4317 (OTLP gRPC)`);
        }
        const log = hcm.access_log?.find((entry) => entry.name === 'envoy.access_loggers.stdout');
        const fields = Object.values(log?.typed_config?.log_format?.json_format ?? {}).join(' ');
        if (!fields.includes('%REQ(X-REQUEST-ID)%') || !fields.includes('%REQ(TRACEPARENT)%')) {
          problems.push(
            `${where}: listener ${listener.name} needs a JSON stdout access log with request id and traceparent`,
          );
        }
      }
    }
  }
  return problems;
}

/** Weighted routes add up to 100 and name clusters that exist. */
export function checkWeights(mesh: Mesh): string[] {
  const problems: string[] = [];
  for (const [name, { config }] of Object.entries(mesh.sidecars)) {
    for (const listener of config.static_resources.listeners) {
      for (const route of routesOf(listener)) {
        const weighted = route.route?.weighted_clusters?.clusters;
        if (!weighted) continue;
        const total = weighted.reduce((sum, cluster) => sum + (cluster.weight ?? 0), 0);
        if (total !== 100) problems.push(`${name}: route ${route.name} weights add up to ${total}, not 100`);
        for (const cluster of weighted) {
          if (!Number.isInteger(cluster.weight))
            problems.push(`${name}: route ${route.name} weight of ${cluster.name} is not a number`);
          if (!findCluster(config, cluster.name))
            problems.push(`${name}: route ${route.name} weights unknown cluster '${cluster.name}'`);
        }
      }
    }
  }
  return problems;
}

/** What the third-party images listen on, from their documentation and the command compose gives them. */
function imagePorts(service: ComposeService): number[] | undefined {
  const image = service.image ?? '';
  const args = list(service.command);
  const flag = (name: string) => args[args.indexOf(name) + 1];
  if (image.includes('/minio:')) return [9000, Number((flag('--console-address') ?? '').replace(/^.*:/, ''))];
  if (image.includes('dynamodb-local')) return [args.includes('-port') ? Number(flag('-port')) : 8000];
  if (image.includes('jaegertracing/jaeger:')) return [4317, 4318, 16686];
  return undefined;
}

/** `expose` says what each service listens on, and agrees with its config: Envoy listeners, PORT, image defaults. */
export function checkExpose(mesh: Mesh): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(mesh.compose.services)) {
    const exposed = list(service.expose).map(Number).sort();
    let actual: number[] | undefined;
    if (mesh.sidecars[name]) actual = listeningPorts(mesh, name);
    else if (isApp(service)) actual = [Number(envOf(service).PORT)];
    else actual = imagePorts(service);
    if (!actual) continue;
    const missing = actual.filter((port) => !exposed.includes(port));
    if (missing.length) problems.push(`${name}: listens on ${missing.join(', ')} but does not expose it`);
    if (mesh.sidecars[name] || isApp(service)) {
      const extra = exposed.filter((port) => !actual.includes(port));
      if (extra.length) problems.push(`${name}: exposes ${extra.join(', ')} where nothing listens`);
    }
  }
  return problems;
}

/** Every cluster endpoint is a compose service this sidecar shares a network with, on a port it listens on. */
export function checkClusterAddresses(mesh: Mesh): string[] {
  const problems: string[] = [];
  for (const [name, { config }] of Object.entries(mesh.sidecars)) {
    const self = mesh.compose.services[name] as ComposeService;
    for (const cluster of config.static_resources.clusters) {
      const endpoints = endpointsOf(cluster);
      if (!endpoints.length) problems.push(`${name}: cluster ${cluster.name} has no endpoint`);
      for (const { address, port_value: port } of endpoints) {
        const target = mesh.compose.services[address];
        if (!target) {
          problems.push(
            `${name}: cluster ${cluster.name} points at '${address}', which is no compose service`,
          );
        } else if (!shareNetwork(self, target)) {
          problems.push(`${name}: cluster ${cluster.name} points at ${address}, on no network ${name} is on`);
        } else if (!listeningPorts(mesh, address).includes(port)) {
          problems.push(
            `${name}: cluster ${cluster.name} points at ${address}:${port}, but ${address} listens on ${listeningPorts(mesh, address).join(', ') || 'nothing'}`,
          );
        }
      }
    }
  }
  return problems;
}

/** What each app's URL variables must reach, through its own sidecar. */
export const APP_DEPENDENCIES: Record<string, (mesh: Mesh) => string[]> = {
  BACKEND_URL: (mesh) =>
    Object.keys(mesh.compose.services).filter(
      (s) => mesh.compose.services[s]?.build?.args?.SERVICE === 'backend',
    ),
  AWS_ENDPOINT_URL_S3: () => ['minio'],
  AWS_ENDPOINT_URL_DYNAMODB: () => ['dynamodb-local'],
  OTEL_EXPORTER_OTLP_ENDPOINT: () => ['jaeger'],
};

/**
 * Each app lives alone with its sidecar on an internal network, its sidecar reaches it on PORT, and every
 * URL it is given names its own sidecar and ends at the right service.
 */
export function checkAppEnv(mesh: Mesh): string[] {
  const problems: string[] = [];
  const { services, networks = {} } = mesh.compose;
  for (const [name, service] of Object.entries(services)) {
    if (!isApp(service)) continue;
    const sidecar = sidecarOf(name);
    const env = envOf(service);
    const pod = networksOf(service);
    if (pod.length !== 1)
      problems.push(`${name}: should be on its pod network only, is on ${pod.join(', ')}`);
    for (const network of pod) {
      const members = Object.keys(services).filter((s) =>
        networksOf(services[s] as ComposeService).includes(network),
      );
      if (members.sort().join() !== [name, sidecar].sort().join()) {
        problems.push(
          `${name}: network ${network} should hold ${name} and ${sidecar} only, holds ${members.join(', ')}`,
        );
      }
      if (!networks[network]?.internal) problems.push(`${name}: network ${network} should be internal`);
    }
    // Its sidecar reaches it on PORT (inbound, or as the gateway's destination); no other sidecar does.
    for (const [other, { config }] of Object.entries(mesh.sidecars)) {
      const toApp = config.static_resources.clusters.flatMap(endpointsOf).filter((e) => e.address === name);
      if (other !== sidecar && toApp.length) problems.push(`${other}: reaches ${name} past its sidecar`);
      if (other === sidecar && (!toApp.length || toApp.some((e) => e.port_value !== Number(env.PORT))))
        problems.push(`${sidecar}: no cluster reaches ${name}:${env.PORT}`);
    }
    for (const [variable, value] of Object.entries(env)) {
      if (!/^https?:\/\//.test(value)) continue;
      const url = new URL(value);
      const expected = APP_DEPENDENCIES[variable]?.(mesh);
      if (!expected && !services[url.hostname]) continue; // e.g. JAEGER_UI_URL, a link for the browser
      if (url.hostname !== sidecar) {
        problems.push(`${name}: ${variable}=${value} should name its own sidecar ${sidecar}`);
        continue;
      }
      // A canary stage may route to some of the expected services only (0/100 reaches v2 alone).
      const reached = destinations(mesh, url.hostname, Number(url.port || 80));
      if (expected && (!reached.length || reached.some((service) => !expected.includes(service)))) {
        problems.push(
          `${name}: ${variable}=${value} reaches ${reached.join(', ') || 'nothing'}, expected some of ${expected.join(', ')}`,
        );
      }
    }
    for (const variable of Object.keys(APP_DEPENDENCIES).filter((v) => v.startsWith('OTEL_'))) {
      if (!env[variable]) problems.push(`${name}: ${variable} is not set`);
    }
  }
  return problems;
}

// ---- the canary

/** The frontend sidecar's canary: the route that splits between the backend versions, and its clusters. */
export function canary(mesh: Mesh): { sidecar: string; route: Route; clusters: Cluster[] } | undefined {
  for (const [name, { config }] of Object.entries(mesh.sidecars)) {
    for (const listener of config.static_resources.listeners) {
      const route = routesOf(listener).find((r) => r.route?.weighted_clusters);
      if (!route) continue;
      const clusters = (route.route?.weighted_clusters?.clusters ?? [])
        .map((weighted) => findCluster(config, weighted.name))
        .filter((cluster): cluster is Cluster => cluster !== undefined);
      return { sidecar: name, route, clusters };
    }
  }
  return undefined;
}

// ---- mTLS

/** The RBAC rules an HTTP listener runs. */
export const rbacOf = (listener: Listener): Record<string, unknown>[] =>
  managersOf(listener).flatMap((hcm) => rbacFiltersOf(hcm.http_filters ?? []));

/**
 * Every hop between sidecars is mutual TLS: the caller presents its certificate and checks the callee's
 * identity, the callee requires a client certificate and its authorization policies name the caller.
 * Inbound listeners other than the published edge are mTLS. MinIO's webhook counts as a caller with the
 * minio identity, sending `POST` to its URL.
 */
export function checkMtls(mesh: Mesh): string[] {
  const problems: string[] = [];
  const published = new Set(
    Object.entries(mesh.compose.services).flatMap(([name, s]) =>
      publishedPorts(s).map((p) => `${name}:${p.target}`),
    ),
  );
  const callee = (host: string, port: number, who: string): Listener | undefined => {
    const listener = listenerOnPort(mesh.sidecars[host]?.config as Bootstrap, port);
    const tls = listener && downstreamTls(listener);
    if (!tls) problems.push(`${who}: ${host}:${port} does not terminate TLS`);
    else if (tls.require_client_certificate !== true)
      problems.push(`${who}: ${host}:${port} does not require a client certificate`);
    return tls ? listener : undefined;
  };

  for (const [name, { config }] of Object.entries(mesh.sidecars)) {
    for (const listener of config.static_resources.listeners) {
      if (listener.traffic_direction !== 'INBOUND' || published.has(`${name}:${portOf(listener)}`)) continue;
      if (downstreamTls(listener)?.require_client_certificate !== true || listener.filter_chains.length !== 1)
        problems.push(`${name}: inbound listener ${listener.name} is not mTLS only`);
    }
    for (const cluster of config.static_resources.clusters) {
      for (const { address, port_value: port } of endpointsOf(cluster)) {
        if (!mesh.sidecars[address]) continue;
        const who = `${name}: cluster ${cluster.name}`;
        const tls = upstreamTls(cluster);
        const caller = identityOf(tls);
        if (!tls || !caller) {
          problems.push(`${who} reaches sidecar ${address} without a client certificate`);
          continue;
        }
        if (!tls.common_tls_context?.validation_context?.trusted_ca?.filename)
          problems.push(`${who} does not verify ${address} against a CA`);
        const listener = callee(address, port, who);
        if (!listener) continue;
        const calleeIdentity = identityOf(downstreamTls(listener));
        if (!allowedSans(tls).includes(calleeIdentity ?? '')) {
          problems.push(
            `${who} accepts ${allowedSans(tls).join(', ') || 'any identity'}, but ${address} presents ${calleeIdentity}`,
          );
        }
        if (!principalNamed(rbacOf(listener), caller))
          problems.push(
            `${who} presents ${caller}, which no authorization policy of ${address}:${port} names`,
          );
      }
    }
  }
  problems.push(...checkMinioWebhook(mesh, callee));
  return problems;
}

/** Whether every ALLOW filter has a policy for this peer (whatever the request), and none refuses it outright. */
function principalNamed(rules: Record<string, unknown>[], principal: string): boolean {
  return rules.every((r) => {
    if (r.action !== 'ALLOW') return true;
    return Object.values((r.policies ?? {}) as Record<string, { principals: unknown[] }>).some((policy) =>
      rbacAllows(
        [
          {
            action: 'ALLOW',
            policies: { p: { permissions: [{ any: true }], principals: policy.principals } },
          },
        ],
        {
          principal,
          method: 'GET',
          path: '/',
          port: 0,
        },
      ),
    );
  });
}

function checkMinioWebhook(
  mesh: Mesh,
  callee: (host: string, port: number, who: string) => Listener | undefined,
): string[] {
  const problems: string[] = [];
  const minio = mesh.compose.services.minio;
  if (!minio) return ['no minio service'];
  const env = envOf(minio);
  const targets = Object.keys(env)
    .filter((key) => key.startsWith('MINIO_NOTIFY_WEBHOOK_ENDPOINT_'))
    .map((key) => key.slice('MINIO_NOTIFY_WEBHOOK_ENDPOINT_'.length));
  if (!targets.length) problems.push('minio: no webhook target');
  const init = mesh.compose.services['minio-init'];
  const script = list(init?.command).join('\n');
  for (const id of targets) {
    const who = `minio: webhook ${id}`;
    if (env[`MINIO_NOTIFY_WEBHOOK_ENABLE_${id}`] !== 'on') problems.push(`${who} is not enabled`);
    const url = new URL(env[`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${id}`] as string);
    const port = Number(url.port || 443);
    if (url.protocol !== 'https:' || !mesh.sidecars[url.hostname]) {
      problems.push(`${who} should call a sidecar over https, calls ${url.href}`);
      continue;
    }
    const reached = destinations(mesh, url.hostname, port);
    if (reached.join() !== 'thumbnailer')
      problems.push(`${who} reaches ${reached.join(', ') || 'nothing'}, not thumbnailer`);
    const mounts = bindMounts(minio);
    const certFile = env[`MINIO_NOTIFY_WEBHOOK_CLIENT_CERT_${id}`] ?? '';
    const keyFile = env[`MINIO_NOTIFY_WEBHOOK_CLIENT_KEY_${id}`] ?? '';
    for (const file of [certFile, keyFile]) {
      const mount = mounts.find((m) => m.target === file);
      if (
        !file ||
        !mount?.read_only ||
        path.normalize(mount.source ?? '') !== path.join('envoy/certs', path.basename(file))
      ) {
        problems.push(
          `${who}: client certificate file '${file}' is not mounted read-only from ./envoy/certs`,
        );
      }
    }
    const certsDir = list(minio.command)[list(minio.command).indexOf('--certs-dir') + 1] ?? '';
    if (
      !mounts.some(
        (m) =>
          m.target.startsWith(`${certsDir}/CAs/`) && path.normalize(m.source ?? '') === 'envoy/certs/ca.crt',
      )
    ) {
      problems.push(
        `${who}: MinIO does not trust the mesh CA (mount envoy/certs/ca.crt under ${certsDir}/CAs/)`,
      );
    }
    const listener = callee(url.hostname, port, who);
    const caller = identity(path.basename(certFile, '.crt'));
    const request: RbacRequest = { principal: caller, method: 'POST', path: url.pathname, port };
    if (listener && !rbacAllows(rbacOf(listener), request)) {
      problems.push(
        `${who}: POST ${url.pathname} from ${caller} is refused by the authorization policies of ${url.hostname}`,
      );
    }
    const routed = listener
      ? routesOf(listener).find(
          (r) =>
            r.match.path === url.pathname ||
            (r.match.prefix !== undefined && url.pathname.startsWith(r.match.prefix)),
        )
      : undefined;
    if (!routed?.route?.cluster)
      problems.push(`${who}: ${url.pathname} is not routed to the thumbnailer by ${url.hostname}`);
    const arn = `arn:minio:sqs::${id}:webhook`;
    if (
      !new RegExp(`mc event add[^\\n]*--event put[^\\n]*--prefix uploads/[^\\n]*local/images ${arn}`).test(
        script,
      )
    ) {
      problems.push(`minio-init: does not send PUTs under uploads/ of bucket images to ${arn}`);
    }
  }
  return problems;
}

/** Every certificate file a config reads is mounted read-only at that path, from a file gen-certs.sh makes. */
export function checkCertMounts(mesh: Mesh, generated: string[]): string[] {
  const problems: string[] = [];
  for (const [name, { config }] of Object.entries(mesh.sidecars)) {
    const mounts = bindMounts(mesh.compose.services[name] as ComposeService);
    for (const file of certFilesOf(config)) {
      const mount = mounts.find((volume) => volume.target === file);
      if (!file.startsWith(CERT_DIR)) problems.push(`${name}: reads ${file}, outside ${CERT_DIR}`);
      if (!mount) {
        problems.push(`${name}: reads ${file}, which is not mounted`);
        continue;
      }
      const source = path.normalize(mount.source ?? '');
      if (source !== path.join('envoy/certs', path.basename(file)))
        problems.push(
          `${name}: ${file} is mounted from ${mount.source}, not ./envoy/certs/${path.basename(file)}`,
        );
      if (!generated.includes(path.basename(file)))
        problems.push(`${name}: ${file} is not a file scripts/gen-certs.sh writes`);
      if (!mount.read_only) problems.push(`${name}: ${file} is mounted writable`);
      if (mount.bind?.create_host_path !== false)
        problems.push(`${name}: ${file} would be created as an empty folder when missing`);
    }
  }
  return problems;
}

/** Only the edge (frontend sidecar), the MinIO console and the Jaeger UI reach the host, on localhost. */
export const ALLOWED_PUBLISHED = ['frontend-envoy:8080', 'minio:9001', 'jaeger:16686'];

export function checkPublishedPorts(compose: ComposeFile): string[] {
  const problems: string[] = [];
  const seen: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    for (const port of publishedPorts(service)) {
      const key = `${name}:${port.target}`;
      seen.push(key);
      if (!ALLOWED_PUBLISHED.includes(key))
        problems.push(`${name}: publishes ${port.target}, which must stay inside`);
      if (port.host_ip !== '127.0.0.1')
        problems.push(`${name}: publishes ${port.target} on all interfaces, not 127.0.0.1`);
    }
  }
  for (const key of ALLOWED_PUBLISHED.filter((k) => !seen.includes(k)))
    problems.push(`${key} is not published`);
  return problems;
}

/** depends_on names real services, waits on health only where there is a health check, and has no cycle. */
export function checkDependsOn(compose: ComposeFile): string[] {
  const problems: string[] = [];
  const { services } = compose;
  for (const [name, service] of Object.entries(services)) {
    for (const [target, { condition = 'service_started' }] of Object.entries(dependsOn(service))) {
      const dependency = services[target];
      if (!dependency) {
        problems.push(`${name}: depends on '${target}', which is no service`);
        continue;
      }
      if (
        condition === 'service_healthy' &&
        (!dependency.healthcheck?.test || dependency.healthcheck.disable)
      ) {
        problems.push(`${name}: waits for ${target} to be healthy, but ${target} has no health check`);
      }
      if (condition === 'service_completed_successfully' && dependency.restart !== 'no') {
        problems.push(
          `${name}: waits for ${target} to complete, but ${target} restarts (${dependency.restart})`,
        );
      }
    }
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    if (done.has(name) || !services[name]) return;
    if (visiting.has(name)) {
      problems.push(`depends_on cycle: ${[...trail, name].join(' -> ')}`);
      return;
    }
    visiting.add(name);
    for (const target of Object.keys(dependsOn(services[name] as ComposeService)))
      visit(target, [...trail, name]);
    visiting.delete(name);
    done.add(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
  return problems;
}

/** Every long-running service restarts and has a health check; every service has a memory limit. */
export function checkRuntime(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    if (!service.deploy?.resources?.limits?.memory) problems.push(`${name}: no memory limit`);
    const oneShot = service.restart === 'no';
    if (!oneShot && service.restart !== 'unless-stopped' && service.restart !== 'always')
      problems.push(`${name}: no restart policy`);
    if (!oneShot && !service.healthcheck?.test) problems.push(`${name}: no health check`);
  }
  return problems;
}

/** Secrets in the raw file are `${NAME:-dev default}`, so anyone can override them. */
export function checkDevCredentials(rawCompose: string): string[] {
  const problems: string[] = [];
  for (const match of rawCompose.matchAll(
    /^\s*([A-Z0-9_]*(?:PASSWORD|SECRET|ACCESS_KEY|ROOT_USER)[A-Z0-9_]*):\s*(.+)$/gm,
  )) {
    const [, key, value] = match;
    if (!/^\$\{[A-Z0-9_]+:-[^}]+\}$/.test((value ?? '').trim()))
      problems.push(`${key}: '${value}' cannot be overridden from the environment`);
  }
  return problems;
}

// ---- certificates

/** The SAN entries of a PEM certificate, read by openssl. */
export function subjectAltNames(certFile: string): string[] {
  const text = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName'], {
    encoding: 'utf8',
  });
  return text
    .split('\n')
    .slice(1)
    .join(',')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}
