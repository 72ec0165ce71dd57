import type { ColdStartResult } from '../src/coldstart';
import type { CompareMeasurements } from '../src/compare-report';
import type { ColdStartScenarioResult } from '../src/scenarios';
import type { Settings } from '../src/settings';
import type { SuiteResults } from '../src/suite';
import type { Workload } from '../src/footprint';
import type { RateRuns, TargetRuns } from '../src/load';
import type { MachineInfo } from '../src/machine';
import type { Summary } from '../src/stats';
import type { ThumbnailRun } from '../src/thumbnails';

export const machine: MachineInfo = {
  cpus: 2,
  cpuModel: 'Test CPU',
  memoryGib: 8,
  platform: 'Linux test x64',
  node: 'v20.0.0',
  loadAverage: { start: 0.5, end: 0.7 },
};

export function summary(p50: number): Summary {
  return { n: 9, min: p50 * 0.9, p50, p90: p50 * 1.2, p99: p50 * 1.5, max: p50 * 1.6, mean: p50 };
}

export function runs(name: string, rps: number, p50 = 10, cpu: Record<string, number> = {}): TargetRuns {
  return {
    name,
    url: `http://127.0.0.1:1/${name}`,
    warmUp: { rps: [rps * 0.8, rps], requests: rps * 1.8, steady: true },
    runs: [],
    rps,
    latency: { p50, p90: p50 * 2, p99: p50 * 4 },
    spread: { rps: { min: rps - 10, max: rps + 10 }, p50: { min: p50, max: p50 } },
    failures: 0,
    cpuMsPerRequest: cpu,
  };
}

/** A fixed-rate target whose rounds' p50s span p50 ± 10%. */
export function atRate(name: string, p50: number, cpu: Record<string, number> = {}, rate = 200): RateRuns {
  return {
    name,
    url: `http://127.0.0.1:1/${name}`,
    rate,
    runs: [],
    latency: { p50, p90: p50 * 2, p99: p50 * 4 },
    spread: { p50: { min: p50 * 0.9, max: p50 * 1.1 } },
    minSentRps: rate,
    failures: 0,
    cpuMsPerRequest: cpu,
  };
}

export function thumbnails(path: string, throughput: number, p50 = 100): ThumbnailRun {
  return {
    path,
    images: 24,
    concurrency: 4,
    elapsedMs: (24 / throughput) * 1000,
    throughput,
    latency: summary(p50),
    failures: [],
    cpuMsPerImage: { frontend: 20 },
  };
}

export function cold(name: string, p50: number, initMs?: number): ColdStartResult {
  return { name, runs: 9, wall: summary(p50), initMs, firstInvokeMs: initMs === undefined ? undefined : 20 };
}

export const workloads: Workload[] = [
  {
    kind: 'Deployment',
    namespace: 'mesh-demo',
    name: 'backend-v1',
    app: 'backend',
    replicas: 3,
    perPod: { cpuMillis: 50, memoryMib: 128 },
    sidecar: { cpuMillis: 100, memoryMib: 128 },
  },
  {
    kind: 'Deployment',
    namespace: 'mesh-demo',
    name: 'frontend',
    app: 'frontend',
    replicas: 1,
    perPod: { cpuMillis: 50, memoryMib: 128 },
    sidecar: { cpuMillis: 100, memoryMib: 128 },
  },
  {
    kind: 'Deployment',
    namespace: 'mesh-demo',
    name: 'minio',
    app: 'minio',
    replicas: 1,
    perPod: { cpuMillis: 100, memoryMib: 256 },
    sidecar: { cpuMillis: 100, memoryMib: 128 },
  },
];

export const settings: Settings = {
  quick: false,
  duration: 3,
  rounds: 5,
  tracingStacks: 3,
  connections: 10,
  warmup: { seconds: 1, minRuns: 5, maxRuns: 20, tolerance: 0.05, beforeRoundSeconds: 6 },
  products: 20,
  images: 8,
  imageSize: '1920x1080',
  thumbnailJobs: 24,
  concurrency: 4,
  coldRuns: 9,
  warmInvocations: 200,
  coldStartFraction: 0.01,
  load: { connections: 50, warmupRequests: 5000, requests: 10_000 },
  burst: { sizes: [1, 10, 50], idleMs: 5000, idleTimeoutSeconds: 2 },
  sidecarRate: 200,
  overlay: 'k8s/overlays/canary-10',
  logLevel: 'warn',
};

export function coldStartScenario(productsMs = 190): ColdStartScenarioResult {
  return {
    functions: [cold('empty node', 50), cold('hello', 55, 0.3), cold('products', productsMs, 100)],
    backendProcess: summary(800),
    productsWarm: summary(1.7),
    productsLogBytes: 300,
    bundles: [
      { function: 'HelloFunction', bytes: 700, gzipBytes: 500 },
      { function: 'ProductsFunction', bytes: 1_085_000, gzipBytes: 260_000 },
    ],
    productsComposition: [{ source: 'zod', kib: 552.4 }],
  };
}

export function suite(
  scenarios: SuiteResults['scenarios'],
  overrides: Partial<SuiteResults> = {},
): SuiteResults {
  return {
    kind: 'bench',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:02:00.000Z',
    durationSec: 120,
    machine,
    settings,
    ran: Object.keys(scenarios) as SuiteResults['ran'],
    scenarios,
    ...overrides,
  };
}

export function measurements(overrides: Partial<CompareMeasurements> = {}): CompareMeasurements {
  return {
    ...suite({
      products: {
        bodyBytes: 2464,
        rawHop: runs('raw node:http hop', 20000, 0.3),
        chain: runs('mesh: frontend -> backend, no proxy', 400, 20, { frontend: 2, backend: 2 }),
        sidecars: runs('mesh: gateway -> frontend -> backend, Node sidecars', 250, 30, { 'data plane': 1.5 }),
        backend: runs('mesh: backend direct', 700, 12),
        lambda: runs('Lambda: API Gateway -> products', 900, 9),
        lambdaEnvironments: { coldStarts: 0, invocations: 13_500 },
      },
      thumbnails: {
        raw: thumbnails('raw sharp (in process)', 100, 20),
        thumbnailer: thumbnails('mesh: thumbnailer', 18),
        lambda: thumbnails('Lambda: imageProcessor', 15),
        imageProcessorDurations: summary(120),
        imageBytes: { min: 400_000, max: 500_000 },
      },
      'cold-start': coldStartScenario(),
      burst: {
        idleMs: 5000,
        idleTimeoutSeconds: 2,
        mesh: [1, 10].map((requests) => ({ requests, latency: summary(10 * requests), failures: 0 })),
        lambda: [
          {
            requests: 1,
            latency: summary(300),
            failures: 0,
            warmAtStart: 0,
            reclaimedBefore: 0,
            coldStarts: 1,
            initMs: [250.2],
          },
          {
            requests: 10,
            latency: summary(400),
            failures: 0,
            warmAtStart: 1,
            reclaimedBefore: 0,
            coldStarts: 9,
            initMs: Array(9).fill(260.5),
          },
        ],
      },
    }),
    kind: 'compare',
    memoryMb: { HelloFunction: 128, ProductsFunction: 256, ImageProcessorFunction: 1024 },
    workloads,
    ...overrides,
  };
}
