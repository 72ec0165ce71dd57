// HTTP load with autocannon: single runs, warm-up until a target is steady, and interleaved rounds
// over several targets with the spread of the rounds.
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { cpuPerUnit } from './cpu';
import { median, round, summarize, type Summary } from './stats';

export interface LoadOptions {
  connections: number;
  /** Seconds. */
  duration: number;
  /** Total requests per second across connections; unset: as fast as answers come. */
  rate?: number;
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
    overallRate: options.rate,
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

/** How a target was warmed before it was measured. */
export interface WarmUp {
  /** Throughput of each warm-up run, req/s. */
  rps: number[];
  /** Requests the warm-up made, answered or not. */
  requests: number;
  /** Whether the last {@link STEADY_RUNS} runs were within the tolerance of each other (else maxRuns ran out). */
  steady: boolean;
  /**
   * Throughput of the unmeasured run before each measured round (WarmUpOptions.beforeRoundSeconds),
   * req/s; their requests are counted in `requests`.
   */
  beforeRounds: number[];
}

export interface WarmUpOptions {
  /** Seconds per warm-up run. */
  seconds: number;
  /** Runs made before steadiness is judged at all. */
  minRuns: number;
  maxRuns: number;
  /** {@link STEADY_RUNS} runs in a row within this share of each other count as steady. */
  tolerance: number;
  /**
   * Seconds of unmeasured load right before each measured round of interleaved targets. A service left
   * idle for half a minute, as each target is while the others take their turns, answers well below its
   * steady rate for its next seconds of load: measured on the chain, 1 s runs after 30 s idle gave
   * 380, 415, 501, 527, 582, 670 and 705 req/s against 700 before it (after 10 s idle, no dip). Without
   * this run, a round of a few seconds measures that recovery, not the target's throughput. The cause
   * is V8's memory reducer and young-generation shrinking after idle (the README gives the figures).
   */
  beforeRoundSeconds: number;
}

/**
 * Runs in a row that must agree for a target to count as warm. Two were not enough: a service's
 * throughput climbs in steps as V8 optimises one path after another, and two runs on one step
 * agree while the next rounds still rise (a chain measured 230 req/s warm, then 360 -> 510 in
 * its rounds).
 */
export const STEADY_RUNS = 3;

/**
 * Loads a target in short runs until its throughput stops moving: the JIT, V8's heap sizing and
 * connection pools settle over the first seconds, and a figure taken before that rises round after
 * round. At least `minRuns` runs, then until the last {@link STEADY_RUNS} agree or `maxRuns` ran;
 * fewer runs than that (a smoke run) are never called steady.
 */
export async function warmUntilSteady(
  url: string,
  load: Omit<LoadOptions, 'duration'>,
  options: Omit<WarmUpOptions, 'beforeRoundSeconds'>,
): Promise<WarmUp> {
  const rps: number[] = [];
  let requests = 0;
  for (let run = 0; run < options.maxRuns; run += 1) {
    const result = await runLoad(url, { ...load, duration: options.seconds });
    rps.push(result.rps);
    requests += result.requests;
    if (rps.length >= options.minRuns && isSteady(rps, options.tolerance)) {
      return { rps, requests, steady: true, beforeRounds: [] };
    }
  }
  return { rps, requests, steady: false, beforeRounds: [] };
}

/**
 * Whether the last {@link STEADY_RUNS} throughput figures are within `tolerance` (a share of the
 * largest) of each other.
 */
export function isSteady(rps: readonly number[], tolerance: number): boolean {
  if (rps.length < STEADY_RUNS) return false;
  const last = rps.slice(-STEADY_RUNS);
  const largest = Math.max(...last);
  return largest > 0 && (largest - Math.min(...last)) / largest <= tolerance;
}

/** The runs of one target across rounds, their medians (the figure reported) and their spread. */
export interface TargetRuns {
  name: string;
  url: string;
  warmUp?: WarmUp;
  runs: LoadResult[];
  rps: number;
  latency: { p50: number; p90: number; p99: number };
  /** The lowest and highest of the rounds. */
  spread: { rps: { min: number; max: number }; p50: { min: number; max: number } };
  failures: number;
  /** Medians of the runs' CPU ms per request, by process. */
  cpuMsPerRequest: Record<string, number>;
}

export function combineRuns(name: string, runs: LoadResult[], warmUp?: WarmUp): TargetRuns {
  if (runs.length === 0) throw new Error(`${name}: no runs`);
  const of = (pick: (run: LoadResult) => number) => round(median(runs.map(pick)), 2);
  const extent = (pick: (run: LoadResult) => number) => ({
    min: Math.min(...runs.map(pick)),
    max: Math.max(...runs.map(pick)),
  });
  return {
    name,
    url: (runs[0] as LoadResult).url,
    warmUp,
    runs,
    rps: of((run) => run.rps),
    latency: {
      p50: of((run) => run.latency.p50),
      p90: of((run) => run.latency.p90),
      p99: of((run) => run.latency.p99),
    },
    spread: { rps: extent((run) => run.rps), p50: extent((run) => run.latency.p50) },
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

/** `items` starting at index `by` and wrapping around: [A, B, C] by 1 is [B, C, A]. */
export function rotated<T>(items: readonly T[], by: number): T[] {
  return items.map((_, i) => items[(i + by) % items.length] as T);
}

/**
 * Measures several targets in interleaved rounds (A B C, then B C A, ...), so that a slow spell of
 * the machine lands on every target alike instead of on whichever ran then. Each target is first
 * warmed until steady (not counted), and loaded again unmeasured right before each of its rounds
 * (`warmup.beforeRoundSeconds`), after idling through the others'; `warmedUp`, when given, runs
 * between the warm-ups and the rounds (e.g. to take a snapshot of counters). Returns each target's
 * combined runs by name; the lookup throws for a name that was not measured.
 */
export async function measureInterleaved(
  targets: Target[],
  options: LoadOptions & { rounds: number; warmup: WarmUpOptions },
  progress: (line: string) => void = () => undefined,
  warmedUp?: () => Promise<void>,
): Promise<(name: string) => TargetRuns> {
  const warmUps = new Map<string, WarmUp>();
  for (const target of targets) {
    const warmUp = await warmUntilSteady(target.url, options, options.warmup);
    warmUps.set(target.name, warmUp);
    progress(
      `  warm-up  ${target.name.padEnd(34)} ${warmUp.rps.join(' -> ')} req/s` +
        (warmUp.steady ? '' : ' (not steady yet)'),
    );
  }
  await warmedUp?.();
  const runs = new Map<string, LoadResult[]>(targets.map((target) => [target.name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    for (const target of rotated(targets, round)) {
      const warmUp = warmUps.get(target.name) as WarmUp;
      if (options.warmup.beforeRoundSeconds > 0) {
        const rewarm = await runLoad(target.url, { ...options, duration: options.warmup.beforeRoundSeconds });
        warmUp.beforeRounds.push(rewarm.rps);
        warmUp.requests += rewarm.requests;
      }
      const { result: load, cpuMsPerUnit } = await cpuPerUnit(
        target.pids ?? {},
        () => runLoad(target.url, options),
        (run) => run.requests,
      );
      const result: LoadResult = { ...load, cpuMsPerRequest: cpuMsPerUnit };
      runs.get(target.name)?.push(result);
      progress(
        `  round ${round + 1}/${options.rounds}  ${target.name.padEnd(34)} ${String(result.rps).padStart(8)} req/s` +
          `  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms` +
          (result.non2xx + result.errors > 0 ? `  (${result.non2xx} non-2xx, ${result.errors} errors)` : ''),
      );
    }
  }
  const combined = new Map(
    targets.map((target) => [
      target.name,
      combineRuns(target.name, runs.get(target.name) ?? [], warmUps.get(target.name)),
    ]),
  );
  return (name) => {
    const found = combined.get(name);
    if (!found) throw new Error(`no results for ${name}`);
    return found;
  };
}

/** One run at a fixed request rate against one URL. Latencies in ms, to the µs. */
export interface RateResult {
  url: string;
  /** Requests per second asked for. */
  rate: number;
  /** Requests per second sent, as the schedule allowed (below `rate` when this process fell behind). */
  sentRps: number;
  /** Each 2xx answer from the moment its request was sent to its last byte. */
  latency: Summary;
  requests: number;
  /** Answers other than 2xx, and requests that got no answer. */
  failures: number;
  durationSec: number;
  /** CPU ms per request spent by each process of the system under test (Linux only). */
  cpuMsPerRequest?: Record<string, number>;
}

/**
 * Sends GETs at a fixed rate for `duration` seconds, request i at start + i / rate whether or not
 * earlier ones were answered (an open loop, as a constant-throughput load generator such as fortio
 * runs), over a keep-alive pool of up to `connections` connections, and times each answer to the µs.
 * autocannon's rate limit sends each connection's quota for the second back to back and records
 * whole milliseconds, so its latencies at a rate are those of small bursts, too coarse for
 * differences below a millisecond.
 */
export async function runAtRate(
  url: string,
  options: { rate: number; duration: number; connections: number },
): Promise<RateResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1 });
  const path = `${target.pathname}${target.search}`;
  const total = Math.max(1, Math.round(options.rate * options.duration));
  const latencies: number[] = [];
  let failures = 0;
  const answers: Array<Promise<void>> = [];
  const started = performance.now();
  let lastSent = started;
  try {
    for (let i = 0; i < total; i += 1) {
      const wait = started + (i * 1000) / options.rate - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const sent = performance.now();
      lastSent = sent;
      answers.push(
        pool.request({ path, method: 'GET' }).then(
          async (response) => {
            await response.body.arrayBuffer();
            if (response.statusCode >= 200 && response.statusCode < 300)
              latencies.push(performance.now() - sent);
            else failures += 1;
          },
          () => {
            failures += 1;
          },
        ),
      );
    }
    const sendingSec = (lastSent - started) / 1000;
    await Promise.all(answers);
    return {
      url,
      rate: options.rate,
      sentRps: total > 1 && sendingSec > 0 ? round((total - 1) / sendingSec, 1) : options.rate,
      latency: summarize(latencies.length > 0 ? latencies : [0]),
      requests: total,
      failures,
      durationSec: round((performance.now() - started) / 1000, 2),
    };
  } finally {
    await pool.close();
  }
}

/** The rounds of one target at a fixed rate: the medians of their percentiles, and their spread. */
export interface RateRuns {
  name: string;
  url: string;
  rate: number;
  runs: RateResult[];
  /** Medians of the rounds' percentiles, ms. */
  latency: { p50: number; p90: number; p99: number };
  /** The lowest and highest round's p50, ms. */
  spread: { p50: { min: number; max: number } };
  /** The lowest sending rate of the rounds, req/s: below `rate`, the load generator fell behind. */
  minSentRps: number;
  failures: number;
  /** Medians of the rounds' CPU ms per request, by process. */
  cpuMsPerRequest: Record<string, number>;
}

export function combineRateRuns(name: string, runs: RateResult[]): RateRuns {
  const first = runs[0];
  if (!first) throw new Error(`${name}: no runs`);
  const of = (pick: (run: RateResult) => number) => round(median(runs.map(pick)), 3);
  const p50s = runs.map((run) => run.latency.p50);
  return {
    name,
    url: first.url,
    rate: first.rate,
    runs,
    latency: {
      p50: of((run) => run.latency.p50),
      p90: of((run) => run.latency.p90),
      p99: of((run) => run.latency.p99),
    },
    spread: { p50: { min: round(Math.min(...p50s), 3), max: round(Math.max(...p50s), 3) } },
    minSentRps: Math.min(...runs.map((run) => run.sentRps)),
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
    cpuMsPerRequest: Object.fromEntries(
      Object.keys(first.cpuMsPerRequest ?? {}).map((process) => [
        process,
        round(median(runs.map((run) => run.cpuMsPerRequest?.[process] ?? 0)), 3),
      ]),
    ),
  };
}

/**
 * Measures several targets at one fixed rate in interleaved rounds, as {@link measureInterleaved}
 * does for throughput; the targets should be warm already. Returns each target's rounds by name;
 * the lookup throws for a name that was not measured.
 */
export async function measureAtRate(
  targets: Target[],
  options: { rate: number; duration: number; connections: number; rounds: number },
  progress: (line: string) => void = () => undefined,
): Promise<(name: string) => RateRuns> {
  const runs = new Map<string, RateResult[]>(targets.map((target) => [target.name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    for (const target of rotated(targets, round)) {
      const { result, cpuMsPerUnit } = await cpuPerUnit(
        target.pids ?? {},
        () => runAtRate(target.url, options),
        (run) => run.requests,
      );
      runs.get(target.name)?.push({ ...result, cpuMsPerRequest: cpuMsPerUnit });
      progress(
        `  round ${round + 1}/${options.rounds}  ${target.name.padEnd(34)} ${String(result.sentRps).padStart(6)} req/s` +
          `  p50 ${result.latency.p50.toFixed(2)} ms  p99 ${result.latency.p99.toFixed(2)} ms` +
          (result.failures > 0 ? `  (${result.failures} failed)` : ''),
      );
    }
  }
  const combined = new Map(
    targets.map((target) => [target.name, combineRateRuns(target.name, runs.get(target.name) ?? [])]),
  );
  return (name) => {
    const found = combined.get(name);
    if (!found) throw new Error(`no results for ${name}`);
    return found;
  };
}
