import autocannon from 'autocannon';
import { cpuPerUnit } from './cpu';
import { median, round } from './stats';

export interface LoadOptions {
  connections: number;
  /** Seconds. */
  duration: number;
}

/** One autocannon run against one URL. Latencies in ms. */
export interface LoadResult {
  url: string;
  /** Successful (2xx) responses per second. */
  rps: number;
  latency: { p50: number; p90: number; p99: number; mean: number };
  requests: number;
  non2xx: number;
  errors: number;
  durationSec: number;
  /** CPU ms per request spent by each process of the system under test (Linux only). */
  cpuMsPerRequest?: Record<string, number>;
}

export async function runLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    timeout: 10,
  });
  return {
    url,
    rps: round(result['2xx'] / result.duration, 1),
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: round(result.latency.mean, 2),
    },
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    durationSec: result.duration,
  };
}

/** The runs of one target across rounds, and their medians (the figure reported). */
export interface TargetRuns {
  name: string;
  url: string;
  runs: LoadResult[];
  rps: number;
  latency: { p50: number; p90: number; p99: number };
  failures: number;
  /** Medians of the runs' CPU ms per request, by process. */
  cpuMsPerRequest: Record<string, number>;
}

export function combineRuns(name: string, runs: LoadResult[]): TargetRuns {
  if (runs.length === 0) throw new Error(`${name}: no runs`);
  const of = (pick: (run: LoadResult) => number) => round(median(runs.map(pick)), 2);
  return {
    name,
    url: (runs[0] as LoadResult).url,
    runs,
    rps: of((run) => run.rps),
    latency: {
      p50: of((run) => run.latency.p50),
      p90: of((run) => run.latency.p90),
      p99: of((run) => run.latency.p99),
    },
    failures: runs.reduce((sum, run) => sum + run.non2xx + run.errors, 0),
    cpuMsPerRequest: Object.fromEntries(
      Object.keys(runs[0]?.cpuMsPerRequest ?? {}).map((process) => [
        process,
        round(median(runs.map((run) => run.cpuMsPerRequest?.[process] ?? 0)), 3),
      ]),
    ),
  };
}

export interface Target {
  name: string;
  url: string;
  /** Processes whose CPU time to account to this target's requests. */
  pids?: Record<string, number>;
}

/**
 * Measures several targets in interleaved rounds (A B C, then B C A, ...), so that a slow spell of
 * the machine, or the JIT warming up, lands on every target alike instead of on whichever ran then.
 * Each target gets a short warm-up run first, which is not counted. Returns each target's
 * combined runs by name.
 */
export async function measureInterleaved(
  targets: Target[],
  options: LoadOptions & { rounds: number; warmup: number },
  progress: (line: string) => void = () => undefined,
): Promise<(name: string) => TargetRuns> {
  for (const target of targets) {
    await runLoad(target.url, { connections: options.connections, duration: options.warmup });
  }
  const runs = new Map<string, LoadResult[]>(targets.map((target) => [target.name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
    for (const target of order) {
      const { result: load, cpuMsPerUnit } = await cpuPerUnit(
        target.pids ?? {},
        () => runLoad(target.url, options),
        (run) => run.requests,
      );
      const result: LoadResult = { ...load, cpuMsPerRequest: cpuMsPerUnit };
      runs.get(target.name)?.push(result);
      progress(
        `  round ${round + 1}/${options.rounds}  ${target.name.padEnd(28)} ${String(result.rps).padStart(8)} req/s` +
          `  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms` +
          (result.non2xx + result.errors > 0 ? `  (${result.non2xx} non-2xx, ${result.errors} errors)` : ''),
      );
    }
  }
  const combined = new Map(
    targets.map((target) => [target.name, combineRuns(target.name, runs.get(target.name) ?? [])]),
  );
  return (name) => {
    const found = combined.get(name);
    if (!found) throw new Error(`no results for ${name}`);
    return found;
  };
}
