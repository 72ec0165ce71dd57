// An upstream cluster of the local data plane: its hosts (the sidecars of the pods its labels
// select), their connection pools, the circuit breaker and outlier detection of its
// DestinationRule, and the load balancer. HTTP/1.1 connection pools are undici's; a connection
// carries one request at a time, so requests in flight stand for connections in use.
import { Pool } from 'undici';
import { OutlierDetector, type UpstreamResult } from './outlier-detector';
import type { ClusterPolicy } from './policy';
import type { Stats } from './stats';

/** Where a host is and how to talk to it. */
export interface Endpoint {
  /** The pod's name, shown as Envoy's hostname of the host. */
  pod: string;
  /** 127.0.0.1:<port> of the pod's sidecar inbound listener (or of the app itself, without a sidecar). */
  address: string;
  /** TLS options for mutual TLS to it (client certificate, trust bundle, identity check); plaintext when absent. */
  tls?: {
    cert: string;
    key: string;
    ca: string;
    /** The SPIFFE ID its certificate must name. */
    spiffeId: string;
  };
}

/** One host of a cluster: its endpoint, pool and what outlier detection and the load balancer need. */
export class UpstreamHost {
  readonly client: Pool;
  /** Requests in flight. */
  active = 0;
  requests = 0;
  successes = 0;
  errors = 0;

  constructor(
    readonly endpoint: Endpoint,
    connectTimeoutMs: number,
    maxRequestsPerConnection: number,
  ) {
    const tls = endpoint.tls;
    this.client = new Pool(`${tls ? 'https' : 'http'}://${endpoint.address}`, {
      pipelining: 1,
      keepAliveTimeout: 60_000,
      ...(maxRequestsPerConnection > 0 ? { maxRequestsPerClient: maxRequestsPerConnection } : {}),
      connect: {
        timeout: connectTimeoutMs,
        ...(tls && {
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          // Istio checks the peer's SPIFFE ID, not a host name (there is none to check here).
          checkServerIdentity: (_host: string, cert: { subjectaltname?: string }) =>
            cert.subjectaltname?.split(/,\s*/).includes(`URI:${tls.spiffeId}`)
              ? undefined
              : new Error(`peer certificate names ${cert.subjectaltname ?? 'nothing'}, not ${tls.spiffeId}`),
        }),
      },
    });
  }

  close(): Promise<void> {
    return this.client.destroy();
  }
}

/** Why a request got no slot: the circuit breaker's pending queue is full. */
export class OverflowError extends Error {
  override name = 'OverflowError';
}

/** The cluster's circuit breaker: at most maxConnections requests in flight, then a bounded queue. */
class CircuitBreaker {
  active = 0;
  private readonly pending: Array<() => void> = [];

  constructor(
    private maxConnections: number,
    private maxPending: number,
  ) {}

  setLimits(maxConnections: number, maxPending: number): void {
    this.maxConnections = maxConnections;
    this.maxPending = maxPending;
    this.drain();
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Resolves once a connection is free, in arrival order; a request arriving to a full queue gets
   * OverflowError at once, as Envoy answers it with 503 and x-envoy-overloaded.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const release = () => {
      this.active -= 1;
      this.drain();
    };
    if (this.active < this.maxConnections && this.pending.length === 0) {
      this.active += 1;
      return Promise.resolve(release);
    }
    if (this.pending.length >= this.maxPending)
      return Promise.reject(new OverflowError('pending requests overflow'));
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', abort);
        this.active += 1;
        resolve(release);
      };
      const abort = () => {
        const at = this.pending.indexOf(grant);
        if (at >= 0) this.pending.splice(at, 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.pending.push(grant);
    });
  }

  private drain(): void {
    while (this.active < this.maxConnections && this.pending.length) this.pending.shift()!();
  }
}

/** A cluster as one proxy sees it. */
export class UpstreamCluster {
  readonly hosts: UpstreamHost[];
  readonly breaker: CircuitBreaker;
  readonly outlier?: OutlierDetector<UpstreamHost>;
  /** Retries in flight (Envoy's max_retries circuit breaker). */
  activeRetries = 0;
  /** `cluster.<name>.` */
  readonly statPrefix: string;

  constructor(
    readonly policy: ClusterPolicy,
    endpoints: Endpoint[],
    private readonly stats: Stats,
    private readonly random: () => number = Math.random,
  ) {
    this.statPrefix = `cluster.${policy.name}.`;
    const pool = policy.connectionPool;
    this.hosts = endpoints.map(
      (e) => new UpstreamHost(e, pool.connectTimeoutMs, pool.maxRequestsPerConnection),
    );
    this.breaker = new CircuitBreaker(pool.maxConnections, pool.http1MaxPendingRequests);
    if (policy.outlierDetection) {
      this.outlier = new OutlierDetector(policy.outlierDetection, this.hosts, stats, this.statPrefix, () =>
        this.updateHealthy(),
      );
      this.outlier.start();
    }
    stats.set(`${this.statPrefix}membership_total`, this.hosts.length);
    this.updateHealthy();
  }

  /** Hosts that take traffic: every host not ejected (Istio leaves the panic threshold at 0). */
  healthyHosts(): UpstreamHost[] {
    return this.hosts.filter((host) => !this.outlier?.isEjected(host));
  }

  private updateHealthy(): void {
    this.stats.set(`${this.statPrefix}membership_healthy`, this.healthyHosts().length);
  }

  /**
   * Envoy's least-request balancer (Istio's default, LEAST_REQUEST): of two hosts drawn at random,
   * the one with fewer requests in flight. `exclude` is the previous-hosts retry predicate: hosts
   * already tried are passed over while another healthy host remains.
   * @returns undefined when no host is healthy.
   */
  pickHost(exclude: ReadonlySet<UpstreamHost> = new Set()): UpstreamHost | undefined {
    const healthy = this.healthyHosts();
    const fresh = healthy.filter((host) => !exclude.has(host));
    const candidates = fresh.length ? fresh : healthy;
    if (candidates.length <= 1) return candidates[0];
    const a = candidates[Math.floor(this.random() * candidates.length)]!;
    let b = candidates[Math.floor(this.random() * (candidates.length - 1))]!;
    if (b === a) b = candidates[candidates.length - 1]!;
    return b.active < a.active ? b : a;
  }

  /** Records a try's outcome for the host's counters and for outlier detection. */
  report(host: UpstreamHost, result: UpstreamResult): void {
    host.requests += 1;
    const failed = 'localOrigin' in result || result.status >= 500;
    if (failed) host.errors += 1;
    else host.successes += 1;
    this.outlier?.report(host, result);
    this.updateHealthy();
  }

  async close(): Promise<void> {
    this.outlier?.stop();
    await Promise.all(this.hosts.map((host) => host.close()));
  }
}
