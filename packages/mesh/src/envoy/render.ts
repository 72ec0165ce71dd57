// The job istiod does, for docker compose: from the mesh's one policy (the Istio resources of
// k8s/istio with a stage's overlay) and the compose topology, each sidecar's complete Envoy
// bootstrap. Its listeners: the gateway's (frontend only: users come in there), the inbound one
// (mTLS as PeerAuthentication says, then the AuthorizationPolicies as RBAC, then the app), and one
// outbound listener per URL the app is given (the VirtualService's routes, or Istio's default route,
// to clusters carrying the DestinationRule's policy). Every HTTP hop is traced to Jaeger and logged.
import YAML, { isMap, isSeq, type Node } from 'yaml';
import { mtlsMode, policiesFor, type Workload } from '../authz';
import { spiffeIdOf } from '../identity';
import type { MeshConfig } from '../load';
import {
  clusterPolicy,
  type ClusterPolicy,
  destinationRuleFor,
  resolveConnectionPool,
  type ResolvedDestination,
  virtualServiceFor,
} from '../policy';
import type { VirtualService } from '../types';
import {
  type Endpoint,
  inboundCluster,
  outboundCluster,
  plainCluster,
  type WorkloadCertificate,
} from './clusters';
import {
  COMPOSE,
  type ComposeTopology,
  type ComposeWorkload,
  OTLP,
  serviceOf,
  sidecarName,
  workloadsOf,
} from './compose';
import type { EnvoyObject } from './envoy';
import { httpListener, listenerName, type SidecarTelemetry, tcpListener } from './listeners';
import { rbacFilters } from './rbac';
import { defaultRoute, virtualServiceRoutes } from './routes';

export interface RenderOptions {
  /** Share of requests traced, 0-100 (see tracingSamplingPercent). */
  samplingPercent: number;
  /** Defaults to docker-compose.yml's (COMPOSE). */
  topology?: ComposeTopology;
  /**
   * Let outlier detection eject a subset's only container (Envoy's always_eject_one_host), so the
   * circuit-breaker demo works with one container per version. Default true.
   */
  ejectSingleHost?: boolean;
}

/** One sidecar's rendered configuration. */
export interface RenderedSidecar {
  workload: ComposeWorkload;
  /** The compose service of the sidecar, e.g. `backend-v1-envoy`. */
  sidecar: string;
  /** File name under envoy/, e.g. `backend-v1.yaml`. */
  fileName: string;
  /** The Envoy bootstrap (envoy.config.bootstrap.v3.Bootstrap, YAML field names). */
  config: EnvoyObject;
  /** The file's text: a header saying where it comes from, then the YAML. */
  text: string;
}

const COLLECTOR_GRPC = 'jaeger_otlp_grpc';
const COLLECTOR_HTTP = 'jaeger_otlp_http';

/** Everything one sidecar's render needs while its clusters are collected. */
class SidecarRender {
  readonly clusters = new Map<string, EnvoyObject>();
  readonly notes = new WeakMap<object, string>();
  readonly namespace: string;
  readonly fqdn = (host: string) => `${host}.${this.namespace}.svc.cluster.local`;

  constructor(
    readonly config: MeshConfig,
    readonly topology: ComposeTopology,
    readonly workload: ComposeWorkload,
    readonly options: RenderOptions,
  ) {
    this.namespace = topology.namespace;
  }

  certificateOf(serviceAccount: string): WorkloadCertificate {
    const dir = this.topology.certDir;
    return {
      certFile: `${dir}/${serviceAccount}.crt`,
      keyFile: `${dir}/${serviceAccount}.key`,
      caFile: `${dir}/ca.crt`,
    };
  }

  asWorkload(w: ComposeWorkload): Workload {
    return { name: w.name, namespace: this.namespace, labels: w.labels, sidecar: true };
  }

  note<T extends object>(value: T, comment: string): T {
    this.notes.set(value, comment);
    return value;
  }

  /** The cluster a route destination leads to, added to the sidecar's clusters on first use. */
  readonly clusterOf = (destination: ResolvedDestination): string => {
    const port = destination.port ?? serviceOf(this.topology, destination.host).port;
    const policy = clusterPolicy(this.config, destination.host, this.namespace, port, destination.subset);
    if (!this.clusters.has(policy.name)) this.clusters.set(policy.name, this.outbound(policy));
    return policy.name;
  };

