// Counters and gauges under Envoy's names (www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats,
// .../http/http_conn_man/stats, .../listeners/stats), so what the admin endpoint shows reads like a
// sidecar's `pilot-agent request GET stats`: `cluster.<cluster>.upstream_rq_retry: 3`.

/** One proxy's statistics: counters only go up; gauges are set. */
export class Stats {
  private readonly values = new Map<string, number>();

  /** Adds `by` (default 1) to a counter. */
  inc(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  /** Sets a gauge. */
  set(name: string, value: number): void {
    this.values.set(name, value);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** Every statistic whose name matches `filter` (a regular expression, as Envoy's admin takes it), sorted by name. */
  entries(filter?: RegExp): [string, number][] {
    return [...this.values.entries()]
      .filter(([name]) => !filter || filter.test(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Envoy's text format: one `name: value` line per statistic. */
  text(filter?: RegExp): string {
    return this.entries(filter)
      .map(([name, value]) => `${name}: ${value}\n`)
      .join('');
  }

  /** The counters an upstream answer adds: total, by class (2xx...) and by code. */
  countResponse(prefix: string, status: number): void {
    this.inc(`${prefix}_total`);
    this.inc(`${prefix}_${Math.floor(status / 100)}xx`);
    this.inc(`${prefix}_${status}`);
  }
}
