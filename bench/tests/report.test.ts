import { type BenchResults, benchMarkdown, evaluateTargets } from '../src/bench-report';
import { chartData, costSection, headlines, renderHtml, type CompareResults } from '../src/compare-report';
import { DEFAULT_PRICES } from '../src/cost';
import { cold, machine, measurements, runs, thumbnails } from './fixtures';

function bench(
  overrides: { onRps?: number; e2e?: number; products?: number } = {},
): Omit<BenchResults, 'targets'> {
  return {
    kind: 'bench',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:03:00.000Z',
    durationSec: 180,
    machine,
    settings: {
      connections: 10,
      duration: 4,
      rounds: 3,
      warmup: 2,
      products: 20,
      images: 8,
      imageSize: '1920x1080',
      thumbnailJobs: 24,
      concurrency: 4,
      coldRuns: 9,
      logLevel: 'warn',
    },
    products: {
      chainTracingOff: runs('frontend -> backend -> db', 400, 20, {
        frontend: 2,
        backend: 2.5,
        dynalite: 0.7,
      }),
      backendTracingOff: runs('backend -> db', 800, 10),
      rawHop: runs('raw node:http hop', 20000, 0.3),
      chainTracingOn: runs('frontend -> backend -> db, traced', overrides.onRps ?? 360, 24),
      backendTracingOn: runs('backend -> db, traced', 700, 12),
      bodyBytes: 2464,
    },
    thumbnails: {
      raw: thumbnails('raw sharp (in process)', 100, 20),
      thumbnailer: thumbnails('thumbnailer', overrides.e2e ?? 70),
      lambda: thumbnails('Lambda imageProcessor', 60),
      imageBytes: { min: 400_000, max: 560_000 },
    },
    coldStart: {
      results: [
        cold('empty node', 50),
        cold('hello', 54, 0.3),
        cold('products', overrides.products ?? 100, 40),
      ],
      bundles: [
        { function: 'HelloFunction', bytes: 700, gzipBytes: 500 },
        { function: 'ProductsFunction', bytes: 1_085_000, gzipBytes: 260_000 },
      ],
      productsComposition: [{ source: 'zod', kib: 552.4 }],
    },
    spansPerRequest: { total: 20, byScope: { 'frontend @opentelemetry/instrumentation-express': 7 } },
  };
}

describe('evaluateTargets', () => {
  it('meets each target exactly at its limit', () => {
    const checks = evaluateTargets(bench());
    expect(checks.map((check) => [check.id, check.met])).toEqual([
      ['tracing', true],
      ['thumbnails', true],
      ['cold-start-hello', true],
      ['cold-start-products', true],
    ]);
    expect(checks[0]?.measured).toBe('360 req/s with tracing vs 400 req/s without: costs 10% of throughput');
    expect(checks[1]?.measured).toBe('70 images/s end to end vs 100 images/s raw sharp: 70%');
    expect(checks[3]?.measured).toBe('100 ms vs 50 ms for node -e 0 (median of 9): +50 ms');
  });

  it('misses each target just past its limit, and reports the figures', () => {
    const checks = evaluateTargets(bench({ onRps: 359, e2e: 69.9, products: 100.1 }));
    expect(checks.map((check) => check.met)).toEqual([false, false, true, false]);
    expect(checks[0]?.measured).toContain('costs 10.3% of throughput');
  });

  it('adds the CPU per request of the system, without the load generator', () => {
    const results = bench();
    results.products.chainTracingOn.cpuMsPerRequest = {
      frontend: 2.6,
      backend: 3,
      dynalite: 0.7,
      autocannon: 0.3,
    };
    expect(evaluateTargets(results)[0]?.measured).toBe(
      '360 req/s with tracing vs 400 req/s without: costs 10% of throughput; CPU per request 6.3 ms vs 5.2 ms (+21.2%)',
    );
  });

  it('says "gains" when tracing measured faster (noise), and counts that as met', () => {
    const [tracing] = evaluateTargets(bench({ onRps: 420 }));
    expect(tracing?.measured).toContain('gains 5%');
    expect(tracing?.met).toBe(true);
  });

  it('does not count a thumbnail run with failures as meeting its target', () => {
    const results = bench({ e2e: 95 });
    results.thumbnails.thumbnailer.failures = ['photo 01.jpg: no thumbnail within 60000 ms'];
    expect(evaluateTargets(results)[1]?.met).toBe(false);
  });
});

