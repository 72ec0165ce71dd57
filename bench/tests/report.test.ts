import { benchMarkdown, evaluateTargets } from '../src/bench-report';
import { chartData, costSection, headlines, renderHtml, type CompareResults } from '../src/compare-report';
import { DEFAULT_PRICES } from '../src/prices';
import type { ScenarioResults } from '../src/scenarios';
import { atRate, coldStartScenario, measurements, runs, settings, suite, thumbnails } from './fixtures';

/** The tracing scenario's result with one stack per variant. */
function tracingResult(overrides: { onRps?: number; storedRps?: number }): ScenarioResults['tracing'] {
  const off = runs('chain, tracing off', 400, 20, { frontend: 2, backend: 2.5, dynalite: 0.7 });
  const on = runs('chain, traced', overrides.onRps ?? 380, 24);
  const stored = runs('chain, to the trace store', overrides.storedRps ?? 380, 22);
  return {
    stacks: 1,
    off: { chain: off, chainByStack: [off], backend: runs('backend, tracing off', 800, 10) },
    on: { chain: on, chainByStack: [on], backend: runs('backend, traced', 700, 12) },
    stored: { chain: stored, chainByStack: [stored] },
    spansPerRequest: { total: 6, byScope: { 'frontend @opentelemetry/instrumentation-http': 2 } },
    exported: { received: 99_000, expected: 100_000 },
  };
}

function benchScenarios(
  overrides: {
    onRps?: number;
    storedRps?: number;
    e2e?: number;
    products?: number;
    pairP50?: number;
    pairRps?: number;
  } = {},
): Partial<ScenarioResults> {
  return {
    tracing: tracingResult(overrides),
    thumbnails: {
      raw: thumbnails('raw sharp (in process)', 100, 20),
      thumbnailer: thumbnails('thumbnailer', overrides.e2e ?? 50),
      lambda: thumbnails('Lambda imageProcessor', 45),
      imageBytes: { min: 400_000, max: 560_000 },
    },
    'cold-start': coldStartScenario(overrides.products ?? 100),
    sidecars: {
      rate: 200,
      mesh: { stage: 'canary-100', pod: 'backend-v2-0' },
      paths: [
        {
          request: 'GET /products',
          atRate: {
            direct: atRate('direct GET /products', 1.5, { backend: 2 }),
            sidecars: atRate('sidecar pair GET /products', overrides.pairP50 ?? 2.5, {
              backend: 2,
              'data plane': 0.8,
            }),
          },
          throughput: {
            direct: runs('direct GET /products', 600, 15),
            sidecars: runs('sidecar pair GET /products', overrides.pairRps ?? 300, 30, { 'data plane': 0.9 }),
          },
        },
        {
          request: 'GET /version',
          atRate: {
            direct: atRate('direct GET /version', 0.4),
            sidecars: atRate('sidecar pair GET /version', 1.2),
          },
          throughput: {
            direct: runs('direct GET /version', 2000, 4),
            sidecars: runs('sidecar pair GET /version', 900, 10),
          },
        },
      ],
    },
    concurrency: {
      connections: 50,
      warmupRequests: 5000,
      requests: 10_000,
      ok: 10_000,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      rps: 812.3,
      latency: { p50: 50, p99: 180, max: 900 },
      created: 1000,
      stored: 1000,
      loadAverage: { start: 1.2, end: 2.4 },
    },
  };
}