  private outbound(policy: ClusterPolicy): EnvoyObject {
    const service = serviceOf(this.topology, policy.host);
    const rule = destinationRuleFor(this.config, policy.host, this.namespace);
    const from = rule
      ? `DestinationRule ${rule.metadata.name} (${this.config.fileOf(rule)})${policy.subset ? `, subset ${policy.subset}` : ''}`
      : 'no DestinationRule: Istio defaults';
    if (service.address) {
      return this.note(
        outboundCluster(policy, [service.address]),
        `${policy.host} has no sidecar in compose; ${from}`,
      );
    }
    const targets = workloadsOf(this.topology, policy.host, policy.labels);
    // The gateway's destination is this very pod: the edge and the app's sidecar are one Envoy here.
    if (targets.length === 1 && targets[0] === this.workload) {
      const app = { host: this.workload.name, port: this.workload.appPort };
      return this.note(outboundCluster(policy, [app]), `the app beside this sidecar; ${from}`);
    }
    const endpoints: Endpoint[] = targets.map((t) => {
      if (t.inboundPort === undefined)
        throw new Error(`${t.name} takes no calls from peers (no inboundPort)`);
      return { host: sidecarName(t), port: t.inboundPort };
    });
    // Istio's auto mTLS: mutual TLS to sidecars, unless their PeerAuthentication disables it.
    const plaintext = targets.every(
      (t) => mtlsMode(this.config.peerAuthentications, this.asWorkload(t), t.appPort) === 'DISABLE',
    );
    const identities = [...new Set(workloadsOf(this.topology, policy.host).map((t) => t.serviceAccount))];
    return this.note(
      outboundCluster(policy, endpoints, {
        mtls: plaintext
          ? undefined
          : {
              ...this.certificateOf(this.workload.serviceAccount),
              peerIdentities: identities.map((sa) => spiffeIdOf(this.namespace, sa)),
            },
        ejectSingleHost: this.options.ejectSingleHost ?? true,
      }),
      from,
    );
  }

  telemetry(): SidecarTelemetry {
    const { app, version } = this.workload.labels;
    return {
      sidecar: sidecarName(this.workload),
      serviceName: `${app}.${this.namespace}`,
      tags: {
        'istio.canonical_service': app,
        'istio.canonical_revision': version,
        'istio.namespace': this.namespace,
      },
      samplingPercent: this.options.samplingPercent,
      collectorCluster: COLLECTOR_GRPC,
    };
  }

  /** Routes of a VirtualService, the first noted with where they come from. */
  routesOf(vs: VirtualService, port: number) {
    const result = virtualServiceRoutes(vs, port, this.clusterOf);
    if (result.routes[0])
      this.note(result.routes[0], `VirtualService ${vs.metadata.name} (${this.config.fileOf(vs)})`);
    return result;
  }

  gatewayListener(port: number): EnvoyObject {
    const gateways = new Set(this.config.gateways.map((g) => g.metadata.name));
    const bound = this.config.virtualServices.filter((vs) => vs.spec.gateways?.some((g) => gateways.has(g)));
    const serverPort = this.config.gateways[0]?.spec.servers[0]?.port.number ?? 80;
    let faults = false;
    const routes = bound.flatMap((vs) => {
      const result = this.routesOf(vs, serverPort);
      faults ||= result.faults;
      return result.routes;
    });
    const domains = [...new Set(bound.flatMap((vs) => vs.spec.hosts))];
    return this.note(
      httpListener({
        name: listenerName('gateway', port),
        port,
        role: 'gateway',
        telemetry: this.telemetry(),
        virtualHost: { name: `${domains.join(',')}:${serverPort}`, domains, routes },
        faults,
      }),
      "the ingress gateway's part: users reach the mesh here (the only port compose publishes)",
    );
  }

  inboundListener(port: number): EnvoyObject {
    const w = this.workload;
    const service = serviceOf(this.topology, w.labels.app);
    const cluster = `inbound|${w.appPort}||`;
    this.clusters.set(
      cluster,
      inboundCluster(cluster, { host: w.name, port: w.appPort }, resolveConnectionPool(undefined)),
    );
    const self = this.asWorkload(w);
    const mode = mtlsMode(this.config.peerAuthentications, self, w.appPort);
    return this.note(
      httpListener({
        name: listenerName('inbound', port),
        port,
        role: 'inbound',
        telemetry: this.telemetry(),
        virtualHost: {
          name: `inbound|http|${service.port}`,
          domains: ['*'],
          routes: [
            {
              name: 'default',
              match: { prefix: '/' },
              route: { cluster, timeout: '0s' },
              decorator: { operation: `${this.fqdn(w.labels.app)}:${service.port}/*` },
            },
          ],
        },
        rbac: rbacFilters(policiesFor(this.config.authorizationPolicies, self)),
        mtls: { mode, certificate: this.certificateOf(w.serviceAccount) },
      }),
      `peers come in here: mTLS ${mode} (PeerAuthentication), then the AuthorizationPolicies that select app=${w.labels.app} as RBAC`,
    );
  }

