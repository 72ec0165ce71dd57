// One settings shape and one command line for both drivers (`npm run bench`, `npm run compare`).
import { parseArgs } from 'node:util';
import type { WarmUpOptions } from './load';

export interface Settings {
  /** A smoke run (`--quick`): one short round of everything; reports say so, and its figures mean little. */
  quick: boolean;
  /** Seconds per measured load run. */
  duration: number;
  /** Interleaved measured rounds per load target. */
  rounds: number;
  /** autocannon connections for the throughput runs. */
  connections: number;
  /** Stacks started per variant in the tracing scenario; each variant's figure pools their rounds. */
  tracingStacks: number;
  /**
   * Before measuring, each target runs `seconds`-long warm-up runs, at least `minRuns`, until three
   * in a row are within `tolerance` (a share) of each other in throughput, or `maxRuns` runs have
   * been made.
   */
  warmup: WarmUpOptions;
  /** Products in the table, so the list is a realistic page. */
  products: number;
  /** Distinct sample JPEGs, and their size. */
  images: number;
  imageSize: string;
  /** Thumbnails per path, and how many in flight. */
  thumbnailJobs: number;
  concurrency: number;
  /** Fresh processes per cold-start case. */
  coldRuns: number;
  /** Warm invocations of the products function whose durations are what Lambda bills. */
  warmInvocations: number;
  /** Share of invocations that are cold starts, for the cost model (0..1). */
  coldStartFraction: number;
  /** The concurrency scenario: requests after a warm-up, at `connections` connections. */
  load: { connections: number; warmupRequests: number; requests: number };
  /**
   * The burst scenario: N concurrent requests from idle, for each N, after `idleMs` of quiet; the
   * emulator reclaims environments idle for `idleTimeoutSeconds` (a whole number, below idleMs).
   */
  burst: { sizes: number[]; idleMs: number; idleTimeoutSeconds: number };
  /** The sidecars scenario: the fixed request rate its latencies are measured at, req/s. */
  sidecarRate: number;
  /** k8s overlay whose manifests give the mesh's footprint. */
  overlay: string;
  /** A JSON file overriding prices, if any. */
  pricesFile?: string;
  /** The services' LOG_LEVEL under load. */
  logLevel: string;
}

/** What `--help` prints below the driver's own description. */
export const OPTIONS_HELP = `Options:
  --only A,B         run only these scenarios (names above), e.g. --only thumbnails
  --duration S       seconds per measured load run                       (default 3)
  --rounds N         interleaved measured rounds per load target         (default 5)
  --before-round S   seconds of unmeasured load before each round, 0..60 (default 6)
  --connections N    autocannon connections                              (default 10)
  --tracing-stacks N stacks per variant in the tracing scenario          (default 3)
  --products N       products in the table                               (default 20)
  --images N         distinct sample JPEGs, 1920x1080                    (default 8)
  --jobs N           thumbnails per path                                 (default 60)
  --concurrency N    thumbnails in flight                                (default 4)
  --cold-runs N      fresh processes per cold start case                 (default 9)
  --cold-fraction F  share of invocations that are cold starts, 0..1     (default 0.01)
  --load-requests N  requests the concurrency scenario measures          (default 10000)
  --overlay PATH     k8s overlay for the mesh's footprint                (default k8s/overlays/canary-10)
  --prices FILE      JSON overriding any price of bench/prices.json (same field names)
  --quick            a smoke run: one short round of everything; its figures mean little
  -h, --help         this text`;

function number(value: string | undefined, name: string, fallback: number, min = 1, max = Infinity): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
    const range = max === Infinity ? `>= ${min}` : `within ${min}..${max}`;
    throw new Error(`--${name}: '${value}' is not a number ${range}`);
  }
  return parsed;
}

export interface CommandLine {
  help: boolean;
  /** Scenario names asked for with --only, in the order given; undefined: the driver's defaults. */
  only?: string[];
  settings: Settings;
}

/** Parses the drivers' command line; throws an Error naming the option on anything wrong. */
export function parseCommandLine(args: string[]): CommandLine {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      'before-round': { type: 'string' },
      connections: { type: 'string' },
      'tracing-stacks': { type: 'string' },
      products: { type: 'string' },
      images: { type: 'string' },
      jobs: { type: 'string' },
      concurrency: { type: 'string' },
      'cold-runs': { type: 'string' },
      'cold-fraction': { type: 'string' },
      'load-requests': { type: 'string' },
      overlay: { type: 'string', default: 'k8s/overlays/canary-10' },
      prices: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick;
  const only = values.only
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (values.only !== undefined && only?.length === 0) throw new Error('--only: name a scenario');
  const loadRequests = number(values['load-requests'], 'load-requests', quick ? 1000 : 10_000);
  return {
    help: values.help,
    only,
    settings: {
      quick,
      duration: number(values.duration, 'duration', quick ? 1 : 3),
      rounds: number(values.rounds, 'rounds', quick ? 1 : 5),
      connections: number(values.connections, 'connections', 10),
      tracingStacks: number(values['tracing-stacks'], 'tracing-stacks', quick ? 1 : 3),
      warmup: {
        seconds: 1,
        minRuns: quick ? 1 : 5,
        maxRuns: quick ? 1 : 20,
        tolerance: 0.05,
        beforeRoundSeconds: number(values['before-round'], 'before-round', quick ? 0 : 6, 0, 60),
      },
      products: number(values.products, 'products', 20),
      images: number(values.images, 'images', quick ? 2 : 8),
      imageSize: '1920x1080',
      thumbnailJobs: number(values.jobs, 'jobs', quick ? 4 : 60),
      concurrency: number(values.concurrency, 'concurrency', 4),
      coldRuns: number(values['cold-runs'], 'cold-runs', quick ? 2 : 9),
      warmInvocations: quick ? 20 : 200,
      coldStartFraction: number(values['cold-fraction'], 'cold-fraction', 0.01, 0, 1),
      load: { connections: 50, warmupRequests: Math.round(loadRequests / 2), requests: loadRequests },
      burst: { sizes: [1, 10, 50], idleMs: quick ? 2500 : 5000, idleTimeoutSeconds: quick ? 1 : 2 },
      sidecarRate: 200,
      overlay: values.overlay,
      pricesFile: values.prices,
      logLevel: 'warn',
    },
  };
}
