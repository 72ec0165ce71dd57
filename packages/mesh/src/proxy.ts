// One proxy of the local data plane: a pod's sidecar (an inbound listener in front of its app and
// an outbound listener per service the app calls) or the ingress gateway (a plain HTTP listener
// executing the Gateway and the VirtualServices bound to it). Each has its own workload certificate,
// statistics, tracer and access log; a new configuration replaces its route tables and clusters
// without closing a socket, and a cluster whose settings and hosts did not change keeps its state
// (connections, outlier detection), as Envoy keeps a cluster that a CDS update leaves unchanged.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import tls from 'node:tls';
import { authorize, mtlsMode, type Peer } from './authz';
import { spiffeIdOfPeer, type WorkloadCertificate } from './ca';
import { principalOfSpiffeId, spiffeIdOf } from './identity';
import type { MeshConfig } from './load';
import { type InboundListener, type Listener, startHttpListener, startInboundListener } from './listeners';
import {
  clusterName,
  clusterPolicy,
  DEFAULT_RETRY_POLICY,
  type ResolvedDestination,
  type ResolvedRoute,
  resolveConnectionPool,
  resolveRoutes,
  virtualServiceFor,
} from './policy';
import { type RouteTable, routeRequest, type RouterContext } from './router';
import { Stats } from './stats';
import type { ProxyTracer } from './tracing';
import type { Gateway } from './types';
import { type Endpoint, UpstreamCluster } from './upstream';
import { shortHost } from './validate';

/** The container port the services listen on in their pods (Service targetPort), which policies name. */
export const TARGET_PORT = 8080;
/** The Service port callers use. */
export const SERVICE_PORT = 80;

/** A workload of the mesh, as the proxies need to know it. */
export interface MeshWorkload {
  /** The pod's name, e.g. backend-v1-0. */
  name: string;
  namespace: string;
  serviceAccount: string;
  /** Pod labels: `app` names its Service, `version` its subset. */
  labels: Record<string, string>;
  /** 127.0.0.1:<port> of its sidecar's inbound listener; absent for a workload nothing calls. */
  inboundAddress?: string;
}

/** What every proxy gets on each configuration change (Envoy's xDS, in one piece). */
export interface MeshSnapshot {
  version: number;
  config: MeshConfig;
  workloads: MeshWorkload[];
  rootPem: string;
}

export interface ProxySpec extends MeshWorkload {
  /** The PID of the pod's app process, shown by the admin endpoint (for `kill -STOP`). */
  pid?: number;
  /**
   * The sidecar's inbound listener and the app behind it (host:port). An app started after the data
   * plane (its own settings name its sidecar's ports) has no address yet: its inbound answers 503
   * (no healthy upstream) until {@link MeshProxy.setApp} gives it one.
   */
  inbound?: { port: number; appAddress?: string };
  /** One listener per service the app calls (its BACKEND_URL and the like). */
  outbound?: { host: string; port: number }[];
  /** The ingress gateway's listener, on `host` (default 127.0.0.1). */
  gateway?: { port: number; host?: string };
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

/**
 * The SPIFFE ID of a connection's verified peer certificate, undefined for plaintext. Read once per
 * connection: the certificate cannot change on it, and parsing it for every request was a measured
 * share of the data plane's CPU per request.
 */
const peerIds = new WeakMap<tls.TLSSocket, string | undefined>();
function peerSpiffeId(socket: tls.TLSSocket): string | undefined {
  if (!socket.encrypted) return undefined;
  if (!peerIds.has(socket)) peerIds.set(socket, spiffeIdOfPeer(socket.getPeerCertificate().subjectaltname));
  return peerIds.get(socket);
}

const fqdn = (host: string, namespace: string) => `${shortHost(host)}.${namespace}.svc.cluster.local`;

/** Istio's route when no VirtualService names a host: the whole Service, its default retries, no timeout. */
const defaultRoutes = (host: string): ResolvedRoute[] => [
  {
    name: 'default',
    match: [],
    destinations: [{ host: shortHost(host), weight: 100 }],
    retries: DEFAULT_RETRY_POLICY,
  },
];

export class MeshProxy {
  readonly stats = new Stats();
  readonly spiffeId: string;
  private snapshot?: MeshSnapshot;
  private readonly listeners: Listener[] = [];
  private inboundListener?: InboundListener;
  private readonly tables = new Map<string, RouteTable>();
  private clusters = new Map<string, { key: string; cluster: UpstreamCluster }>();
  private secureContext?: tls.SecureContext;

  constructor(
    readonly spec: ProxySpec,
    readonly certificate: WorkloadCertificate,
    private readonly tracer: ProxyTracer,
    private readonly accessLog: (line: string) => void,
  ) {
    this.spiffeId = spiffeIdOf(spec.namespace, spec.serviceAccount);
  }

  /** The ports each listener got (the spec's, or the OS's for 0). */
  ports: { inbound?: number; outbound: Record<string, number>; gateway?: number } = { outbound: {} };

