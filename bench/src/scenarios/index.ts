// The suite's scenarios: each measures one thing against baselines from the same run and returns a
// typed result; `npm run bench` and `npm run compare` each run a selection and write their report.
import { type BurstResult, burstScenario } from './burst';
import type { ColdStartScenarioResult } from './cold-start';
import { coldStartScenario } from './cold-start';
import type { ConcurrencyResult } from './concurrency';
import { concurrencyScenario } from './concurrency';
import type { ScenarioContext, StackKind } from './context';
import { type ProductsResult, productsScenario } from './products';
import { type SidecarsResult, sidecarsScenario } from './sidecars';
import { type ThumbnailsResult, thumbnailsScenario } from './thumbnails';
import { type TracingResult, tracingScenario } from './tracing';

export { ScenarioContext, type StackKind } from './context';
export type {
  BurstResult,
  ColdStartScenarioResult,
  ConcurrencyResult,
  ProductsResult,
  SidecarsResult,
  ThumbnailsResult,
  TracingResult,
};

/** Each scenario's result, by the scenario's name (the name `--only` takes). */
export interface ScenarioResults {
  products: ProductsResult;
  tracing: TracingResult;
  thumbnails: ThumbnailsResult;
  'cold-start': ColdStartScenarioResult;
  concurrency: ConcurrencyResult;
  burst: BurstResult;
  sidecars: SidecarsResult;
}

export type ScenarioName = keyof ScenarioResults;

export interface Scenario<N extends ScenarioName> {
  name: N;
  /** One line for --help. */
  what: string;
  /** The local stacks it runs against; the others are stopped before it starts. */
  stacks: readonly StackKind[];
  run(ctx: ScenarioContext): Promise<ScenarioResults[N]>;
}

export const SCENARIOS: { [N in ScenarioName]: Scenario<N> } = {
  products: {
    name: 'products',
    what: 'GET /api/products: raw node:http hop, backend alone, frontend -> backend without and with the Node sidecars, API Gateway -> Lambda',
    stacks: ['plain', 'mesh'],
    run: productsScenario,
  },
  tracing: {
    name: 'tracing',
    what: 'the chain and the backend with tracing off, exporting over OTLP, and to the local trace store',
    stacks: ['plain', 'traced', 'stored'],
    run: tracingScenario,
  },
  concurrency: {
    name: 'concurrency',
    what: 'a mix of reads and writes through the frontend at 50 connections: failures, writes stored',
    stacks: ['plain'],
    run: concurrencyScenario,
  },
  'cold-start': {
    name: 'cold-start',
    what: "Lambda bundles in fresh processes vs node -e 0, warm durations, a backend process's start",
    stacks: ['plain'],
    run: coldStartScenario,
  },
  thumbnails: {
    name: 'thumbnails',
    what: 'raw sharp vs upload -> event -> thumbnailer vs the same through the Lambda imageProcessor',
    stacks: ['plain', 'lambda'],
    run: thumbnailsScenario,
  },
  burst: {
    name: 'burst',
    what: 'from idle, 1, 10 and 50 requests at once through the mesh (Node sidecars) and to the products function',
    stacks: ['mesh', 'scale-to-zero'],
    run: burstScenario,
  },
  sidecars: {
    name: 'sidecars',
    what: 'a request through a sidecar pair of the local data plane vs straight to the app: p50 at 200 req/s, throughput',
    stacks: ['mesh'],
    run: sidecarsScenario,
  },
};

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}