describe('evaluateTargets', () => {
  it('meets each target exactly at its limit', () => {
    const checks = evaluateTargets(suite(benchScenarios()));
    expect(checks.map((check) => [check.id, check.met])).toEqual([
      ['tracing', true],
      ['trace-store', true],
      ['thumbnails', true],
      ['cold-start-hello', true],
      ['cold-start-products', true],
      ['sidecars-latency GET /products', true],
      ['sidecars-throughput GET /products', true],
      ['sidecars-latency GET /version', true],
      ['sidecars-throughput GET /version', false],
      ['concurrency', true],
    ]);
    expect(checks[0]?.measured).toBe(
      'traced 380 req/s (rounds 370-390) vs tracing off 400 req/s (rounds 390-410): -5% throughput; ' +
        '99000 spans exported for 100000 counted',
    );
    expect(checks[1]?.measured).toBe(
      'to the trace store 380 req/s (rounds 370-390) vs tracing off 400 req/s (rounds 390-410): -5% throughput',
    );
    expect(checks[2]?.measured).toBe('50 images/s end to end vs 100 images/s raw sharp: 50%');
    expect(checks[4]?.measured).toBe(
      '100 ms (runs 90-160) vs 50 ms for node -e 0 (runs 45-80), medians of 9: +50 ms',
    );
    expect(checks[5]?.measured).toBe(
      'p50 through the pair 2.5 ms (rounds 2.25-2.75) vs direct 1.5 ms (rounds 1.35-1.65): +1 ms; ' +
        'the data plane spent 0.8 ms CPU per request',
    );
    expect(checks[6]?.measured).toBe(
      '300 req/s (rounds 290-310) through the pair vs 600 req/s (rounds 590-610) direct: 50%; ' +
        'the data plane spent 0.9 ms CPU per request',
    );
    expect(checks[8]?.goal).toBe(
      "through a sidecar pair at least 50% of the direct path's throughput, GET /version",
    );
    expect(checks[8]?.measured).toContain(': 45%');
    expect(checks[9]?.measured).toBe(
      '10000 of 10000 answered 2xx (0 non-2xx, 0 errors of which 0 timeouts), 1000 created and 1000 stored, ' +
        'at 812.3 req/s; load average 1.2 -> 2.4 on 2 CPUs',
    );
  });

  it('misses each target just past its limit, and reports the figures', () => {
    const checks = evaluateTargets(
      suite(
        benchScenarios({
          onRps: 379,
          storedRps: 379,
          e2e: 49.9,
          products: 100.1,
          pairP50: 2.51,
          pairRps: 299,
        }),
      ),
    );
    expect(checks.map((check) => check.met)).toEqual([
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      true,
      false,
      true,
    ]);
    expect(checks[0]?.measured).toContain('-5.2% throughput');
    expect(checks[5]?.measured).toContain(': +1.01 ms');
    expect(checks[6]?.measured).toContain(': 49.8%');
  });

  it('does not count a latency at a rate the load generator did not keep up', () => {
    const scenarios = benchScenarios({ pairP50: 1.6 });
    scenarios.sidecars!.paths[0]!.atRate.direct.minSentRps = 189;
    const check = evaluateTargets(suite(scenarios)).find((c) => c.id === 'sidecars-latency GET /products');
    expect(check?.measured).toContain('the load generator fell behind (189 req/s sent)');
    expect(check?.met).toBe(false);
  });

  it('writes a negative difference with one sign: a cold start faster than node -e 0 is "-15.5 ms"', () => {
    const scenarios = benchScenarios();
    scenarios['cold-start'] = coldStartScenario(34.5);
    const check = evaluateTargets(suite(scenarios)).find((c) => c.id === 'cold-start-products');
    expect(check?.measured).toMatch(/: -15\.5 ms$/);
    expect(check?.measured).not.toContain('+-');
    expect(check?.met).toBe(true);
  });

  it('does not count tracing as cheap when the exporter dropped spans', () => {
    const scenarios = benchScenarios({ onRps: 400 });
    scenarios.tracing!.exported = { received: 98_999, expected: 100_000 };
    const [tracing] = evaluateTargets(suite(scenarios));
    expect(tracing?.measured).toContain('98999 spans exported for 100000 counted');
    expect(tracing?.met).toBe(false);
  });

  it('adds the CPU per request of the system, without the load generator', () => {
    const scenarios = benchScenarios();
    scenarios.tracing!.on.chain.cpuMsPerRequest = {
      frontend: 2.6,
      backend: 3,
      dynalite: 0.7,
      autocannon: 0.3,
    };
    scenarios.tracing!.stored.chain.cpuMsPerRequest = {
      frontend: 2.2,
      backend: 2.4,
      dynalite: 1.1,
      autocannon: 0.3,
    };
    const [traced, stored] = evaluateTargets(suite(scenarios));
    expect(traced?.measured).toContain('; CPU per request 6.3 ms vs 5.2 ms (+21.2%)');
    expect(stored?.measured).toContain('; CPU per request 5.7 ms vs 5.2 ms (+9.6%)');
  });

  it('says a gain is a gain (noise), and counts that as met', () => {
    const [tracing] = evaluateTargets(suite(benchScenarios({ onRps: 420 })));
    expect(tracing?.measured).toContain('+5% throughput');
    expect(tracing?.met).toBe(true);
  });

  it('does not count a run with failures as meeting its target', () => {
    const scenarios = benchScenarios({ e2e: 95 });
    scenarios.thumbnails!.thumbnailer.failures = ['photo 01.jpg: no thumbnail within 60000 ms'];
    scenarios.concurrency = { ...scenarios.concurrency!, ok: 9998, non2xx: 2 };
    const checks = evaluateTargets(suite(scenarios));
    expect(checks.find((c) => c.id === 'thumbnails')?.met).toBe(false);
    expect(checks.find((c) => c.id === 'concurrency')?.met).toBe(false);
  });

  it('checks a write acknowledged but not stored as a miss', () => {
    const scenarios = benchScenarios();
    scenarios.concurrency = { ...scenarios.concurrency!, stored: 999 };
    expect(evaluateTargets(suite(scenarios)).find((c) => c.id === 'concurrency')?.met).toBe(false);
  });

  it('checks only the targets of the scenarios that ran', () => {
    const { thumbnails: only } = benchScenarios();
    expect(evaluateTargets(suite({ thumbnails: only })).map((c) => c.id)).toEqual(['thumbnails']);
  });
});