  private context(prefix: string): RouterContext {
    return {
      proxy: this.spec.name,
      stats: this.stats,
      httpPrefix: `http.${prefix}.`,
      tracer: this.tracer,
      accessLog: this.accessLog,
    };
  }

  /** The PeerAuthentication mode of its app's port. */
  mtlsMode(): 'STRICT' | 'PERMISSIVE' | 'DISABLE' {
    if (!this.snapshot) return 'STRICT';
    return mtlsMode(
      this.snapshot.config.peerAuthentications,
      { ...this.workload(), sidecar: true },
      TARGET_PORT,
    );
  }

  private workload() {
    return { name: this.spec.name, namespace: this.spec.namespace, labels: this.spec.labels };
  }

  /** Opens the listeners; call {@link apply} first. */
  async start(): Promise<void> {
    const { inbound, outbound = [], gateway } = this.spec;
    if (inbound) {
      const listener = await startInboundListener(
        inbound.port,
        {
          mode: () => this.mtlsMode(),
          secureContext: () => this.secureContext!,
          refused: () => this.stats.inc(`listener.0.0.0.0_${TARGET_PORT}.no_filter_chain_match`),
          handshakeFailed: () => this.stats.inc(`listener.0.0.0.0_${TARGET_PORT}.ssl.connection_error`),
        },
        (req, res) =>
          void routeRequest(
            this.context(`inbound_0.0.0.0_${TARGET_PORT}`),
            this.tables.get('inbound')!,
            req,
            res,
          ),
      );
      this.listeners.push(listener);
      this.inboundListener = listener;
      this.ports.inbound = listener.port;
    }
    for (const { host, port } of outbound) {
      const listener = await startHttpListener(
        port,
        (req, res) =>
          void routeRequest(
            this.context(`outbound_0.0.0.0_${SERVICE_PORT}`),
            this.tables.get(`outbound:${host}`)!,
            req,
            res,
          ),
      );
      this.listeners.push(listener);
      this.ports.outbound[host] = listener.port;
    }
    if (gateway) {
      const listener = await startHttpListener(
        gateway.port,
        (req, res) =>
          void routeRequest(
            this.context(`outbound_0.0.0.0_${gateway.port}`),
            this.tables.get('gateway')!,
            req,
            res,
          ),
        gateway.host,
      );
      this.listeners.push(listener);
      this.ports.gateway = listener.port;
    }
  }

  /**
   * Points the inbound listener at its app, listening at `address` (host:port) as process `pid`, as
   * Envoy's inbound cluster reaches the app in its pod; the configuration in force is applied again.
   * @throws Error when the proxy has no inbound listener.
   */
  setApp(address: string, pid?: number): void {
    if (!this.spec.inbound) throw new Error(`${this.spec.name} has no inbound listener`);
    this.spec.inbound.appAddress = address;
    this.spec.pid = pid;
    if (this.snapshot) this.apply(this.snapshot);
  }

  /** Takes a new configuration: route tables rebuilt, clusters kept where unchanged. */
  apply(snapshot: MeshSnapshot): void {
    this.snapshot = snapshot;
    this.secureContext = tls.createSecureContext({
      cert: this.certificate.certPem,
      key: this.certificate.keyPem,
      ca: snapshot.rootPem,
      // Clients resume TLS sessions; a server that asks for client certificates needs a session context for that.
      sessionIdContext: createHash('sha256').update(this.spiffeId).digest('hex').slice(0, 32),
    });
    const used = new Map<string, { key: string; cluster: UpstreamCluster }>();
    const clusterFor = (namespace: string) => (destination: ResolvedDestination) =>
      this.cluster(snapshot, namespace, destination, used);
    const { namespace } = this.spec;

    if (this.spec.inbound) this.tables.set('inbound', this.inboundTable(snapshot, used));
    for (const { host } of this.spec.outbound ?? []) {
      const vs = virtualServiceFor(snapshot.config, host, namespace);
      this.tables.set(`outbound:${host}`, {
        direction: 'outbound',
        authority: `${fqdn(host, namespace)}:${SERVICE_PORT}`,
        routes: vs ? resolveRoutes(vs) : defaultRoutes(host),
        cluster: clusterFor(namespace),
      });
    }
    if (this.spec.gateway) {
      const gateways = snapshot.config.gateways.filter((g) => selects(g.spec.selector, this.spec.labels));
      const bound = (gw: Gateway) => [
        gw.metadata.name,
        `${gw.metadata.namespace ?? 'default'}/${gw.metadata.name}`,
      ];
      const names = new Set(gateways.flatMap(bound));
      const vs = snapshot.config.virtualServices.find((v) =>
        v.spec.gateways?.some((g) => names.has(g) || names.has(`${v.metadata.namespace ?? 'default'}/${g}`)),
      );
      const vsNamespace = vs?.metadata.namespace ?? 'default';
      this.tables.set('gateway', {
        direction: 'outbound',
        authority: vs
          ? `${fqdn(vs.spec.http[0]!.route[0]!.destination.host, vsNamespace)}:${SERVICE_PORT}`
          : 'gateway',
        routes: vs ? resolveRoutes(vs) : [],
        cluster: clusterFor(vsNamespace),
      });
    }
    // Every cluster a route names is built now, so that the old ones no route names can be closed.
    for (const table of this.tables.values())
      for (const route of table.routes)
        for (const destination of route.destinations) table.cluster(destination);
    for (const [name, entry] of this.clusters) if (used.get(name) !== entry) void entry.cluster.close();
    this.clusters = used;
    this.inboundListener?.enforce(this.mtlsMode());
  }

