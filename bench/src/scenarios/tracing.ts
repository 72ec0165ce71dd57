import { measureInterleaved, type TargetRuns } from '../load';
import type { LocalStack } from '../local-stack';
import type { SinkStats } from '../servers';
import type { ScenarioContext } from './context';

/** What tracing costs: the same requests with tracing off and exporting, and the spans one request makes. */
export interface TracingResult {
  off: { chain: TargetRuns; backend: TargetRuns };
  on: { chain: TargetRuns; backend: TargetRuns };
  /** Spans one traced GET /api/products produces, by service and instrumentation scope. */
  spansPerRequest: { total: number; byScope: Record<string, number> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Spans per traced request, read at the sink: wait out the batch span processor's schedule (5 s by
 * default) so the load's spans are gone, tally 10 requests, wait again for their export.
 */
async function countSpans(sink: string, target: string): Promise<TracingResult['spansPerRequest']> {
  const requests = 10;
  await sleep(5500);
  await fetch(`${sink}/detail/on`, { method: 'POST' });
  for (let i = 0; i < requests; i += 1) await (await fetch(target)).arrayBuffer();
  await sleep(5500);
  await fetch(`${sink}/detail/off`, { method: 'POST' });
  const { detail } = (await (await fetch(`${sink}/stats`)).json()) as SinkStats;
  const byScope = Object.fromEntries(
    Object.entries(detail).map(([scope, count]) => [scope, count / requests]),
  );
  return { total: Object.values(byScope).reduce((sum, count) => sum + count, 0), byScope };
}

/** The chain and the backend with tracing off and on, interleaved, then the spans of one request. */
export async function tracingScenario(ctx: ScenarioContext): Promise<TracingResult> {
  const { settings, log } = ctx;
  const off = await ctx.stack('plain');
  const on = await ctx.stack('traced');
  const chainPids = (stack: LocalStack) => ({
    ...stack.pids('frontend', 'backend'),
    dynalite: stack.launcherPid,
    autocannon: process.pid,
  });
  const backendPids = (stack: LocalStack) => ({
    ...stack.pids('backend'),
    dynalite: stack.launcherPid,
    autocannon: process.pid,
  });
  log(`  ${settings.rounds} rounds x ${settings.duration} s per target, ${settings.connections} connections`);
  const runs = await measureInterleaved(
    [
      { name: 'chain, tracing off', url: `${off.url('frontend')}/api/products`, pids: chainPids(off) },
      { name: 'backend, tracing off', url: `${off.url('backend')}/products`, pids: backendPids(off) },
      { name: 'chain, traced', url: `${on.url('frontend')}/api/products`, pids: chainPids(on) },
      { name: 'backend, traced', url: `${on.url('backend')}/products`, pids: backendPids(on) },
    ],
    settings,
    log,
  );
  log('  counting the spans of one traced request...');
  const spansPerRequest = await countSpans((await ctx.sink()).url, `${on.url('frontend')}/api/products`);
  return {
    off: { chain: runs('chain, tracing off'), backend: runs('backend, tracing off') },
    on: { chain: runs('chain, traced'), backend: runs('backend, traced') },
    spansPerRequest,
  };
}
