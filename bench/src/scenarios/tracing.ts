import { measureInterleaved, type TargetRuns } from '../load';
import type { LocalStack } from '../local-stack';
import type { SinkStats } from '../servers';
import type { ScenarioContext } from './context';

/** What tracing costs: the same requests with tracing off and exporting, and the spans one request makes. */
export interface TracingResult {
  off: { chain: TargetRuns; backend: TargetRuns };
  on: { chain: TargetRuns; backend: TargetRuns };
  /** The chain exporting to the launcher's trace store (OTLP receiver, store, Jaeger's API), as under npm start. */
  stored: { chain: TargetRuns };
  /** Spans one traced GET /api/products produces, by service and instrumentation scope. */
  spansPerRequest: { total: number; byScope: Record<string, number> };
  /**
   * Spans the sink received while the traced targets ran, and how many their requests made (spans
   * per request times the requests autocannon counted): fewer received means the exporter dropped
   * spans, which would make tracing look cheaper than it is; a few more is expected, from requests
   * still in flight when a run ends (answered, not counted).
   */
  exported: { received: number; expected: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The batch span processor's default schedule (OTEL_BSP_SCHEDULE_DELAY), and a margin. */
const EXPORT_WAIT_MS = 5500;

async function spansReceived(sink: string): Promise<number> {
  return ((await (await fetch(`${sink}/stats`)).json()) as SinkStats).spans;
}

/** Requests a target's warm-up and rounds made. */
const requestsOf = (runs: TargetRuns) =>
  (runs.warmUp?.requests ?? 0) + runs.runs.reduce((sum, run) => sum + run.requests, 0);

/**
 * Spans per traced request, read at the sink: wait out the batch span processor's schedule (5 s by
 * default) so the load's spans are gone, tally 10 requests, wait again for their export.
 */
async function countSpans(sink: string, target: string): Promise<TracingResult['spansPerRequest']> {
  const requests = 10;
  await sleep(EXPORT_WAIT_MS);
  await fetch(`${sink}/detail/on`, { method: 'POST' });
  for (let i = 0; i < requests; i += 1) await (await fetch(target)).arrayBuffer();
  await sleep(EXPORT_WAIT_MS);
  await fetch(`${sink}/detail/off`, { method: 'POST' });
  const { detail } = (await (await fetch(`${sink}/stats`)).json()) as SinkStats;
  const byScope = Object.fromEntries(
    Object.entries(detail).map(([scope, count]) => [scope, count / requests]),
  );
  return { total: Object.values(byScope).reduce((sum, count) => sum + count, 0), byScope };
}

/**
 * The chain and the backend with tracing off and exporting to a sink that discards, and the chain
 * exporting to the launcher's trace store, interleaved; then the spans of one request.
 */
export async function tracingScenario(ctx: ScenarioContext): Promise<TracingResult> {
  const { settings, log } = ctx;
  const off = await ctx.stack('plain');
  const on = await ctx.stack('traced');
  const stored = await ctx.stack('stored');
  const sink = (await ctx.sink()).url;
  // The seeding's spans, and any left from an earlier scenario, are out of the count.
  await sleep(EXPORT_WAIT_MS);
  const before = await spansReceived(sink);
  const chainPids = (stack: LocalStack) => ({
    ...stack.pids('frontend', 'backend'),
    launcher: stack.launcherPid,
    autocannon: process.pid,
  });
  const backendPids = (stack: LocalStack) => ({
    ...stack.pids('backend'),
    launcher: stack.launcherPid,
    autocannon: process.pid,
  });
  log(`  ${settings.rounds} rounds x ${settings.duration} s per target, ${settings.connections} connections`);
  const runs = await measureInterleaved(
    [
      { name: 'chain, tracing off', url: `${off.url('frontend')}/api/products`, pids: chainPids(off) },
      { name: 'backend, tracing off', url: `${off.url('backend')}/products`, pids: backendPids(off) },
      { name: 'chain, traced', url: `${on.url('frontend')}/api/products`, pids: chainPids(on) },
      { name: 'backend, traced', url: `${on.url('backend')}/products`, pids: backendPids(on) },
      {
        name: 'chain, to the trace store',
        url: `${stored.url('frontend')}/api/products`,
        // The trace store runs in the launcher, beside dynalite: its CPU shows in that column.
        pids: chainPids(stored),
      },
    ],
    settings,
    log,
  );
  log('  counting the spans of one traced request...');
  await sleep(EXPORT_WAIT_MS);
  const received = (await spansReceived(sink)) - before;
  const spansPerRequest = await countSpans(sink, `${on.url('frontend')}/api/products`);
  const backendSpans = Object.entries(spansPerRequest.byScope)
    .filter(([scope]) => scope.startsWith('backend '))
    .reduce((sum, [, count]) => sum + count, 0);
  const traced = { chain: runs('chain, traced'), backend: runs('backend, traced') };
  const expected =
    requestsOf(traced.chain) * spansPerRequest.total + requestsOf(traced.backend) * backendSpans;
  log(`  spans received by the sink: ${received} of ${Math.round(expected)} the traced requests made`);
  return {
    off: { chain: runs('chain, tracing off'), backend: runs('backend, tracing off') },
    on: traced,
    stored: { chain: runs('chain, to the trace store') },
    spansPerRequest,
    exported: { received, expected: Math.round(expected) },
  };
}