describe('benchMarkdown', () => {
  it('puts every figure beside its baseline and ends with the targets', () => {
    const partial = bench({ onRps: 300 });
    const markdown = benchMarkdown({ ...partial, targets: evaluateTargets(partial) });
    expect(markdown).toContain('| frontend -> backend -> db | 400 | 2% | 20 | 40 | 80 | 0 |');
    expect(markdown).toContain('| thumbnailer | 70 | 70% |');
    expect(markdown).toContain('| products | 100 | +50 |');
    expect(markdown).toContain('| CPU ms per request | frontend | backend | dynalite | total |');
    expect(markdown).toContain('One traced GET /api/products makes 20 spans');
    expect(markdown).toContain(
      '| tracing costs at most 10% of chain throughput | 300 req/s with tracing vs 400 req/s without: costs 25% of throughput | **no** |',
    );
    expect(markdown).toContain('Largest parts of the products bundle (KiB): zod 552.4.');
  });
});

describe('compare report', () => {
  it('prices Lambda from the measured durations and the template memory, the mesh from the manifests', () => {
    const cost = costSection(measurements(), DEFAULT_PRICES);
    // 256 MB x 2 ms billed + 1% x 100 ms init: (0.25 x (2 + 1)) / 1000 GB-s per request.
    expect(cost.lambda.products.billedMs).toBe(2);
    expect(cost.lambda.products.gbSecondsPerRequest).toBeCloseTo(0.00075, 12);
    expect(cost.lambda.products.perMillion.total).toBeCloseTo(0.00075 * 1e6 * 0.0000166667 + 0.2 + 3.5, 6);
    expect(cost.lambda.imageProcessor?.billedMs).toBe(120);
    expect(cost.mesh?.workloads.filter((w) => w.counted).map((w) => w.name)).toEqual([
      'backend-v1',
      'frontend',
    ]);
    expect(cost.breakEven?.requestsPerMonth).toBeCloseTo(
      (cost.mesh!.withMesh.monthly / cost.lambda.products.perMillion.total) * 1e6,
      3,
    );
    expect(cost.curve).toHaveLength(21);
    expect(cost.assumptions.join(' ')).toContain('products 256 MB, imageProcessor 1024 MB');
  });

  it('still prices Lambda when the manifests could not be rendered', () => {
    const cost = costSection(measurements({ workloads: undefined }), DEFAULT_PRICES);
    expect(cost.mesh).toBeUndefined();
    expect(cost.curve).toBeUndefined();
    expect(cost.lambda.products.perMillion.total).toBeGreaterThan(3.7);
  });

  it('uses overridden prices', () => {
    const cost = costSection(measurements(), { ...DEFAULT_PRICES, apiGatewayRestPerMillion: 1 });
    expect(cost.lambda.products.perMillion.apiGateway).toBe(1);
  });

  const results = (): CompareResults => {
    const measured = measurements();
    return {
      ...measured,
      kind: 'compare',
      cost: costSection(measured, DEFAULT_PRICES),
      notes: ['a <note> & more'],
    };
  };

  it('gives the charts their data in the order of the tables', () => {
    const data = chartData(results());
    expect(data.productsLatency.labels).toEqual([
      'mesh: frontend -> backend',
      'mesh: backend direct',
      'Lambda: API Gateway -> products',
    ]);
    expect(data.productsLatency.datasets.map((d) => d.label)).toEqual(['p50', 'p90', 'p99']);
    expect(data.productsThroughput.data).toEqual([400, 700, 900]);
    expect(data.coldStart.labels).toEqual([
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
    expect(JSON.parse(json ?? 'null').productsThroughput.data).toEqual([400, 700, 900]);
    for (const id of [
      'products-latency',
      'products-throughput',
      'thumbnails-latency',
      'cold-start',
      'cost',
    ]) {
      expect(html).toContain(`<canvas id="${id}">`);
    }
  });

  it('leads with short answers', () => {
    const lines = headlines(results());
    expect(lines[0]).toContain('mesh via frontend 400 req/s');
    expect(lines.at(-1)).toMatch(/break-even at [\d.]+ million requests a month/);
  });
});