  private inboundTable(
    snapshot: MeshSnapshot,
    used: Map<string, { key: string; cluster: UpstreamCluster }>,
  ): RouteTable {
    const inbound = this.spec.inbound!;
    const name = `inbound|${TARGET_PORT}||`;
    // Istio's inbound cluster: the app on its port, no circuit breaker, no outlier detection.
    const policy = {
      name,
      host: this.spec.labels.app ?? this.spec.name,
      labels: {},
      connectionPool: resolveConnectionPool(undefined),
    };
    this.keep(
      used,
      name,
      JSON.stringify([policy, inbound.appAddress]),
      () =>
        new UpstreamCluster(
          policy,
          inbound.appAddress ? [{ pod: this.spec.name, address: inbound.appAddress }] : [],
          this.stats,
        ),
    );
    const workload = { ...this.workload(), sidecar: true };
    return {
      direction: 'inbound',
      authority: `${fqdn(this.spec.labels.app ?? this.spec.name, this.spec.namespace)}:${SERVICE_PORT}`,
      routes: [{ name: 'default', match: [], destinations: [{ host: 'inbound', weight: 100 }] }],
      cluster: () => used.get(name)?.cluster,
      authorize: (req: IncomingMessage) => {
        const socket = req.socket as tls.TLSSocket;
        const spiffe = peerSpiffeId(socket);
        const source: Peer = spiffe
          ? { mtls: true, principal: principalOfSpiffeId(spiffe), ip: socket.remoteAddress }
          : { mtls: false, ip: socket.remoteAddress };
        const decision = authorize(
          snapshot.config.authorizationPolicies,
          snapshot.config.peerAuthentications,
          {
            source,
            destination: workload,
            port: TARGET_PORT,
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            host: req.headers.host,
            headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
          },
        );
        return { allowed: decision.allowed, reason: decision.reason, peer: spiffe };
      },
    };
  }

  private keep(
    used: Map<string, { key: string; cluster: UpstreamCluster }>,
    name: string,
    key: string,
    create: () => UpstreamCluster,
  ) {
    const existing = used.get(name) ?? this.clusters.get(name);
    used.set(name, existing && existing.key === key ? existing : { key, cluster: create() });
  }

  private cluster(
    snapshot: MeshSnapshot,
    namespace: string,
    destination: ResolvedDestination,
    used: Map<string, { key: string; cluster: UpstreamCluster }>,
  ): UpstreamCluster | undefined {
    const name = clusterName(
      destination.host,
      namespace,
      destination.port ?? SERVICE_PORT,
      destination.subset,
    );
    if (!used.has(name)) {
      let policy;
      try {
        policy = clusterPolicy(
          snapshot.config,
          destination.host,
          namespace,
          destination.port ?? SERVICE_PORT,
          destination.subset,
        );
      } catch {
        return undefined;
      }
      const endpoints: Endpoint[] = snapshot.workloads
        .filter(
          (w) =>
            w.namespace === namespace &&
            w.labels.app === destination.host &&
            w.inboundAddress &&
            selects(policy.labels, w.labels),
        )
        .map((w) => {
          const plaintext =
            mtlsMode(
              snapshot.config.peerAuthentications,
              { name: w.name, namespace: w.namespace, labels: w.labels, sidecar: true },
              TARGET_PORT,
            ) === 'DISABLE';
          return {
            pod: w.name,
            address: w.inboundAddress!,
            // Istio's auto mTLS: mutual TLS to every sidecar, unless its PeerAuthentication disables it.
            tls: plaintext
              ? undefined
              : {
                  cert: this.certificate.certPem,
                  key: this.certificate.keyPem,
                  ca: snapshot.rootPem,
                  spiffeId: spiffeIdOf(w.namespace, w.serviceAccount),
                },
          };
        });
      this.keep(
        used,
        name,
        JSON.stringify([policy, endpoints.map((e) => [e.pod, e.address, e.tls?.spiffeId])]),
        () => new UpstreamCluster(policy, endpoints, this.stats),
      );
    }
    return used.get(name)?.cluster;
  }

  /** The clusters in use, for the admin endpoint. */
  activeClusters(): UpstreamCluster[] {
    return [...this.clusters.values()].map((entry) => entry.cluster);
  }

  /** The route tables, for the admin endpoint. */
  routeTables(): Record<string, { routes: ResolvedRoute[] }> {
    return Object.fromEntries([...this.tables].map(([name, table]) => [name, { routes: table.routes }]));
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close()));
    await Promise.all([...this.clusters.values()].map((entry) => entry.cluster.close()));
    await this.tracer.shutdown();
  }
}
