import { performance } from 'node:perf_hooks';
import { parseInvocation } from '../emulator-log';
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
  coldStarts: number;
  /** Each cold start's init, ms: Lambda bills it since August 2025. */
  initMs: number[];
}

export interface BurstResult {
  /** The quiet spell before each burst, ms. */
  idleMs: number;
  /** GET /products on the mesh's backend: pods that are always up. */
  mesh: BurstRun[];
  /** GET /Prod/products through API Gateway to the products function. */
  lambda: LambdaBurstRun[];
}

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
 * From idle, N concurrent requests (N = each of settings.burst.sizes) to the mesh's backend and to
 * the products function; for the function, the cold starts the emulator reported during the burst
 * and their inits. Each burst waits `settings.burst.idleMs` of quiet first, so that an emulator that
 * reclaims idle execution environments has done so.
 */
export async function burstScenario(ctx: ScenarioContext): Promise<BurstResult> {
  const { sizes, idleMs } = ctx.settings.burst;
  const stack = await ctx.stack('lambda');
  const invocations: Array<ReturnType<typeof parseInvocation>> = [];
  stack.onLog((service, line) => {
    if (service === 'lambda') invocations.push(parseInvocation(line));
  });
  const mesh: BurstRun[] = [];
  const lambda: LambdaBurstRun[] = [];
  for (const size of sizes) {
    await sleep(idleMs);
    mesh.push(await burst(`${stack.url('backend')}/products`, size));
    await sleep(idleMs);
    invocations.length = 0;
    const run = await burst(`${stack.url('lambda')}/Prod/products`, size);
    // The emulator logs an invocation as it ends; the burst's last ones may trail its answers a little.
    await sleep(200);
    const cold = invocations.filter((entry) => entry?.function === 'ProductsFunction' && entry.coldStart);
    lambda.push({
      ...run,
      coldStarts: cold.length,
      initMs: cold.map((entry) => round(entry?.initDurationMs ?? 0, 1)),
    });
    const [m, l] = [mesh.at(-1) as BurstRun, lambda.at(-1) as LambdaBurstRun];
    ctx.log(
      `  ${String(size).padStart(3)} at once: backend p50 ${round(m.latency.p50, 1)} ms, max ${round(m.latency.max, 1)} ms; ` +
        `function p50 ${round(l.latency.p50, 1)} ms, max ${round(l.latency.max, 1)} ms, ${l.coldStarts} cold start${l.coldStarts === 1 ? '' : 's'}`,
    );
  }
  return { idleMs, mesh, lambda };
}
