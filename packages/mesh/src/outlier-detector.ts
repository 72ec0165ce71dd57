// Outlier detection for one upstream cluster, as Envoy implements it
// (source/common/upstream/outlier_detection_impl.cc; docs: intro/arch_overview/upstream/outlier):
// - each answer of a host is reported: a 5xx adds to its consecutive-5xx count and a 502/503/504 to
//   its consecutive-gateway-failure count; another 5xx resets the gateway count, anything else both;
// - errors the proxy sees itself count as the answers it would send in their place (Envoy's default,
//   without split_external_local_origin_errors): a connect failure as 503, a timeout as 504, a reset
//   after connecting as 500;
// - the Nth consecutive error ejects the host at once, not at the next sweep, if the ejection keeps
//   100 * (ejected + 1) / hosts within maxEjectionPercent: 50% of a one-host cluster ejects nothing
//   (ejections_overflow), as recent Envoys do without always_eject_one_host, which Istio does not set;
// - an ejected host gets no traffic; the interval sweep returns it once
//   min(baseEjectionTime * backoff, max_ejection_time) has passed since it was ejected, the backoff
//   growing by one per ejection and shrinking by one per sweep the host spends back in service.
import type { ResolvedOutlierDetection } from './policy';
import type { Stats } from './stats';

/** What one try against a host came to. */
export type UpstreamResult =
  | { status: number }
  | { localOrigin: 'connect-failure' }
  | { localOrigin: 'timeout' }
  | { localOrigin: 'reset' };

/** The status Envoy reports to outlier detection for a result (resultToHttpCode). */
export const statusForOutlierDetection = (result: UpstreamResult): number =>
  'status' in result
    ? result.status
    : { 'connect-failure': 503, timeout: 504, reset: 500 }[result.localOrigin];

const isGatewayError = (status: number) => status === 502 || status === 503 || status === 504;

interface HostMonitor {
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  ejected: boolean;
  /** Times ejected so far. */
  ejections: number;
  backoff: number;
  lastEjectionTime?: number;
  lastUnejectionTime?: number;
}

/** Outlier detection over the hosts of one cluster, keyed by whatever identifies a host (H). */
export class OutlierDetector<H> {
  private readonly monitors = new Map<H, HostMonitor>();
  private timer?: NodeJS.Timeout;

  /**
   * @param prefix the cluster's stat prefix, e.g. `cluster.outbound|80|v1|backend.mesh-demo.svc.cluster.local.`
   * @param now the clock, in ms
   */
  constructor(
    private config: ResolvedOutlierDetection,
    hosts: H[],
    private readonly stats: Stats,
    private readonly prefix: string,
    private readonly onChange: (host: H, ejected: boolean) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.setHosts(hosts);
    this.stats.set(`${prefix}outlier_detection.ejections_active`, 0);
  }

  /** Takes a new host list (and settings), keeping the state of hosts that remain. */
  setHosts(hosts: H[], config = this.config): void {
    this.config = config;
    for (const host of [...this.monitors.keys()]) if (!hosts.includes(host)) this.monitors.delete(host);
    for (const host of hosts)
      if (!this.monitors.has(host))
        this.monitors.set(host, {
          consecutive5xx: 0,
          consecutiveGatewayFailure: 0,
          ejected: false,
          ejections: 0,
          backoff: 0,
        });
    this.updateActive();
  }

  /** Starts the interval sweep (unref'd: it never keeps the process alive). */
  start(): void {
    this.stop();
    this.timer = setInterval(() => this.sweep(), this.config.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  isEjected(host: H): boolean {
    return this.monitors.get(host)?.ejected ?? false;
  }

  /** Times the host has been ejected. */
  ejections(host: H): number {
    return this.monitors.get(host)?.ejections ?? 0;
  }

  /** Records what one try against `host` came to; may eject it. */
  report(host: H, result: UpstreamResult): void {
    const monitor = this.monitors.get(host);
    if (!monitor) return;
    const status = statusForOutlierDetection(result);
    if (status < 500) {
      monitor.consecutive5xx = 0;
      monitor.consecutiveGatewayFailure = 0;
      return;
    }
    if (isGatewayError(status)) {
      monitor.consecutiveGatewayFailure += 1;
      if (
        this.config.consecutiveGatewayErrors > 0 &&
        monitor.consecutiveGatewayFailure === this.config.consecutiveGatewayErrors
      ) {
        monitor.consecutiveGatewayFailure = 0;
        this.consecutiveError(host, monitor, 'consecutive_gateway_failure');
      }
    } else monitor.consecutiveGatewayFailure = 0;
    monitor.consecutive5xx += 1;
    if (this.config.consecutive5xxErrors > 0 && monitor.consecutive5xx === this.config.consecutive5xxErrors) {
      monitor.consecutive5xx = 0;
      this.consecutiveError(host, monitor, 'consecutive_5xx');
    }
  }

  private consecutiveError(
    host: H,
    monitor: HostMonitor,
    type: 'consecutive_5xx' | 'consecutive_gateway_failure',
  ): void {
    if (monitor.ejected) return;
    this.stats.inc(`${this.prefix}outlier_detection.ejections_detected_${type}`);
    const ejected = [...this.monitors.values()].filter((m) => m.ejected).length;
    const percent = (100 * (ejected + 1)) / this.monitors.size;
    if (percent > Math.min(100, this.config.maxEjectionPercent)) {
      this.stats.inc(`${this.prefix}outlier_detection.ejections_overflow`);
      return;
    }
    // ejections_total is Envoy's deprecated counter of 5xx ejections, still the one dashboards read.
    if (type === 'consecutive_5xx') {
      this.stats.inc(`${this.prefix}outlier_detection.ejections_total`);
      this.stats.inc(`${this.prefix}outlier_detection.ejections_consecutive_5xx`);
    }
    this.stats.inc(`${this.prefix}outlier_detection.ejections_enforced_total`);
    this.stats.inc(`${this.prefix}outlier_detection.ejections_enforced_${type}`);
    monitor.ejected = true;
    monitor.ejections += 1;
    monitor.lastEjectionTime = this.now();
    if (
      monitor.backoff * this.config.baseEjectionTimeMs <
      this.config.maxEjectionTimeMs + this.config.baseEjectionTimeMs
    )
      monitor.backoff += 1;
    this.updateActive();
    this.onChange(host, true);
  }

  /** The interval sweep: returns hosts whose ejection time has passed, and lowers the backoff of healthy ones. */
  sweep(): void {
    const now = this.now();
    for (const [host, monitor] of this.monitors) {
      if (!monitor.ejected) continue;
      const ejectedFor = Math.min(
        this.config.baseEjectionTimeMs * monitor.backoff,
        this.config.maxEjectionTimeMs,
      );
      if (now - (monitor.lastEjectionTime ?? now) >= ejectedFor) {
        monitor.ejected = false;
        monitor.consecutive5xx = 0;
        monitor.consecutiveGatewayFailure = 0;
        monitor.lastUnejectionTime = now;
        this.updateActive();
        this.onChange(host, false);
      }
    }
    for (const monitor of this.monitors.values())
      if (
        !monitor.ejected &&
        monitor.lastUnejectionTime !== undefined &&
        now - monitor.lastUnejectionTime >= this.config.intervalMs &&
        monitor.backoff > 0
      )
        monitor.backoff -= 1;
  }

  private updateActive(): void {
    this.stats.set(
      `${this.prefix}outlier_detection.ejections_active`,
      [...this.monitors.values()].filter((m) => m.ejected).length,
    );
  }
}
