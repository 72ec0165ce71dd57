import type { ColdStartResult } from './coldstart';
import type { TargetRuns } from './load';
import { describeMachine, type MachineInfo } from './machine';
import { round } from './stats';
import type { ThumbnailRun } from './thumbnails';

/** The load, thumbnail and cold-start knobs that `npm run bench` and `npm run compare` share. */
export interface LoadSettings {
  connections: number;
  /** Seconds per measured load run. */
  duration: number;
  rounds: number;
  /** Seconds of unmeasured warm-up per target. */
  warmup: number;
  products: number;
  images: number;
  imageSize: string;
  thumbnailJobs: number;
  concurrency: number;
  coldRuns: number;
}

export interface BenchSettings extends LoadSettings {
  logLevel: string;
}

export interface BundleSize {
  function: string;
  bytes: number;
  gzipBytes: number;
}

export interface BenchResults {
  kind: 'bench';
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  machine: MachineInfo;
  settings: BenchSettings;
  products: {
    chainTracingOff: TargetRuns;
    backendTracingOff: TargetRuns;
    rawHop: TargetRuns;
    chainTracingOn: TargetRuns;
    backendTracingOn: TargetRuns;
    /** Size of the GET /api/products answer, which the raw hop serves as well. */
    bodyBytes: number;
  };
  thumbnails: {
    raw: ThumbnailRun;
    thumbnailer: ThumbnailRun;
    lambda: ThumbnailRun;
    imageBytes: { min: number; max: number };
  };
  coldStart: {
    results: ColdStartResult[];
    bundles: BundleSize[];
    /** The products bundle's largest sources. */
    productsComposition: Array<{ source: string; kib: number }>;
  };
  /** Spans one traced GET /api/products produces, by service and instrumentation scope. */
  spansPerRequest?: { total: number; byScope: Record<string, number> };
  targets: TargetCheck[];
}

export interface TargetCheck {
  id: 'tracing' | 'thumbnails' | 'cold-start-hello' | 'cold-start-products';
  goal: string;
  /** What was measured, in words, with the baseline beside it. */
  measured: string;
  met: boolean;
}

const pct = (value: number) => `${round(value * 100, 1)}%`;
const signed = (value: number) => `${value >= 0 ? '+' : '-'}${pct(Math.abs(value))}`;

function coldStart(results: ColdStartResult[], name: string): ColdStartResult {
  const found = results.find((result) => result.name === name);
  if (!found) throw new Error(`no cold start measured for ${name}`);
  return found;
}

/** The bench's targets, each checked against its baseline from the same run. */
export function evaluateTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const { chainTracingOff: off, chainTracingOn: on } = results.products;
  const tracingCost = off.rps > 0 ? 1 - on.rps / off.rps : 1;
  // CPU time per request of the system under test (not the load generator): the same cost, far
  // less disturbed by other work on the machine than throughput is.
  const systemCpu = (runs: TargetRuns) =>
    Object.entries(runs.cpuMsPerRequest)
      .filter(([process]) => process !== 'autocannon')
      .reduce((sum, [, ms]) => sum + ms, 0);
  const cpuOff = systemCpu(off);
  const cpuOn = systemCpu(on);
  const cpuNote =
    cpuOff > 0 && cpuOn > 0
      ? `; CPU per request ${round(cpuOn, 2)} ms vs ${round(cpuOff, 2)} ms (${signed(cpuOn / cpuOff - 1)})`
      : '';
  const { raw, thumbnailer } = results.thumbnails;
  const thumbnailShare = raw.throughput > 0 ? thumbnailer.throughput / raw.throughput : 0;
  const empty = coldStart(results.coldStart.results, 'empty node');
  const checks: TargetCheck[] = [
    {
      id: 'tracing',
      goal: 'tracing costs at most 10% of chain throughput',
      measured:
        `${on.rps} req/s with tracing vs ${off.rps} req/s without: ` +
        `${tracingCost >= 0 ? 'costs' : 'gains'} ${pct(Math.abs(tracingCost))} of throughput${cpuNote}`,
      met: tracingCost <= 0.1 && on.failures === 0 && off.failures === 0,
    },
    {
      id: 'thumbnails',
      goal: 'thumbnailer end to end at least 70% of raw sharp throughput',
      measured:
        `${thumbnailer.throughput} images/s end to end vs ${raw.throughput} images/s raw sharp: ` +
        `${pct(thumbnailShare)}`,
      met: thumbnailShare >= 0.7 && thumbnailer.failures.length === 0,
    },
  ];
  for (const [id, name] of [
    ['cold-start-hello', 'hello'],
    ['cold-start-products', 'products'],
  ] as const) {
    const fn = coldStart(results.coldStart.results, name);
    const extra = round(fn.wall.p50 - empty.wall.p50, 1);
    checks.push({
      id,
      goal: `${name} cold start within 50 ms of an empty Node process`,
      measured: `${fn.wall.p50} ms vs ${empty.wall.p50} ms for node -e 0 (median of ${fn.runs}): +${extra} ms`,
      met: extra <= 50,
    });
  }
  return checks;
}

