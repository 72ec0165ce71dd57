import { combineRuns, measureInterleaved, rotated, type Target, type TargetRuns } from '../load';
import type { LocalStack } from '../local-stack';
import type { SinkStats } from '../servers';
import type { ScenarioContext } from './context';

/**
 * What tracing costs: the same requests with tracing off and exporting, and the spans one request
 * makes. Each variant of the chain runs on `stacks` stacks started on their own; `chain` pools the
 * rounds of all of them, `chainByStack` has each one's.
 */
export interface TracingResult {
  stacks: number;
  off: { chain: TargetRuns; chainByStack: TargetRuns[]; backend: TargetRuns };
  on: { chain: TargetRuns; chainByStack: TargetRuns[]; backend: TargetRuns };
  /** The chain exporting to the launcher's trace store (OTLP receiver, store, Jaeger's API), as under npm start. */
  stored: { chain: TargetRuns; chainByStack: TargetRuns[] };
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

/** The three ways the chain runs: stack kind and target name. */
const VARIANTS = [
  { kind: 'plain', name: 'chain, tracing off' },
  { kind: 'traced', name: 'chain, traced' },
  // The trace store runs in the launcher, beside dynalite: its CPU shows in that column.
  { kind: 'stored', name: 'chain, to the trace store' },
] as const;

/** One target's figures from the rounds of several, as if one target had run them all. */
function pooled(name: string, byStack: TargetRuns[]): TargetRuns {
  return byStack.length === 1
    ? { ...(byStack[0] as TargetRuns), name }
    : combineRuns(
        name,
        byStack.flatMap((runs) => runs.runs),
      );
}

/**
 * The chain with tracing off, exporting to a sink that discards, and exporting to the launcher's
 * trace store, each on `settings.tracingStacks` stacks, interleaved; then the backend alone off and
 * exporting, interleaved; then the spans of one request. One stack per variant is not enough to judge
 * 5%: the same configuration started twice can run a few percent faster or slower for the whole run
 * (each process's JIT, heap and CPU placement).
 */
export async function tracingScenario(ctx: ScenarioContext): Promise<TracingResult> {
  const { settings, log } = ctx;
  const count = settings.tracingStacks;
  const stacks = new Map<string, LocalStack[]>(VARIANTS.map(({ kind }) => [kind, []]));
  // Started in turns, each turn's order rotated (off, traced, stored; then traced, stored, off...),
  // so that whatever the order of starting and of measuring does falls on every variant alike: with
  // the same order each turn, the first traced and trace-store stacks were the slowest of their
  // variant in every run, the first stack with tracing off among the fastest.
  const turn = (instance: number) => rotated(VARIANTS, instance);
  for (let instance = 0; instance < count; instance += 1) {
    for (const { kind } of turn(instance)) stacks.get(kind)?.push(await ctx.stack(kind, instance));
  }
  const [off, on] = [stacks.get('plain')?.[0], stacks.get('traced')?.[0]] as [LocalStack, LocalStack];
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
  const stackName = (name: string, instance: number) => (count > 1 ? `${name} #${instance + 1}` : name);
  const chainTargets: Target[] = [];
  for (let instance = 0; instance < count; instance += 1) {
    for (const { kind, name } of turn(instance)) {
      const stack = stacks.get(kind)?.[instance] as LocalStack;
      chainTargets.push({
        name: stackName(name, instance),
        url: `${stack.url('frontend')}/api/products`,
        pids: chainPids(stack),
      });
    }
  }
  log(
    `  ${count} stack(s) per variant; ${settings.rounds} rounds x ${settings.duration} s per target, ` +
      `${settings.connections} connections`,
  );
  const runs = await measureInterleaved(chainTargets, settings, log);
  // The backend alone, after the chain's rounds: measured among them, its load would give the
  // first stack of two variants more traffic (and warmer processes) than the others.
  const backendRuns = await measureInterleaved(
    [
      { name: 'backend, tracing off', url: `${off.url('backend')}/products`, pids: backendPids(off) },
      { name: 'backend, traced', url: `${on.url('backend')}/products`, pids: backendPids(on) },
    ],
    settings,
    log,
  );
  const byStack = (name: string) =>
    Array.from({ length: count }, (_, instance) => runs(stackName(name, instance)));
  const variant = (name: string) => ({ chain: pooled(name, byStack(name)), chainByStack: byStack(name) });
  log('  counting the spans of one traced request...');
  await sleep(EXPORT_WAIT_MS);
  const received = (await spansReceived(sink)) - before;
  const spansPerRequest = await countSpans(sink, `${on.url('frontend')}/api/products`);
  const backendSpans = Object.entries(spansPerRequest.byScope)
    .filter(([scope]) => scope.startsWith('backend '))
    .reduce((sum, [, count]) => sum + count, 0);
  const traced = { ...variant('chain, traced'), backend: backendRuns('backend, traced') };
  const expected =
    traced.chainByStack.reduce((sum, stack) => sum + requestsOf(stack), 0) * spansPerRequest.total +
    requestsOf(traced.backend) * backendSpans;
  log(`  spans received by the sink: ${received} of ${Math.round(expected)} the traced requests made`);
  return {
    stacks: count,
    off: { ...variant('chain, tracing off'), backend: backendRuns('backend, tracing off') },
    on: traced,
    stored: variant('chain, to the trace store'),
    spansPerRequest,
    exported: { received, expected: Math.round(expected) },
  };
}