describe('benchMarkdown', () => {
  it('says what the object store leaves of the machine, when the run measured it', () => {
    const scenarios = benchScenarios();
    scenarios.thumbnails!.ceiling = {
      storeMs: 15,
      sharpMs: 10,
      cpus: 2,
      imagesPerSecond: 80,
      shareOfRaw: 0.4,
    };
    const results = suite(scenarios);
    const checks = evaluateTargets(results);
    expect(benchMarkdown(results, checks)).toContain(
      "The object store's share, from the thumbnailer's run: s3rver and event delivery alone: 15 ms CPU per " +
        "image -> at most 80 images/s on 2 CPUs together with sharp's 10 ms (40% of raw sharp on the same CPUs).",
    );
    expect(checks.find((c) => c.id === 'thumbnails')?.measured).toContain('-> at most 80 images/s on 2 CPUs');
  });

  it("with several stacks per variant, shows each stack's row, then judges the pooled one", () => {
    const scenarios = benchScenarios();
    const tracing = scenarios.tracing!;
    tracing.stacks = 3;
    tracing.off.chainByStack = [1, 2, 3].map((n) => runs(`chain, tracing off #${n}`, 390 + n * 5));
    tracing.on.chainByStack = [1, 2, 3].map((n) => runs(`chain, traced #${n}`, 300 + n * 5));
    tracing.on.chain = runs('chain, traced', 310);
    const results = suite(scenarios);
    const checks = evaluateTargets(results);
    const markdown = benchMarkdown(results, checks);
    const loadTable = markdown.slice(markdown.indexOf('## Tracing'), markdown.indexOf('Where the time goes'));
    const rows = loadTable.split('\n').filter((line) => line.startsWith('| chain, traced'));
    expect(rows.map((row) => row.split(' | ')[0])).toEqual([
      '| chain, traced #1',
      '| chain, traced #2',
      '| chain, traced #3',
      '| chain, traced',
    ]);
    expect(markdown).toContain('Each variant of the chain ran on 3 stacks started on their own (#1 to #3)');
    expect(checks.find((check) => check.id === 'tracing')).toMatchObject({
      measured: expect.stringContaining('traced 310 req/s'),
      met: false,
    });
  });

  it('puts every figure beside its baseline with the spread of the rounds, and ends with the targets', () => {
    const results = suite(benchScenarios({ onRps: 300 }));
    const markdown = benchMarkdown(results, evaluateTargets(results));
    expect(markdown).toContain('| chain, tracing off | 400 | 390-410 | 100% | 20 | 40 | 80 | 0 | 2 s |');
    expect(markdown).toContain('| chain, traced | 300 | 290-310 | 75% |');
    expect(markdown).toContain('| thumbnailer | 50 | 50% |');
    expect(markdown).toContain('| products | 100 | 90-160 | +50 ms |');
    expect(markdown).toContain('| CPU ms per request | frontend | backend | dynalite | total |');
    expect(markdown).toContain(
      'One traced GET /api/products makes 6 spans; the sink received 99000 spans for the 100000',
    );
    expect(markdown).toContain('| 10000 | 0 | 0 | 0 | 812.3 | 50 | 180 | 900 | 1000 | 1000 | 1.2 -> 2.4 |');
    expect(markdown).toContain(
      '| tracing costs at most 5% of chain throughput, every span exported | traced 300 req/s (rounds 290-310) vs ' +
        'tracing off 400 req/s (rounds 390-410): -25% throughput; 99000 spans exported for 100000 counted | **no** |',
    );
    expect(markdown).toContain('Largest parts of the products bundle (KiB): zod 552.4.');
    expect(markdown).toContain('## Sidecar pair: the local data plane against straight to the app');
    expect(markdown).toContain('| GET /products | direct | 1.5 | 1.35-1.65 | 3 | 6 |  | 200 | 0 |');
    expect(markdown).toContain('| GET /products | sidecar pair | 2.5 | 2.25-2.75 | 5 | 10 | +1 | 200 | 0 |');
    expect(markdown).toContain('| sidecar pair GET /version | 900 | 890-910 | 45% |');
    expect(markdown).toContain('| sidecar pair GET /products | 2 | 0.8 | 2.8 |');
    expect(markdown).not.toContain('smoke run');
  });

  it("shows the mesh's products figures through the Node sidecars beside the apps without proxies", () => {
    const markdown = benchMarkdown(suite({ products: measurements().scenarios.products }), []);
    expect(markdown).toContain('| mesh: frontend -> backend, no proxy | 400 |');
    expect(markdown).toContain('| mesh: gateway -> frontend -> backend, Node sidecars | 250 |');
    expect(markdown).toContain(
      'The products function over the rounds (each with the load before it): 13500 invocations, all on warm execution environments.',
    );
    const unsteady = measurements().scenarios.products!;
    unsteady.lambdaEnvironments = { coldStarts: 5, invocations: 21 };
    expect(benchMarkdown(suite({ products: unsteady }), [])).toContain(
      '21 invocations, 5 of them cold starts: environments were still being created, so these rounds are not a steady load.',
    );
  });

  it('puts each burst on the mesh beside the same burst on the function, with its cold starts', () => {
    const markdown = benchMarkdown(suite({ burst: measurements().scenarios.burst }), []);
    expect(markdown).toContain('## Bursts from idle (5 s of quiet before each)');
    expect(markdown).toContain(
      '| 10 | mesh, gateway -> frontend -> backend | 100 | 120 | 160 | 0 |  |  |  |',
    );
    expect(markdown).toContain('| 10 | Lambda products | 400 | 480 | 640 | 0 | 1 | 9 | 260.5, 260.5,');
    expect(markdown).toContain('reclaimed after 2 s (LAMBDA_IDLE_TIMEOUT_SECONDS)');
  });

  it('says a --quick run is a smoke run, at the top', () => {
    const results = suite(benchScenarios(), { settings: { ...settings, quick: true } });
    const markdown = benchMarkdown(results, evaluateTargets(results));
    expect(markdown.split('\n').slice(0, 4).join('\n')).toContain('A smoke run (`--quick`)');
  });

  it('says when a target never became steady during its warm-up', () => {
    const scenarios = benchScenarios();
    scenarios.tracing!.on.chain.warmUp = { rps: [100, 200, 300], requests: 600, steady: false };
    expect(benchMarkdown(suite(scenarios), [])).toContain('| 3 s, not steady |');
  });
});

