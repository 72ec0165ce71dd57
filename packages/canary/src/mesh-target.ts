// The mesh twin's canary: backend v2 against v1 behind the backend's VirtualService. The load goes
// through the frontend to /api/version, whose answers name the version that served them; but a failed
// answer names none, so requests and errors per version are read where Istio's telemetry reads them:
// the frontend's sidecar counts each upstream cluster's requests and 5xx answers under Envoy's names
// (cluster.outbound|80|v2|backend.mesh-demo.svc.cluster.local.upstream_rq_total, ..._5xx).
import path from 'node:path';
import { CommandError, run, shellLine } from './commands';
import type { VersionObservation } from './judge';
import { drive, type Reply } from './load';
import type { CanaryTarget, Stage, StageProbe } from './target';

export type MeshKind = 'local' | 'compose' | 'k8s';

export interface MeshTargetOptions {
  kind: MeshKind;
  /** The frontend (ingress gateway), e.g. http://localhost:8080. */
  baseUrl: string;
  /** The local data plane's admin endpoint (kind local). */
  adminUrl: string;
  /** kubectl and docker compose as commands (KUBECTL, COMPOSE), and the namespace of k8s/base. */
  kubectl: string[];
  compose: string[];
  namespace: string;
  /** APP_VERSION of the baseline (subset v1) and of the canary (subset v2). */
  versions: { baseline: string; canary: string };
  concurrency: number;
  /** Per request, ms. */
  timeoutMs: number;
  /** The repository root (scripts/promote.sh). */
  root: string;
}

/** Per subset of the backend: upstream requests and 5xx answers, as Envoy counts them. */
export type SubsetCounters = Record<'v1' | 'v2', { total: number; errors: number }>;

// A filter without '|' or '$', which pass through every shell and admin client unescaped.
const STATS_FILTER = 'outbound.80.v[12].backend.*upstream_rq_';
const COUNTER = /^cluster\.outbound\|\d+\|(v1|v2)\|backend\.[^:]*\.upstream_rq_(total|5xx): (\d+)$/;

/** Reads Envoy's text stats (`name: value` lines) into per-subset counters; absent counters are 0. */
export function parseSubsetCounters(text: string): SubsetCounters {
  const counters: SubsetCounters = { v1: { total: 0, errors: 0 }, v2: { total: 0, errors: 0 } };
  for (const line of text.split('\n')) {
    const m = COUNTER.exec(line.trim());
    if (!m) continue;
    const subset = counters[m[1] as 'v1' | 'v2'];
    if (m[2] === 'total') subset.total += Number(m[3]);
    else subset.errors += Number(m[3]);
  }
  return counters;
}

export class MeshTarget implements CanaryTarget {
  readonly description: string;
  readonly source: string;

  constructor(private readonly options: MeshTargetOptions) {
    const { baseline, canary } = options.versions;
    const plane = { local: 'local data plane', compose: 'Envoy in docker compose', k8s: 'Istio' }[
      options.kind
    ];
    this.description = `backend v2 (${canary}) against v1 (${baseline}) behind the backend's VirtualService (${plane})`;
    this.source =
      "requests and 5xx per version: the frontend's sidecar counters of each subset's cluster (upstream_rq_total, " +
      "upstream_rq_5xx); latency: the judge's own requests, by the version their answer names";
  }

  async prepare(): Promise<void> {}

  private promoteArgv(stage: Stage): string[] {
    return [
      'bash',
      path.join(this.options.root, 'scripts/promote.sh'),
      '--target',
      this.options.kind,
      String(stage),
    ];
  }

  shiftCommand(stage: Stage): string {
    return shellLine(['scripts/promote.sh', '--target', this.options.kind, String(stage)]);
  }

  async shift(stage: Stage): Promise<string[]> {
    const env = {
      ...process.env,
      MESH_ADMIN_URL: this.options.adminUrl,
      KUBECTL: shellLine(this.options.kubectl),
    };
    const { stdout } = await run(this.promoteArgv(stage), { cwd: this.options.root, env });
    return [`+ ${this.shiftCommand(stage)}`, ...stdout.trim().split('\n').filter(Boolean)];
  }

  private statsArgv(): string[] | undefined {
    const query = `stats?filter=${STATS_FILTER}`;
    if (this.options.kind === 'compose')
      return [...this.options.compose, 'exec', '-T', 'frontend-envoy', 'bash', '/etc/envoy/admin.sh', query];
    if (this.options.kind === 'k8s')
      return [
        ...this.options.kubectl,
        'exec',
        '-n',
        this.options.namespace,
        'deploy/frontend',
        '-c',
        'istio-proxy',
        '--',
        'pilot-agent',
        'request',
        'GET',
        query,
      ];
    return undefined;
  }

  private statsUrl(): string {
    return `${this.options.adminUrl.replace(/\/$/, '')}/proxies/frontend/stats?filter=${encodeURIComponent(STATS_FILTER)}`;
  }

  plan(): string[] {
    const argv = this.statsArgv();
    return [
      `load: GET ${this.options.baseUrl.replace(/\/$/, '')}/api/version, ${this.options.concurrency} at a time`,
      `counts: ${argv ? shellLine(argv) : `curl '${this.statsUrl()}'`}`,
    ];
  }

  /** The frontend sidecar's counters now. @throws CommandError or Error when they cannot be read. */
  async counters(): Promise<SubsetCounters> {
    const argv = this.statsArgv();
    if (argv) return parseSubsetCounters((await run(argv, { timeoutMs: 30_000 })).stdout);
    let response: Response;
    try {
      response = await fetch(this.statsUrl(), { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new CommandError(
        `the local data plane did not answer at ${this.options.adminUrl} (is npm start running?): ${(err as Error).message}`,
      );
    }
    if (!response.ok) throw new CommandError(`${this.statsUrl()} answered ${response.status}`);
    return parseSubsetCounters(await response.text());
  }

  private async request(): Promise<Omit<Reply, 'latencyMs'>> {
    const url = `${this.options.baseUrl.replace(/\/$/, '')}/api/version`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs) });
      const text = await response.text();
      let version: string | undefined;
      try {
        const body = JSON.parse(text) as { version?: unknown };
        if (typeof body.version === 'string') version = body.version;
      } catch {
        // Not JSON (an error page): no version to read.
      }
      return {
        failed: response.status >= 500,
        outcome: String(response.status),
        ...(version ? { version } : {}),
      };
    } catch (err) {
      const name = (err as Error).name;
      return { failed: true, outcome: name === 'TimeoutError' ? 'timed out' : 'no answer' };
    }
  }

  async probe(): Promise<StageProbe> {
    const before = await this.counters();
    const replies: Reply[] = [];
    const { baseline, canary } = this.options.versions;
    return {
      send: async (count) => {
        const batch = await drive(count, this.options.concurrency, () => this.request());
        replies.push(...batch);
        return batch;
      },
      observe: async () => {
        const now = await this.counters();
        const observation = (subset: 'v1' | 'v2', version: string): VersionObservation => ({
          name: `${subset} (${version})`,
          requests: now[subset].total - before[subset].total,
          errors: now[subset].errors - before[subset].errors,
          latenciesMs: replies.filter((r) => !r.failed && r.version === version).map((r) => r.latencyMs),
        });
        return { baseline: observation('v1', baseline), canary: observation('v2', canary) };
      },
    };
  }
}