  outboundListener(port: number, host: string): EnvoyObject {
    if (host === OTLP) {
      const { host: collector, httpPort } = this.topology.collector;
      this.clusters.set(
        COLLECTOR_HTTP,
        plainCluster(COLLECTOR_HTTP, { host: collector, port: httpPort }, this.defaultConnectTimeout()),
      );
      return this.note(
        tcpListener(listenerName('outbound', port), port, COLLECTOR_HTTP),
        "the app's OTLP_ENDPOINT: its span exports pass through as bytes, untraced",
      );
    }
    const service = serviceOf(this.topology, host);
    // Istio programs a cluster per subset whether or not a route uses it (a stage at 0% keeps its stats).
    for (const subset of destinationRuleFor(this.config, host, this.namespace)?.spec.subsets ?? [])
      this.clusterOf({ host, subset: subset.name, weight: 0 });
    const vs = virtualServiceFor(this.config, host, this.namespace);
    const result = vs
      ? this.routesOf(vs, service.port)
      : {
          routes: [
            this.note(
              defaultRoute(this.clusterOf({ host, weight: 100 }), `${this.fqdn(host)}:${service.port}/*`),
              `no VirtualService for ${host}: Istio's default route`,
            ),
          ],
          faults: false,
        };
    return this.note(
      httpListener({
        name: listenerName('outbound', port),
        port,
        role: 'outbound',
        telemetry: this.telemetry(),
        virtualHost: { name: `${this.fqdn(host)}:${service.port}`, domains: ['*'], routes: result.routes },
        faults: result.faults,
      }),
      `the app's URL for ${host} (Service port ${service.port})`,
    );
  }

  defaultConnectTimeout(): number {
    return resolveConnectionPool(undefined).connectTimeoutMs;
  }

  bootstrap(): EnvoyObject {
    const w = this.workload;
    const listeners = [
      ...(w.gatewayPort === undefined ? [] : [this.gatewayListener(w.gatewayPort)]),
      ...(w.inboundPort === undefined ? [] : [this.inboundListener(w.inboundPort)]),
      ...w.outbound.map(({ port, host }) => this.outboundListener(port, host)),
    ];
    const { host, grpcPort } = this.topology.collector;
    this.clusters.set(
      COLLECTOR_GRPC,
      this.note(
        plainCluster(COLLECTOR_GRPC, { host, port: grpcPort }, this.defaultConnectTimeout(), true),
        "the sidecar's own spans, OTLP over gRPC",
      ),
    );
    return {
      node: { id: sidecarName(w), cluster: `${w.labels.app}.${this.namespace}` },
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: this.topology.adminPort } } },
      static_resources: { listeners, clusters: [...this.clusters.values()] },
    };
  }
}

/** Short maps and lists of scalars print on one line, as people write Envoy configs by hand. */
const FLOW_WIDTH = 60;
const scalar = (v: unknown) => typeof v !== 'object' || v === null;
const inlineWidth = (parts: string[]) => parts.reduce((n, p) => n + p.length + 2, 0);

function styleAndNote(value: unknown, node: Node | null, notes: WeakMap<object, string>): void {
  if (node === null || typeof value !== 'object' || value === null) return;
  const note = notes.get(value);
  if (note) node.commentBefore = ` ${note}`;
  if (isMap(node)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (
      entries.every(([, v]) => scalar(v)) &&
      inlineWidth(entries.map(([k, v]) => `${k}: ${String(v)}`)) <= FLOW_WIDTH
    )
      node.flow = true;
    for (const pair of node.items) {
      const key = String((pair.key as { value?: unknown }).value);
      styleAndNote((value as Record<string, unknown>)[key], pair.value as Node | null, notes);
    }
  } else if (isSeq(node)) {
    const items = value as unknown[];
    if (items.length && items.every(scalar) && inlineWidth(items.map(String)) <= FLOW_WIDTH) node.flow = true;
    node.items.forEach((item, i) => styleAndNote(items[i], item as Node | null, notes));
  }
}

function header(w: ComposeWorkload, topology: ComposeTopology, stage: string | undefined): string {
  const overlay = stage ? ` with the overlay k8s/overlays/${stage}` : '';
  return [
    ` Envoy configuration of ${sidecarName(w)} in docker-compose.yml: the sidecar of ${w.name}`,
    ` (pod labels app=${w.labels.app}, version=${w.labels.version}; service account ${w.serviceAccount}, namespace ${topology.namespace}).`,
    ` Generated by packages/mesh from the Istio resources of k8s/istio${overlay}; do not edit.`,
    ' Change those resources, then run `npm run -s render-envoy` to rewrite envoy/ (a test fails while',
    ' a file here differs from a fresh render). scripts/promote.sh --target compose renders other stages.',
  ].join('\n');
}

/**
 * Renders the Envoy config of every sidecar of the compose topology from a loaded mesh configuration.
 * @throws Error (UnsupportedPolicyError among them) when the configuration asks for what a compose
 *   sidecar cannot do, or names a service compose does not run.
 */
export function renderComposeSidecars(config: MeshConfig, options: RenderOptions): RenderedSidecar[] {
  const topology = options.topology ?? COMPOSE;
  return topology.workloads.map((workload) => {
    const render = new SidecarRender(config, topology, workload, options);
    const bootstrap = render.bootstrap();
    const doc = new YAML.Document(bootstrap);
    styleAndNote(bootstrap, doc.contents, render.notes);
    doc.commentBefore = header(workload, topology, config.stage);
    return {
      workload,
      sidecar: sidecarName(workload),
      fileName: `${workload.name}.yaml`,
      config: bootstrap,
      text: doc.toString({ lineWidth: 0, singleQuote: true }),
    };
  });
}
