import { performance } from 'node:perf_hooks';
import { type LoggedInvocation, parseInvocation } from '../emulator-log';
import { between, functionSnapshot } from '../emulator-stats';
import { round, summarize, type Summary } from '../stats';
import type { ScenarioContext } from './context';

/** N requests at once after a quiet spell, on one path. Latencies in ms. */
export interface BurstRun {
  requests: number;
  latency: Summary;
  failures: number;
}

/** A burst on the serverless path, with what the emulator reported: cold starts and their inits. */
export interface LambdaBurstRun extends BurstRun {
  /** Execution environments still alive when the burst began: 0 when the quiet spell reclaimed them all. */
  warmAtStart: number;
  /** Environments the emulator reclaimed during the quiet spell before the burst. */
  reclaimedBefore: number;
  coldStarts: number;
  /** Each cold start's init, ms: Lambda bills it since August 2025. */
  initMs: number[];
}

export interface BurstResult {
  /** The quiet spell before each burst, ms. */
  idleMs: number;
  /** How long the emulator kept an idle environment here (LAMBDA_IDLE_TIMEOUT_SECONDS), s. */
  idleTimeoutSeconds: number;
  /** GET /api/products through the ingress gateway, the frontend and the backend, each behind its Node sidecar: pods that are always up. */
  mesh: BurstRun[];
  /** GET /Prod/products through API Gateway to the products function. */
  lambda: LambdaBurstRun[];
}

const FUNCTION = 'ProductsFunction';

/** How long the invocation records of a burst may trail its last answer, ms (generous: the machine may be busy). */
const RECORDS_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `count` GETs at once and times each to its last byte. */
async function burst(url: string, count: number): Promise<BurstRun> {
  const latencies: number[] = [];
  let failures = 0;
  await Promise.all(
    Array.from({ length: count }, async () => {
      const started = performance.now();
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        if (response.ok) latencies.push(performance.now() - started);
        else failures += 1;
      } catch {
        failures += 1;
      }
    }),
  );
  return { requests: count, latency: summarize(latencies.length > 0 ? latencies : [0]), failures };
}

/**
 * From idle, N concurrent requests (N = each of settings.burst.sizes) through the mesh and to the
 * products function. The emulator reclaims environments idle for `idleTimeoutSeconds`, and each
 * burst waits `idleMs` of quiet first, then until the function has no environment left (a busy
 * machine may run the reclaim late), so that each burst on the function starts from zero as on
 * Lambda after a quiet spell. Cold starts are counted by the emulator's admin endpoint, their inits
 * read from its invocation records (an environment reclaimed before the burst ends is gone from the
 * endpoint's list of environments, not from the records).
 */
export async function burstScenario(ctx: ScenarioContext): Promise<BurstResult> {
  const { sizes, idleMs, idleTimeoutSeconds } = ctx.settings.burst;
  const mesh = await ctx.stack('mesh');
  const serverless = await ctx.stack('scale-to-zero');
  const lambdaUrl = serverless.url('lambda');
  const records: LoggedInvocation[] = [];
  serverless.onLog((service, line) => {
    const record = service === 'lambda' ? parseInvocation(line) : undefined;
    if (record?.function === FUNCTION) records.push(record);
  });
  const meshRuns: BurstRun[] = [];
  const lambdaRuns: LambdaBurstRun[] = [];
  let last = await functionSnapshot(lambdaUrl, FUNCTION);
  for (const size of sizes) {
    await sleep(idleMs);
    meshRuns.push(await burst(`${mesh.url('frontend')}/api/products`, size));
    await sleep(idleMs);
    let before = await functionSnapshot(lambdaUrl, FUNCTION);
    for (let waited = 0; before.alive > 0 && waited < idleTimeoutSeconds * 1000 * 5; waited += 250) {
      await sleep(250);
      before = await functionSnapshot(lambdaUrl, FUNCTION);
    }
    records.length = 0;
    const run = await burst(`${lambdaUrl}/Prod/products`, size);
    const after = await functionSnapshot(lambdaUrl, FUNCTION);
    const during = between(before, after);
    // Each record follows its environment's answer: wait for the cold starts' records to arrive.
    const inits = () => records.flatMap((r) => (r.initDurationMs === undefined ? [] : [r.initDurationMs]));
    for (let waited = 0; inits().length < during.coldStarts && waited < RECORDS_WAIT_MS; waited += 100)
      await sleep(100);
    lambdaRuns.push({
      ...run,
      warmAtStart: before.alive,
      reclaimedBefore: between(last, before).reclaimed,
      coldStarts: during.coldStarts,
      initMs: inits().map((ms) => round(ms, 1)),
    });
    last = after;
    const [m, l] = [meshRuns.at(-1) as BurstRun, lambdaRuns.at(-1) as LambdaBurstRun];
    ctx.log(
      `  ${String(size).padStart(3)} at once: mesh p50 ${round(m.latency.p50, 1)} ms, max ${round(m.latency.max, 1)} ms; ` +
        `function p50 ${round(l.latency.p50, 1)} ms, max ${round(l.latency.max, 1)} ms, ${l.coldStarts} cold start${l.coldStarts === 1 ? '' : 's'}` +
        ` (${l.warmAtStart} warm at the start, ${l.reclaimedBefore} reclaimed in the quiet spell)` +
        (l.initMs.length < l.coldStarts
          ? `; ${l.coldStarts - l.initMs.length} cold starts logged no init`
          : ''),
    );
  }
  return { idleMs, idleTimeoutSeconds, mesh: meshRuns, lambda: lambdaRuns };
}
