// npm run bench's report: the targets, each against its baseline from the same run, and a markdown
// table per scenario.
import type { ColdStartResult } from './coldstart';
import { percent, range, signed, signedPercent } from './format';
import type { RateRuns, TargetRuns } from './load';
import { describeMachine } from './machine';
import { round } from './stats';
import type { SuiteResults } from './suite';
import { describeCeiling } from './thumbnail-ceiling';
import type { ThumbnailRun } from './thumbnails';

export interface TargetCheck {
  /** The sidecar checks name their request: `sidecars-latency GET /products`. */
  id:
    | 'tracing'
    | 'trace-store'
    | 'thumbnails'
    | 'cold-start-hello'
    | 'cold-start-products'
    | 'concurrency'
    | `sidecars-latency ${string}`
    | `sidecars-throughput ${string}`;
  goal: string;
  /** What was measured, in words, with the baseline and the spread of the rounds beside it. */
  measured: string;
  met: boolean;
}

/** Throughput with the spread of its rounds: "650 req/s (rounds 630-670)". */
function rpsWithSpread(runs: TargetRuns): string {
  return `${runs.rps} req/s (rounds ${range(runs.spread.rps.min, runs.spread.rps.max)})`;
}

/** CPU time per request of the system under test, without the load generator. */
function systemCpu(runs: TargetRuns): number {
  return Object.entries(runs.cpuMsPerRequest)
    .filter(([process]) => process !== 'autocannon')
    .reduce((sum, [, ms]) => sum + ms, 0);
}

/** What the processes of the data plane spent per request, when /proc told: " (data plane 0.42 ms CPU per request)". */
function dataPlaneCpu(runs: { cpuMsPerRequest: Record<string, number> }): string {
  const ms = runs.cpuMsPerRequest['data plane'];
  return ms === undefined ? '' : `; the data plane spent ${round(ms, 2)} ms CPU per request`;
}

/** A fixed-rate target's median p50 with its rounds' spread: "2.31 ms (rounds 2.1-2.6)". */
function p50WithSpread(runs: RateRuns): string {
  return `${round(runs.latency.p50, 2)} ms (rounds ${range(runs.spread.p50.min, runs.spread.p50.max, 2)})`;
}

/**
 * Whether the function's measured rounds ran on warm environments, in words: a cold start there
 * means the rounds did not measure the steady load they are said to.
 */
export function steadyLambdaNote(env: { coldStarts: number; invocations: number }): string {
  return env.coldStarts === 0
    ? `The products function over the rounds (each with the load before it): ${env.invocations} invocations, all on warm execution environments.`
    : `The products function over the rounds (each with the load before it): ${env.invocations} invocations, ${env.coldStarts} of them ` +
        'cold starts: environments were still being created, so these rounds are not a steady load.';
}

export function coldStartOf(results: ColdStartResult[], name: string): ColdStartResult {
  const found = results.find((result) => result.name === name);
  if (!found) throw new Error(`no cold start measured for ${name}`);
  return found;
}