describe('compare report', () => {
  it('prices Lambda from the measured durations and the template memory, the mesh from the manifests', () => {
    const cost = costSection(measurements(), DEFAULT_PRICES)!;
    // 256 MB x 2 ms billed + 1% x 100 ms init: (0.25 x (2 + 1)) / 1000 GB-s per request.
    const products = cost.lambda.products;
    expect(products.billedMs).toBe(2);
    expect(products.gbSecondsPerRequest).toBeCloseTo(0.00075, 12);
    expect(products.perMillion.init).toBeCloseTo(0.00025 * 1e6 * 0.0000166667, 8);
    // The function's 300 log bytes per invocation, as measured, plus Lambda's own lines.
    expect(products.logBytesPerInvocation).toBeGreaterThan(300 + 150);
    expect(products.perMillion.total).toBeCloseTo(
      0.00075 * 1e6 * 0.0000166667 + 0.2 + 3.5 + products.perMillion.logs,
      6,
    );
    expect(cost.lambda.imageProcessor?.billedMs).toBe(120);
    expect(cost.mesh?.workloads.filter((w) => w.counted).map((w) => w.name)).toEqual([
      'backend-v1',
      'frontend',
    ]);
    // The cluster's month includes the load balancer in front of its ingress gateway.
    expect(cost.cluster?.loadBalancerMonthly).toBeCloseTo(0.0225 * 730, 6);
    expect(cost.cluster?.monthly).toBeCloseTo(cost.mesh!.withMesh.monthly + 0.0225 * 730, 6);
    expect(cost.breakEven?.requestsPerMonth).toBeCloseTo(
      (cost.cluster!.monthly / (products.perMillion.total - cost.cluster!.lbPerMillion)) * 1e6,
      3,
    );
    expect(cost.curve).toHaveLength(21);
    expect(cost.assumptions.join(' ')).toContain('products 256 MB, imageProcessor 1024 MB');
  });

  it("adds Envoy's cost to the mesh from Istio's published figures, with version and source", () => {
    const { envoy, assumptions } = costSection(measurements(), DEFAULT_PRICES)!;
    expect(envoy.resources).toMatchObject({ istioVersion: '1.24', vcpuPer1000Rps: 0.2, memoryMb: 60 });
    expect(envoy.latency).toMatchObject({ istioVersion: '1.20', p90Ms: 0.228, p99Ms: 0.298 });
    expect(envoy.resources.source).toContain('istio.io/v1.24/');
    expect(envoy.latency.source).toBe(
      'https://istio.io/v1.20/docs/ops/deployment/performance-and-scalability/',
    );
    expect(envoy.latency.conditions).toContain('"Latency for Istio 1.20"');
    // The chain without proxies measured 400 req/s, p90 40 ms, p99 80 ms; two hops, four proxy passes.
    expect(envoy.atChainRate?.vcpu).toBeCloseTo((4 * 0.2 * 400) / 1000, 10);
    expect(envoy.chain).toEqual({ p90: 40.46, p99: 80.6 });
    // Beside it, the same path measured through the Node sidecars.
    expect(envoy.nodeSidecars).toEqual({ rps: 250, p90: 60, p99: 120 });
    // backend-v1 (3 replicas) and frontend (1), 100m each: 400m of sidecar CPU, used up at 500 req/s.
    expect(envoy.sidecarCpuRequested).toBe(400);
    expect(envoy.rateAtSidecarRequests).toBeCloseTo(500, 6);
    expect(assumptions.join(' ')).toContain('Envoy is modelled, not measured');
  });

  it("bills each burst's cold starts for their init, rounded up to 1 ms, at the function's memory", () => {
    const { burstInit } = costSection(measurements(), DEFAULT_PRICES)!;
    // 256 MB: one init of 251 ms billed, then nine of 261 ms.
    expect(burstInit?.map((b) => [b.requests, b.coldStarts])).toEqual([
      [1, 1],
      [10, 9],
    ]);
    expect(burstInit?.[0]?.initGbSeconds).toBeCloseTo(0.251 * 0.25, 10);
    expect(burstInit?.[1]?.usd).toBeCloseTo(9 * 0.261 * 0.25 * 0.0000166667, 12);
  });

  it('still prices Lambda when the manifests could not be rendered', () => {
    const cost = costSection(measurements({ workloads: undefined }), DEFAULT_PRICES)!;
    expect(cost.mesh).toBeUndefined();
    expect(cost.curve).toBeUndefined();
    expect(cost.lambda.products.perMillion.total).toBeGreaterThan(3.7);
  });

  it('has no cost model without the cold-start scenario, which measures what Lambda bills', () => {
    const measured = measurements();
    delete measured.scenarios['cold-start'];
    expect(costSection(measured, DEFAULT_PRICES)).toBeUndefined();
  });

  it('uses overridden prices', () => {
    const cost = costSection(measurements(), { ...DEFAULT_PRICES, apiGatewayRestPerMillion: 1 })!;
    expect(cost.lambda.products.perMillion.apiGateway).toBe(1);
  });

  const results = (measured = measurements()): CompareResults => ({
    ...measured,
    cost: costSection(measured, DEFAULT_PRICES),
    notes: ['a <note> & more'],
  });

  it('gives the charts their data in the order of the tables', () => {
    const data = chartData(results());
    expect(data.bars['products-latency']?.labels).toEqual([
      'mesh: gateway -> frontend -> backend, Node sidecars',
      'mesh: frontend -> backend, no proxy',
      'mesh: backend direct',
      'Lambda: API Gateway -> products',
    ]);
    expect(data.bars['products-latency']?.datasets.map((d) => d.label)).toEqual(['p50', 'p90', 'p99']);
    expect(data.bars['products-throughput']?.datasets[0]?.data).toEqual([250, 400, 700, 900]);
    expect(data.bars['cold-start']?.labels).toEqual([
      'node -e 0',
      'Lambda hello',
      'Lambda products',
      'backend process to ready',
    ]);
    expect(data.cost?.labels[0]).toBe(0);
  });

  it('writes a self-contained page: no external scripts, data and Chart.js inline, text escaped', () => {
    const html = renderHtml(results(), 'window.Chart = function () {}; /* "</script>" inside a string */');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).toContain('<\\/script>" inside a string');
    expect(html).toContain('<li>a &lt;note&gt; &amp; more</li>');
    const json = /<script type="application\/json" id="chart-data">(.*?)<\/script>/s.exec(html)?.[1];
    expect(JSON.parse(json ?? 'null').bars['products-throughput'].datasets[0].data).toEqual([
      250, 400, 700, 900,
    ]);
    for (const id of [
      'products-latency',
      'products-throughput',
      'thumbnails-latency',
      'cold-start',
      'cost',
    ]) {
      expect(html).toContain(`<canvas id="${id}">`);
    }
    expect(html).not.toContain('smoke run');
    expect(html).toContain('<h3 id="envoy-section">Envoy sidecars, modelled</h3>');
    expect(html).toContain('https://aws.amazon.com/cloudwatch/pricing/');
    expect(html).toContain('<h2 id="burst-section">Bursts from idle</h2>');
    expect(html).toContain('<td>10</td><td>100 / 120 / 160</td><td>400 / 480 / 640</td><td>1</td><td>9</td>');
    expect(html).toContain('<td>the same path through the Node sidecars of the local data plane</td>');
  });

  it('marks a --quick run as a smoke run at the top of the page', () => {
    const html = renderHtml(
      results(measurements({ settings: { ...settings, quick: true } })),
      'window.Chart = function () {};',
    );
    expect(html).toMatch(/<h1>[^<]*<\/h1>\s*<p class="smoke" id="smoke-run">A smoke run/);
  });

  it('leaves out the sections of scenarios that did not run', () => {
    const measured = measurements();
    delete measured.scenarios.thumbnails;
    const html = renderHtml(results(measured), 'window.Chart = function () {};');
    expect(html).not.toContain('thumbnails-section');
    expect(html).toContain('products-section');
    expect(chartData(results(measured)).bars['thumbnails-latency']).toBeUndefined();
  });

  it('leads with short answers', () => {
    const lines = headlines(results());
    expect(lines[0]).toContain(
      "mesh through the ingress gateway and the local data plane's Node sidecars 250 req/s (p50 30 ms",
    );
    expect(lines[0]).toContain('its apps without proxies 400 req/s');
    expect(lines.at(-1)).toMatch(/break-even at [\d.]+ million requests a month/);
  });
});