/** A markdown table; numbers right-aligned, unless `textColumns` says the columns after the first hold text. */
function table(header: string[], rows: Array<Array<string | number>>, textColumns = false): string {
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 || textColumns ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** Rows of CPU time per unit by process; one column per process seen in any row. */
function cpuTable(unit: string, rows: Array<{ name: string; cpu?: Record<string, number> }>): string {
  const processes = [...new Set(rows.flatMap((row) => Object.keys(row.cpu ?? {})))];
  if (processes.length === 0) return '(CPU time per process is measured on Linux only.)';
  return table(
    [`CPU ms per ${unit}`, ...processes, 'total'],
    rows.map((row) => {
      const cpu = row.cpu ?? {};
      const total = Object.values(cpu).reduce((sum, value) => sum + value, 0);
      return [
        row.name,
        ...processes.map((process) => (cpu[process] !== undefined ? round(cpu[process], 2) : '')),
        round(total, 2),
      ];
    }),
  );
}

const share = (value: number, baseline: number) => (baseline > 0 ? pct(value / baseline) : 'n/a');

/** The results as markdown: one table per part, each figure beside its baseline. */
export function benchMarkdown(results: BenchResults): string {
  const { products: p, thumbnails: t, coldStart: c, settings: s } = results;
  const load = (runs: TargetRuns, baseline: TargetRuns) => [
    runs.name,
    runs.rps,
    share(runs.rps, baseline.rps),
    runs.latency.p50,
    runs.latency.p90,
    runs.latency.p99,
    runs.failures,
  ];
  const empty = coldStart(c.results, 'empty node');
  const thumbs = (run: ThumbnailRun) => [
    run.path,
    run.throughput,
    share(run.throughput, t.raw.throughput),
    round(run.latency.p50, 1),
    round(run.latency.p90, 1),
    round(run.latency.p99, 1),
    run.failures.length,
  ];
  return [
    `# Benchmark, ${results.startedAt}`,
    '',
    `Machine: ${describeMachine(results.machine)}. Run took ${results.durationSec} s.`,
    '',
    `## Products API: GET list of ${s.products} products (${p.bodyBytes} bytes)`,
    '',
    `autocannon, ${s.connections} connections, ${s.rounds} interleaved rounds of ${s.duration} s per target ` +
      `(medians), services at LOG_LEVEL=${s.logLevel}. Tracing off: no exporter (instrumentation loaded, spans ` +
      'dropped); on: OTLP/HTTP to a local receiver that discards.',
    '',
    table(
      ['target', 'req/s', 'vs raw hop', 'p50 ms', 'p90 ms', 'p99 ms', 'failures'],
      [
        load(p.rawHop, p.rawHop),
        load(p.backendTracingOff, p.rawHop),
        load(p.chainTracingOff, p.rawHop),
        load(p.backendTracingOn, p.rawHop),
        load(p.chainTracingOn, p.rawHop),
      ],
    ),
    '',
    'Where the time goes: CPU time per request of each process while its target ran (medians of the rounds).',
    '',
    cpuTable(
      'request',
      [p.rawHop, p.backendTracingOff, p.chainTracingOff, p.backendTracingOn, p.chainTracingOn].map(
        (runs) => ({
          name: runs.name,
          cpu: runs.cpuMsPerRequest,
        }),
      ),
    ),
    '',
    ...(p && results.spansPerRequest
      ? [
          `One traced GET /api/products makes ${round(results.spansPerRequest.total, 1)} spans:`,
          '',
          table(
            ['service and instrumentation', 'spans per request'],
            Object.entries(results.spansPerRequest.byScope)
              .sort((a, b) => b[1] - a[1])
              .map(([scope, count]) => [scope, round(count, 1)]),
          ),
          '',
        ]
      : []),
    `## Thumbnails: ${t.raw.images} jobs over ${s.images} JPEGs of ${s.imageSize} ` +
      `(${round(t.imageBytes.min / 1024, 0)}-${round(t.imageBytes.max / 1024, 0)} KiB), concurrency ${s.concurrency}`,
    '',
    table(
      ['path', 'images/s', 'vs raw sharp', 'p50 ms', 'p90 ms', 'p99 ms', 'failures'],
      [thumbs(t.raw), thumbs(t.thumbnailer), thumbs(t.lambda)],
    ),
    '',
    'Where the time goes: CPU time per image of each process involved.',
    '',
    cpuTable(
      'image',
      [t.raw, t.thumbnailer, t.lambda].map((run) => ({ name: run.path, cpu: run.cpuMsPerImage })),
    ),
    '',
    `## Lambda cold start: fresh node process, load the esbuild bundle, first invoke (${empty.runs} runs)`,
    '',
    table(
      ['process', 'median ms', 'vs node -e 0', 'p90 ms', 'init ms', 'first invoke ms', 'bundle KiB'],
      c.results.map((r) => {
        const bundle = c.bundles.find((b) => b.function.toLowerCase().startsWith(r.name));
        return [
          r.name,
          r.wall.p50,
          r === empty ? '' : `+${round(r.wall.p50 - empty.wall.p50, 1)}`,
          r.wall.p90,
          r.initMs ?? '',
          r.firstInvokeMs ?? '',
          bundle ? round(bundle.bytes / 1024, 1) : '',
        ];
      }),
    ),
    '',
    `Largest parts of the products bundle (KiB): ${c.productsComposition.map((part) => `${part.source} ${part.kib}`).join(', ')}.`,
    '',
    '## Targets',
    '',
    table(
      ['target', 'measured', 'met'],
      results.targets.map((check) => [check.goal, check.measured, check.met ? 'yes' : '**no**']),
      true,
    ),
    '',
  ].join('\n');
}