/** The bench's targets for the scenarios that ran, each checked against its baseline from the same run. */
export function evaluateTargets(results: Pick<SuiteResults, 'scenarios' | 'machine'>): TargetCheck[] {
  const { tracing, thumbnails, concurrency } = results.scenarios;
  const cold = results.scenarios['cold-start'];
  const checks: TargetCheck[] = [];
  if (tracing) {
    const { chain: off } = tracing.off;
    const { chain: on } = tracing.on;
    // The relative change in throughput; computed from the difference, so 380 vs 400 is exactly -5%.
    const change = off.rps > 0 ? (on.rps - off.rps) / off.rps : -1;
    // CPU time per request is the same cost seen another way, far less disturbed by other work on
    // the machine than throughput is.
    const cpuNote = (traced: typeof on) => {
      const [cpuOff, cpuOn] = [systemCpu(off), systemCpu(traced)];
      return cpuOff > 0 && cpuOn > 0
        ? `; CPU per request ${round(cpuOn, 2)} ms vs ${round(cpuOff, 2)} ms (${signedPercent(cpuOn / cpuOff - 1)})`
        : '';
    };
    // Spans the exporter dropped would make tracing look cheaper than it is: at most 1% may go missing.
    const { received, expected } = tracing.exported;
    const delivered = expected > 0 ? received / expected : 1;
    checks.push({
      id: 'tracing',
      goal: 'tracing costs at most 5% of chain throughput, every span exported',
      measured:
        `traced ${rpsWithSpread(on)} vs tracing off ${rpsWithSpread(off)}: ` +
        `${signedPercent(change)} throughput${cpuNote(on)}; ${received} spans exported for ${expected} counted`,
      met: change >= -0.05 && on.failures === 0 && off.failures === 0 && delivered >= 0.99,
    });
    const stored = tracing.stored.chain;
    const storeChange = off.rps > 0 ? (stored.rps - off.rps) / off.rps : -1;
    checks.push({
      id: 'trace-store',
      goal: 'exporting to the local trace store costs at most 5% of chain throughput',
      measured:
        `to the trace store ${rpsWithSpread(stored)} vs tracing off ${rpsWithSpread(off)}: ` +
        `${signedPercent(storeChange)} throughput${cpuNote(stored)}`,
      met: storeChange >= -0.05 && stored.failures === 0 && off.failures === 0,
    });
  }
  if (thumbnails) {
    const { raw, thumbnailer } = thumbnails;
    const share = raw.throughput > 0 ? thumbnailer.throughput / raw.throughput : 0;
    checks.push({
      id: 'thumbnails',
      goal: 'thumbnailer end to end at least 50% of raw sharp throughput',
      measured:
        `${thumbnailer.throughput} images/s end to end vs ${raw.throughput} images/s raw sharp: ${percent(share)}` +
        (thumbnailer.failures.length > 0 ? `, ${thumbnailer.failures.length} failed` : '') +
        (thumbnails.ceiling ? `; ${describeCeiling(thumbnails.ceiling)}` : ''),
      met: share >= 0.5 && thumbnailer.failures.length === 0,
    });
  }
  if (cold) {
    const empty = coldStartOf(cold.functions, 'empty node');
    for (const [id, name] of [
      ['cold-start-hello', 'hello'],
      ['cold-start-products', 'products'],
    ] as const) {
      const fn = coldStartOf(cold.functions, name);
      const extra = fn.wall.p50 - empty.wall.p50;
      checks.push({
        id,
        goal: `${name} cold start within 50 ms of an empty Node process`,
        measured:
          `${fn.wall.p50} ms (runs ${range(fn.wall.min, fn.wall.max)}) vs ${empty.wall.p50} ms for node -e 0 ` +
          `(runs ${range(empty.wall.min, empty.wall.max)}), medians of ${fn.runs}: ${signed(extra, ' ms')}`,
        met: round(extra, 1) <= 50,
      });
    }
  }
  for (const path of results.scenarios.sidecars?.paths ?? []) {
    const { rate } = results.scenarios.sidecars!;
    const { direct, sidecars } = path.atRate;
    const added = sidecars.latency.p50 - direct.latency.p50;
    // Below the rate asked for, the load generator fell behind and the latencies are not those of that rate.
    const kept = Math.min(direct.minSentRps, sidecars.minSentRps) >= rate * 0.95;
    checks.push({
      id: `sidecars-latency ${path.request}`,
      goal: `a sidecar pair adds at most 1 ms to the p50 of ${path.request} at ${rate} req/s`,
      measured:
        `p50 through the pair ${p50WithSpread(sidecars)} vs direct ${p50WithSpread(direct)}: ${signed(added, ' ms', 2)}` +
        (kept
          ? ''
          : `; the load generator fell behind (${Math.min(direct.minSentRps, sidecars.minSentRps)} req/s sent)`) +
        dataPlaneCpu(sidecars),
      met: round(added, 2) <= 1 && kept && direct.failures === 0 && sidecars.failures === 0,
    });
    const through = path.throughput;
    const share = through.direct.rps > 0 ? through.sidecars.rps / through.direct.rps : 0;
    checks.push({
      id: `sidecars-throughput ${path.request}`,
      goal: `through a sidecar pair at least 50% of the direct path's throughput, ${path.request}`,
      measured:
        `${rpsWithSpread(through.sidecars)} through the pair vs ${rpsWithSpread(through.direct)} direct: ${percent(share)}` +
        dataPlaneCpu(through.sidecars),
      met: share >= 0.5 && through.direct.failures === 0 && through.sidecars.failures === 0,
    });
  }
  if (concurrency) {
    const c = concurrency;
    const failed = c.non2xx + c.errors;
    checks.push({
      id: 'concurrency',
      goal: `no failed request at ${c.connections} connections, every write stored once`,
      measured:
        `${c.ok} of ${c.requests} answered 2xx (${c.non2xx} non-2xx, ${c.errors} errors of which ` +
        `${c.timeouts} timeouts), ${c.created} created and ${c.stored} stored, at ${c.rps} req/s; ` +
        `load average ${c.loadAverage.start} -> ${c.loadAverage.end} on ${results.machine.cpus} CPUs`,
      met: failed === 0 && c.ok === c.requests && c.created === c.stored,
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

const share = (value: number, baseline: number) => (baseline > 0 ? percent(value / baseline) : 'n/a');

/** Load targets as rows: median throughput with the rounds' range, latency medians, failures. */
function loadTable(rows: TargetRuns[], baseline: TargetRuns, baselineName: string): string {
  return table(
    ['target', 'req/s', 'rounds', `vs ${baselineName}`, 'p50 ms', 'p90 ms', 'p99 ms', 'failures', 'warm-up'],
    rows.map((runs) => [
      runs.name,
      runs.rps,
      range(runs.spread.rps.min, runs.spread.rps.max),
      share(runs.rps, baseline.rps),
      runs.latency.p50,
      runs.latency.p90,
      runs.latency.p99,
      runs.failures,
      runs.warmUp ? `${runs.warmUp.rps.length} s${runs.warmUp.steady ? '' : ', not steady'}` : '',
    ]),
  );
}

function thumbnailRows(runs: ThumbnailRun[], raw: ThumbnailRun): Array<Array<string | number>> {
  return runs.map((run) => [
    run.path,
    run.throughput,
    share(run.throughput, raw.throughput),
    round(run.latency.p50, 1),
    round(run.latency.p90, 1),
    round(run.latency.p99, 1),
    run.failures.length,
  ]);
}

/** The results as markdown: a smoke-run warning when it was one, one section per scenario, the targets. */
export function benchMarkdown(results: SuiteResults, targets: TargetCheck[]): string {
  const { settings: s, scenarios } = results;
  const lines = [
    `# Benchmark, ${results.startedAt}`,
    '',
    ...(s.quick
      ? ['**A smoke run (`--quick`): one short round of everything. Its figures mean little.**', '']
      : []),
    `Machine: ${describeMachine(results.machine)}. Run took ${results.durationSec} s. ` +
      `Scenarios: ${results.ran.join(', ')}.`,
    '',
  ];
  const { tracing, products, concurrency, thumbnails } = scenarios;
  const cold = scenarios['cold-start'];
  if (tracing || products) {
    lines.push(
      `Load runs: autocannon, ${s.connections} connections, each target warmed in ${s.warmup.seconds} s runs, at ` +
        `least ${s.warmup.minRuns}, until three in a row are within ${percent(s.warmup.tolerance, 0)} (at most ` +
        `${s.warmup.maxRuns}), then ${s.rounds} interleaved rounds of ${s.duration} s` +
        (s.warmup.beforeRoundSeconds > 0
          ? `, each right after ${s.warmup.beforeRoundSeconds} s of unmeasured load (a service idle through ` +
            "the other targets' turns is slow for its first seconds)"
          : '') +
        '; medians, with the lowest and highest round. Services at ' +
        `LOG_LEVEL=${s.logLevel}.`,
      '',
    );
  }
  if (tracing) {
    // With several stacks per variant, each one's row, then the variant's pooled row.
    const variant = (byStack: TargetRuns[], chain: TargetRuns) =>
      tracing.stacks > 1 ? [...byStack, chain] : [chain];
    const all = [
      tracing.off.backend,
      ...variant(tracing.off.chainByStack, tracing.off.chain),
      tracing.on.backend,
      ...variant(tracing.on.chainByStack, tracing.on.chain),
      ...variant(tracing.stored.chainByStack, tracing.stored.chain),
    ];
    lines.push(
      '## Tracing: GET /api/products with tracing off and exporting',
      '',
      'Off: instrumentation loaded, no exporter. Traced: OTLP/HTTP to a local receiver that discards. To the ' +
        "trace store: OTLP/HTTP to the launcher's trace store (receiver, store and Jaeger's API in a worker " +
        'thread of the launcher), batches every second, as under npm start. The launcher column is dynalite, ' +
        'plus the trace store where it runs.' +
        (tracing.stacks > 1
          ? ` Each variant of the chain ran on ${tracing.stacks} stacks started on their own (#1 to ` +
            `#${tracing.stacks}): the same configuration started twice can run a few percent faster or slower ` +
            'for the whole run, as much as the 5% the target allows. A row without a number pools the rounds ' +
            'of its stacks; the targets are judged on it.'
          : ''),
      '',
      loadTable(all, tracing.off.chain, 'chain, off'),
      '',
      'Where the time goes: CPU time per request of each process while its target ran (medians of the rounds).',
      '',
      cpuTable(
        'request',
        all.map((runs) => ({ name: runs.name, cpu: runs.cpuMsPerRequest })),
      ),
      '',
      `One traced GET /api/products makes ${round(tracing.spansPerRequest.total, 1)} spans; the sink received ` +
        `${tracing.exported.received} spans for the ${tracing.exported.expected} the traced targets' counted requests ` +
        `made (a few more is expected: requests in flight when a run ends are answered but not counted):`,
      '',
      table(
        ['service and instrumentation', 'spans per request'],
        Object.entries(tracing.spansPerRequest.byScope)
          .sort((a, b) => b[1] - a[1])
          .map(([scope, count]) => [scope, round(count, 1)]),
      ),
      '',
    );
  }
  if (products) {
    const all = [products.rawHop, products.backend, products.chain, products.sidecars, products.lambda];
    lines.push(
      `## Products API: GET list of ${s.products} products (${products.bodyBytes} bytes)`,
      '',
      'The mesh without proxies (apps calling each other), and as npm start runs it: through the ingress ' +
        "gateway and a sidecar per pod, the local data plane's Node sidecars (not Envoy).",
      '',
      loadTable(all, products.rawHop, 'raw hop'),
      '',
      cpuTable(
        'request',
        all.map((runs) => ({ name: runs.name, cpu: runs.cpuMsPerRequest })),
      ),
      '',
      steadyLambdaNote(products.lambdaEnvironments),
      '',
    );
  }
  const { sidecars } = scenarios;
  if (sidecars) {
    lines.push(
      `## Sidecar pair: the local data plane against straight to the app`,
      '',
      `The caller's sidecar (the frontend's outbound listener) routes by the VirtualService, opens mutual TLS ` +
        `to the backend pod's sidecar, which checks the AuthorizationPolicy and passes the request to the app; ` +
        `direct: the same app, no proxy. Stage ${sidecars.mesh.stage}, one backend pod (${sidecars.mesh.pod}). ` +
        `Latency at a fixed ${sidecars.rate} req/s (an open loop, each answer timed to the µs): ${s.rounds} ` +
        `interleaved rounds of ${s.duration} s, medians of the rounds' percentiles and the lowest and highest ` +
        `round's p50. Throughput: as in the other load runs.`,
      '',
      table(
        ['request', 'path', 'p50 ms', 'rounds', 'p90 ms', 'p99 ms', 'added p50 ms', 'sent req/s', 'failures'],
        sidecars.paths.flatMap((path) =>
          [path.atRate.direct, path.atRate.sidecars].map((runs) => [
            path.request,
            runs === path.atRate.direct ? 'direct' : 'sidecar pair',
            round(runs.latency.p50, 2),
            range(runs.spread.p50.min, runs.spread.p50.max, 2),
            round(runs.latency.p90, 2),
            round(runs.latency.p99, 2),
            runs === path.atRate.direct
              ? ''
              : signed(runs.latency.p50 - path.atRate.direct.latency.p50, '', 2),
            runs.minSentRps,
            runs.failures,
          ]),
        ),
      ),
      '',
      ...sidecars.paths.flatMap((path) => [
        loadTable([path.throughput.direct, path.throughput.sidecars], path.throughput.direct, 'direct'),
        '',
      ]),
      `Where the time goes at ${sidecars.rate} req/s: CPU time per request of each process (the data plane is ` +
        'one process holding every proxy).',
      '',
      cpuTable(
        'request',
        sidecars.paths.flatMap((path) =>
          [path.atRate.direct, path.atRate.sidecars].map((runs) => ({
            name: runs.name,
            cpu: runs.cpuMsPerRequest,
          })),
        ),
      ),
      '',
    );
  }
  if (concurrency) {
    const c = concurrency;
    lines.push(
      `## Concurrency: ${c.requests} mixed requests through the frontend at ${c.connections} connections`,
      '',
      `After ${c.warmupRequests} warm-up requests; 5 in 10 list products, 4 read /api/version, 1 creates a product.`,
      '',
      table(
        [
          '2xx',
          'non-2xx',
          'errors',
          'timeouts',
          'req/s',
          'p50 ms',
          'p99 ms',
          'max ms',
          'created',
          'stored',
          'load average',
        ],
        [
          [
            c.ok,
            c.non2xx,
            c.errors,
            c.timeouts,
            c.rps,
            c.latency.p50,
            c.latency.p99,
            c.latency.max,
            c.created,
            c.stored,
            `${c.loadAverage.start} -> ${c.loadAverage.end}`,
          ],
        ],
      ),
      '',
    );
  }
  if (thumbnails) {
    const t = thumbnails;
    lines.push(
      `## Thumbnails: ${t.raw.images} jobs over ${s.images} JPEGs of ${s.imageSize} ` +
        `(${round(t.imageBytes.min / 1024, 0)}-${round(t.imageBytes.max / 1024, 0)} KiB), concurrency ${s.concurrency}`,
      '',
      table(
        ['path', 'images/s', 'vs raw sharp', 'p50 ms', 'p90 ms', 'p99 ms', 'failures'],
        thumbnailRows([t.raw, t.thumbnailer, t.lambda], t.raw),
      ),
      '',
      'Where the time goes: CPU time per image of each process involved.',
      '',
      cpuTable(
        'image',
        [t.raw, t.thumbnailer, t.lambda].map((run) => ({ name: run.path, cpu: run.cpuMsPerImage })),
      ),
      '',
      ...(t.ceiling
        ? [`The object store's share, from the thumbnailer's run: ${describeCeiling(t.ceiling)}.`, '']
        : []),
    );
  }
  if (cold) {
    const empty = coldStartOf(cold.functions, 'empty node');
    lines.push(
      `## Lambda cold start: fresh node process, load the esbuild bundle, first invoke (${empty.runs} runs)`,
      '',
      table(
        ['process', 'median ms', 'runs', 'vs node -e 0', 'init ms', 'first invoke ms', 'bundle KiB'],
        cold.functions.map((r) => {
          const bundle = cold.bundles.find((b) => b.function.toLowerCase().startsWith(r.name));
          return [
            r.name,
            r.wall.p50,
            range(r.wall.min, r.wall.max),
            r === empty ? '' : signed(r.wall.p50 - empty.wall.p50, ' ms'),
            r.initMs ?? '',
            r.firstInvokeMs ?? '',
            bundle ? round(bundle.bytes / 1024, 1) : '',
          ];
        }),
      ),
      '',
      `Largest parts of the products bundle (KiB): ${cold.productsComposition.map((part) => `${part.source} ${part.kib}`).join(', ')}.`,
      '',
      `A backend process until /readyz answers: median ${cold.backendProcess.p50} ms ` +
        `(runs ${range(cold.backendProcess.min, cold.backendProcess.max)}).`,
      '',
    );
  }
  const { burst } = scenarios;
  if (burst) {
    lines.push(
      `## Bursts from idle (${round(burst.idleMs / 1000, 1)} s of quiet before each)`,
      '',
      `The mesh through its ingress gateway and Node sidecars; the function through API Gateway, its idle ` +
        `execution environments reclaimed after ${burst.idleTimeoutSeconds} s (LAMBDA_IDLE_TIMEOUT_SECONDS).`,
      '',
      table(
        [
          'requests at once',
          'path',
          'p50 ms',
          'p90 ms',
          'max ms',
          'failures',
          'warm at start',
          'cold starts',
          'init ms each',
        ],
        burst.mesh.flatMap((mesh, i) => {
          const fn = burst.lambda[i];
          const row = (run: { latency: { p50: number; p90: number; max: number }; failures: number }) => [
            round(run.latency.p50, 1),
            round(run.latency.p90, 1),
            round(run.latency.max, 1),
            run.failures,
          ];
          return [
            [mesh.requests, 'mesh, gateway -> frontend -> backend', ...row(mesh), '', '', ''],
            ...(fn
              ? [
                  [
                    fn.requests,
                    'Lambda products',
                    ...row(fn),
                    fn.warmAtStart,
                    fn.coldStarts,
                    fn.initMs.join(', '),
                  ],
                ]
              : []),
          ];
        }),
      ),
      '',
    );
  }
  if (targets.length > 0) {
    lines.push(
      '## Targets',
      '',
      table(
        ['target', 'measured', 'met'],
        targets.map((check) => [check.goal, check.measured, check.met ? 'yes' : '**no**']),
        true,
      ),
      '',
    );
  }
  return lines.join('\n');
}
