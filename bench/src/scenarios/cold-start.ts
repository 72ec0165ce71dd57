import { type BundleSize, bundleComposition, functionEnv } from '../bundles';
import {
  backendStart,
  type ColdStartResult,
  measureColdStarts,
  roundSummary,
  warmInvocations,
} from '../coldstart';
import { summarize, type Summary } from '../stats';
import type { ScenarioContext } from './context';

export interface ColdStartScenarioResult {
  /** `empty node` (node -e 0), then each function: a fresh process loads its bundle and invokes it once. */
  functions: ColdStartResult[];
  /** The mesh's counterpart: a backend process until /readyz answers, once per pod. */
  backendProcess: Summary;
  /** Warm invocations of the products function in one process: the durations Lambda bills, ms. */
  productsWarm: Summary;
  /** Bytes the products function logs per warm invocation (at LOG_LEVEL=info), which CloudWatch ingests. */
  productsLogBytes: number;
  bundles: BundleSize[];
  /** The products bundle's largest sources. */
  productsComposition: Array<{ source: string; kib: number }>;
}

/** Lambda cold starts against `node -e 0`, warm durations, and a backend process's start. */
export async function coldStartScenario(ctx: ScenarioContext): Promise<ColdStartScenarioResult> {
  const { settings, log } = ctx;
  const bundles = await ctx.bundles();
  const stack = await ctx.stack('plain');
  const env = functionEnv(stack.url('dynamodb'));
  log(`  ${settings.coldRuns} runs per case, taking turns`);
  const functions = await measureColdStarts(
    [{ name: 'empty node' }, bundles.cases.hello, bundles.cases.products],
    settings.coldRuns,
    env,
  );
  for (const fn of functions) log(`  ${fn.name}: median ${fn.wall.p50} ms`);
  const warm = await warmInvocations(bundles.cases.products, settings.warmInvocations, env);
  const productsWarm = roundSummary(summarize(warm.durations), 2);
  const backendProcess = roundSummary(summarize(await backendStart(env, settings.coldRuns)));
  log(`  backend process to ready: median ${backendProcess.p50} ms`);
  return {
    functions,
    backendProcess,
    productsWarm,
    productsLogBytes: Math.round(warm.logBytesPerInvocation),
    bundles: bundles.sizes,
    productsComposition: await bundleComposition('ProductsFunction'),
  };
}
