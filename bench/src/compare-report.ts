// npm run compare's report: both twins side by side, priced, as one self-contained HTML page.
import { coldStartOf } from './bench-report';
import {
  averageRate,
  breakEvenRequests,
  costCurve,
  type LambdaCost,
  lambdaCost,
  type MeshCost,
  meshCost,
  type Prices,
} from './cost';
import type { Workload } from './footprint';
import { describeMachine } from './machine';
import { round } from './stats';
import type { SuiteResults } from './suite';

/** What `npm run compare` measured and read, before the cost model is applied. */
export interface CompareMeasurements extends SuiteResults {
  /** lambda/template.yaml MemorySize by logical id. */
  memoryMb: Record<string, number>;
  /** Deployments rendered from the k8s overlay; undefined when kubectl was not available. */
  workloads?: Workload[];
}

export interface CostSection {
  prices: Prices;
  assumptions: string[];
  lambda: { products: LambdaCost; imageProcessor?: LambdaCost };
  mesh?: MeshCost;
  /** Where Lambda's bill reaches the cluster's: the whole smallest cluster, and the mesh's share of a larger one. */
  breakEven?: {
    requestsPerMonth: number;
    averageRps: number;
    shareRequestsPerMonth: number;
    shareAverageRps: number;
  };
  curve?: Array<{
    requests: number;
    lambda: number;
    mesh: number;
    meshShare: number;
    withoutMeshShare: number;
  }>;
}

export interface CompareResults extends CompareMeasurements {
  /** Present when the cold-start scenario ran: it measures the durations and init Lambda bills. */
  cost?: CostSection;
  notes: string[];
}

/** The workloads counted on the mesh side: the application's own services. */
export const MESH_APPS = ['frontend', 'backend', 'thumbnailer'];

/**
 * The cost model over the measured durations and the rendered manifests; undefined when the
 * cold-start scenario (which measures the durations Lambda bills) did not run.
 */
export function costSection(measured: CompareMeasurements, prices: Prices): CostSection | undefined {
  const { settings } = measured;
  const cold = measured.scenarios['cold-start'];
  if (!cold) return undefined;
  const productsInit = coldStartOf(cold.functions, 'products').initMs ?? 0;
  const products = lambdaCost(
    {
      function: 'ProductsFunction',
      memoryMb: measured.memoryMb.ProductsFunction ?? 128,
      durationMs: cold.productsWarm.p50,
      initMs: productsInit,
      coldStartFraction: settings.coldStartFraction,
      apiGateway: true,
    },
    prices,
  );
  const imageDurations = measured.scenarios.thumbnails?.imageProcessorDurations;
  const imageProcessor = imageDurations
    ? lambdaCost(
        {
          function: 'ImageProcessorFunction',
          memoryMb: measured.memoryMb.ImageProcessorFunction ?? 128,
          durationMs: imageDurations.p50,
          // Not measured for this function (sharp comes from a layer); the products init stands in.
          initMs: productsInit,
          coldStartFraction: settings.coldStartFraction,
          apiGateway: false,
        },
        prices,
      )
    : undefined;
  const assumptions = [
    `Prices: ${prices.region} on-demand list prices in ${prices.currency}, as of ${prices.asOf}; free tiers, ` +
      'savings plans and data transfer left out. Override with --prices FILE (JSON, any subset of the fields below).',
    `Lambda bills each invocation's duration rounded up to 1 ms at the function's memory size from ` +
      `lambda/template.yaml (products ${measured.memoryMb.ProductsFunction} MB, imageProcessor ` +
      `${measured.memoryMb.ImageProcessorFunction} MB); durations are the median warm in-handler durations ` +
      'measured here against the local stores (dynalite, s3rver), not against DynamoDB and S3.',
    `${round(settings.coldStartFraction * 100, 2)}% of invocations are cold starts, and each bills its init ` +
      '(billed for on-demand functions with managed runtimes since 1 August 2025); the init is the one measured ' +
      'for the products bundle.',
    'Every products request passes API Gateway (REST API, per-call price); S3 invokes imageProcessor directly.',
    'DynamoDB and S3 cost the same for both twins and are left out.',
  ];
  let mesh: MeshCost | undefined;
  let breakEven: CostSection['breakEven'];
  let curve: CostSection['curve'];
  if (measured.workloads) {
    mesh = meshCost(measured.workloads, MESH_APPS, prices);
    const requestsPerMonth = breakEvenRequests(mesh.withMesh.monthly, products.perMillion.total);
    const shareRequestsPerMonth = breakEvenRequests(mesh.withMesh.proratedMonthly, products.perMillion.total);
    breakEven = {
      requestsPerMonth,
      averageRps: averageRate(requestsPerMonth, prices),
      shareRequestsPerMonth,
      shareAverageRps: averageRate(shareRequestsPerMonth, prices),
    };
    const meshShare = mesh.withMesh.proratedMonthly;
    const withoutMeshShare = mesh.withoutMesh.proratedMonthly;
    curve = costCurve(requestsPerMonth * 2, 20, products.perMillion.total, mesh.withMesh.monthly).map(
      (point) => ({ ...point, meshShare, withoutMeshShare }),
    );
    assumptions.push(
      `Mesh: the Deployments of ${MESH_APPS.join(', ')} rendered from ${settings.overlay}, at their CPU and memory ` +
        "requests, each pod with the istio-proxy sidecar at Istio's default requests (100m CPU, 128 MiB) unless " +
        "annotated otherwise, plus Istio's control plane at its chart defaults (istiod 500m/2 GiB, ingress gateway " +
        '100m/128 MiB, istio-cni 100m/100 MiB per node). MinIO, DynamoDB local and Jaeger are dev stand-ins and ' +
        'are not counted.',
      `Nodes: ${prices.nodeType} at ${prices.nodeHourly} per hour, ${round(prices.nodeAllocatable * 100, 0)}% of ` +
        `each allocatable; as many as the requests need (at least one), plus ${prices.clusterHourly} per hour for the ` +
        `managed control plane, ${prices.hoursPerMonth} hours a month. The cluster costs the same at any request ` +
        'rate its nodes can serve; past that it grows by whole nodes.',
    );
  }
  return { prices, assumptions, lambda: { products, imageProcessor }, mesh, breakEven, curve };
}

const money = (value: number) =>
  value >= 100 ? `$${round(value, 0)}` : value >= 1 ? `$${round(value, 2)}` : `$${round(value, 4)}`;
const count = (value: number) =>
  value >= 1e9
    ? `${round(value / 1e9, 2)} billion`
    : value >= 1e6
      ? `${round(value / 1e6, 1)} million`
      : `${round(value, 0)}`;

/** Short answers for the console and the top of the report, one per part that ran. */
export function headlines(results: CompareResults): string[] {
  const { products, thumbnails } = results.scenarios;
  const cold = results.scenarios['cold-start'];
  const { cost } = results;
  const lines: string[] = [];
  if (products) {
    lines.push(
      `Products API, GET list: mesh via frontend ${products.chain.rps} req/s (p50 ${products.chain.latency.p50} ms, ` +
        `p99 ${products.chain.latency.p99} ms); backend direct ${products.backend.rps} req/s; ` +
        `Lambda via API Gateway emulation ${products.lambda.rps} req/s (p50 ${products.lambda.latency.p50} ms, ` +
        `p99 ${products.lambda.latency.p99} ms).`,
    );
  }
  if (thumbnails) {
    lines.push(
      `Thumbnails: thumbnailer ${thumbnails.thumbnailer.throughput} images/s (p50 ${round(thumbnails.thumbnailer.latency.p50, 0)} ms), ` +
        `Lambda imageProcessor ${thumbnails.lambda.throughput} images/s (p50 ${round(thumbnails.lambda.latency.p50, 0)} ms).`,
    );
  }
  if (cold) {
    const empty = coldStartOf(cold.functions, 'empty node');
    const productsCold = coldStartOf(cold.functions, 'products');
    lines.push(
      `Cold start: products function ${productsCold.wall.p50} ms (node -e 0: ${empty.wall.p50} ms); ` +
        `a backend process to ready ${cold.backendProcess.p50} ms, paid once per pod rather than per scale-out of one request.`,
    );
  }
  if (cost) {
    lines.push(
      `Cost: Lambda products ${money(cost.lambda.products.perMillion.total)} per million requests ` +
        `(API Gateway ${money(cost.lambda.products.perMillion.apiGateway)} of it)` +
        (cost.mesh && cost.breakEven
          ? `; the mesh cluster ${money(cost.mesh.withMesh.monthly)} a month (${cost.mesh.withMesh.nodes} ` +
            `node${cost.mesh.withMesh.nodes === 1 ? '' : 's'}, Istio's requests taking ${money(cost.mesh.meshMonthly)} ` +
            `a month of node capacity); break-even at ${count(cost.breakEven.requestsPerMonth)} ` +
            `requests a month (${round(cost.breakEven.averageRps, 1)} req/s on average).`
          : '.'),
    );
  }
  return lines;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`,
  );
}

/** A table in a box that scrolls sideways on a narrow screen, so the page itself never does. */
function htmlTable(header: string[], rows: Array<Array<string | number>>): string {
  return (
    '<div class="table"><table><thead><tr>' +
    header.map((h) => `<th>${escapeHtml(h)}</th>`).join('') +
    '</tr></thead><tbody>' +
    rows
      .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(String(cell))}</td>`).join('')}</tr>`)
      .join('') +
    '</tbody></table></div>'
  );
}

type Bars = { labels: string[]; datasets: Array<{ label: string; data: number[] }>; yTitle: string };

/** The data the page's charts draw, in Chart.js terms, by canvas id; only for the parts that ran. */
export function chartData(results: CompareResults): {
  bars: Record<string, Bars>;
  cost?: {
    labels: number[];
    lambda: number[];
    mesh: number[];
    meshShare: number[];
    withoutMeshShare: number[];
  };
} {
  const { products: p, thumbnails: t } = results.scenarios;
  const c = results.scenarios['cold-start'];
  const { cost } = results;
  const percentiles = (runs: Array<{ latency: { p50: number; p90: number; p99: number } }>) =>
    (['p50', 'p90', 'p99'] as const).map((key) => ({
      label: key,
      data: runs.map((run) => round(run.latency[key], 1)),
    }));
  const bars: Record<string, Bars> = {};
  if (p) {
    const runs = [p.chain, p.backend, p.lambda];
    const labels = runs.map((run) => run.name);
    bars['products-latency'] = { labels, datasets: percentiles(runs), yTitle: 'ms' };
    bars['products-throughput'] = {
      labels,
      datasets: [{ label: 'req/s', data: runs.map((run) => run.rps) }],
      yTitle: 'requests per second',
    };
  }
  if (t) {
    const runs = [t.thumbnailer, t.lambda];
    const labels = runs.map((run) => run.path);
    bars['thumbnails-latency'] = { labels, datasets: percentiles(runs), yTitle: 'ms, upload to thumbnail' };
    bars['thumbnails-throughput'] = {
      labels,
      datasets: [{ label: 'images/s', data: runs.map((run) => run.throughput) }],
      yTitle: 'images per second',
    };
  }
  if (c) {
    const cold = [
      ...c.functions.map((r) => ({
        label: r.name === 'empty node' ? 'node -e 0' : `Lambda ${r.name}`,
        value: r.wall.p50,
      })),
      { label: 'backend process to ready', value: c.backendProcess.p50 },
    ];
    bars['cold-start'] = {
      labels: cold.map((x) => x.label),
      datasets: [{ label: 'median ms', data: cold.map((x) => x.value) }],
      yTitle: 'ms, process start to answer',
    };
  }
  if (cost) {
    const perMillion = cost.lambda.products.perMillion;
    bars['lambda-cost'] = {
      labels: ['compute (GB-s)', 'requests', 'API Gateway'],
      datasets: [
        {
          label: 'USD per million products requests',
          data: [
            round(perMillion.compute, 4),
            round(perMillion.requests, 4),
            round(perMillion.apiGateway, 4),
          ],
        },
      ],
      yTitle: 'USD',
    };
  }
  return {
    bars,
    cost: cost?.curve
      ? {
          labels: cost.curve.map((point) => round(point.requests / 1e6, 1)),
          lambda: cost.curve.map((point) => round(point.lambda, 2)),
          mesh: cost.curve.map((point) => round(point.mesh, 2)),
          meshShare: cost.curve.map((point) => round(point.meshShare, 2)),
          withoutMeshShare: cost.curve.map((point) => round(point.withoutMeshShare, 2)),
        }
      : undefined,
  };
}

// Runs in the page: draws every chart from the embedded data, without animation so a screenshot is complete.
const CHART_SCRIPT = `
const data = JSON.parse(document.getElementById('chart-data').textContent);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
for (const [id, chart] of Object.entries(data.bars)) {
  new Chart(document.getElementById(id), {
    type: 'bar',
    data: { labels: chart.labels, datasets: chart.datasets.map((d, i) => ({ ...d, backgroundColor: colors[i % colors.length] })) },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: chart.yTitle } } } },
  });
}
if (data.cost) {
  new Chart(document.getElementById('cost'), {
    type: 'line',
    data: {
      labels: data.cost.labels,
      datasets: [
        { label: 'Lambda + API Gateway', data: data.cost.lambda, borderColor: colors[1], pointRadius: 0 },
        { label: 'smallest cluster for the mesh (whole nodes + control plane)', data: data.cost.mesh, borderColor: colors[0], pointRadius: 0 },
        { label: 'mesh share of a larger cluster (apps + Istio)', data: data.cost.meshShare, borderColor: colors[3], borderDash: [6, 4], pointRadius: 0 },
        { label: 'apps alone, share of a larger cluster (no Istio)', data: data.cost.withoutMeshShare, borderColor: colors[2], borderDash: [2, 3], pointRadius: 0 },
      ],
    },
    options: {
      scales: {
        x: { title: { display: true, text: 'million products requests per month' } },
        y: { beginAtZero: true, title: { display: true, text: 'USD per month' } },
      },
    },
  });
}
document.body.dataset.rendered = 'true';
`;

// Narrow screens (a phone is 375 px wide): one chart per row, tables scroll inside their own box,
// long words (URLs, process names) wrap, so the page never scrolls sideways.
const STYLE = `
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 2rem auto; padding: 0 1rem; max-width: 1100px; color: #222; line-height: 1.45; overflow-wrap: anywhere; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.meta { color: #555; font-size: 0.9rem; }
.smoke { background: #fff3cd; border: 1px solid #e0c060; padding: 0.6rem 0.8rem; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 1.5rem; }
.chart { position: relative; height: 300px; min-width: 0; }
.table { max-width: 100%; overflow-x: auto; margin: 0.8rem 0; }
table { border-collapse: collapse; font-size: 0.9rem; overflow-wrap: normal; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
ul.headlines li { margin-bottom: 0.4rem; }
.note { color: #555; font-size: 0.9rem; }
`;

const chart = (id: string) => `<div class="chart"><canvas id="${id}"></canvas></div>`;

function breakEvenText(results: CompareResults, breakEven: NonNullable<CostSection['breakEven']>): string {
  const chain = results.scenarios.products?.chain;
  return (
    `Lambda behind API Gateway costs as much as the smallest mesh cluster at ${count(breakEven.requestsPerMonth)} ` +
    `products requests a month (${round(breakEven.averageRps, 1)} requests per second on average), and as much as ` +
    `the mesh's share of a larger cluster at ${count(breakEven.shareRequestsPerMonth)} ` +
    `(${round(breakEven.shareAverageRps, 1)} req/s). Below that Lambda is cheaper, above it the cluster is, as long ` +
    'as its nodes keep up' +
    (chain ? ` (the chain served ${chain.rps} req/s on this machine's ${results.machine.cpus} CPUs).` : '.')
  );
}

function productsSection(results: CompareResults): string {
  const p = results.scenarios.products;
  if (!p) return '';
  const s = results.settings;
  const rows = [p.chain, p.backend, p.lambda].map((run) => [
    run.name,
    run.rps,
    `${run.spread.rps.min}-${run.spread.rps.max}`,
    run.latency.p50,
    run.latency.p90,
    run.latency.p99,
    run.failures,
    Object.entries(run.cpuMsPerRequest)
      .map(([name, ms]) => `${name} ${round(ms, 2)}`)
      .join(', '),
  ]);
  return `<h2 id="products-section">Products API</h2>
<p>The same GET list of ${s.products} products (${p.bodyBytes} bytes) through each twin: the mesh's frontend and
backend (Express, one process each), the backend alone, and the Lambda products handler behind the API Gateway
emulation. autocannon with ${s.connections} connections; each path warmed until steady, then ${s.rounds}
interleaved rounds of ${s.duration} s: medians, and the lowest and highest round's throughput. CPU ms per
request by process shows where the work goes.</p>
<div class="charts">${chart('products-latency')}${chart('products-throughput')}</div>
${htmlTable(['path', 'req/s', 'rounds', 'p50 ms', 'p90 ms', 'p99 ms', 'failures', 'CPU ms per request'], rows)}`;
}

function thumbnailsSection(results: CompareResults): string {
  const t = results.scenarios.thumbnails;
  if (!t) return '';
  const s = results.settings;
  const rows = [t.thumbnailer, t.lambda].map((run) => [
    run.path,
    run.throughput,
    round(run.latency.p50, 1),
    round(run.latency.p90, 1),
    round(run.latency.p99, 1),
    run.failures.length,
    Object.entries(run.cpuMsPerImage ?? {})
      .map(([name, ms]) => `${name} ${round(ms, 1)}`)
      .join(', '),
  ]);
  return `<h2 id="thumbnails-section">Thumbnails</h2>
<p>${t.thumbnailer.images} uploads of ${s.images} JPEGs of ${s.imageSize} (${round(t.imageBytes.min / 1024, 0)}-${round(t.imageBytes.max / 1024, 0)} KiB)
through the frontend, ${s.concurrency} at a time; each is timed from the upload's start to the moment its thumbnail
can be read. The object store's event goes to the thumbnailer (MinIO's webhook format) or to the imageProcessor
function (S3's Lambda invocation).</p>
<div class="charts">${chart('thumbnails-latency')}${chart('thumbnails-throughput')}</div>
${htmlTable(['path', 'images/s', 'p50 ms', 'p90 ms', 'p99 ms', 'failures', 'CPU ms per image'], rows)}`;
}

function coldStartSection(results: CompareResults): string {
  const c = results.scenarios['cold-start'];
  if (!c) return '';
  const rows = [
    ...c.functions.map((r) => [
      r.name === 'empty node' ? 'node -e 0' : `Lambda ${r.name} (bundle, first invoke)`,
      r.wall.p50,
      r.wall.p90,
      r.initMs ?? '',
      r.firstInvokeMs ?? '',
    ]),
    ['backend process, spawn to /readyz 200', c.backendProcess.p50, c.backendProcess.p90, '', ''],
  ];
  return `<h2 id="cold-start-section">Cold start</h2>
<p>Lambda: a fresh node process loads the function's esbuild bundle (built as <code>sam build</code> builds it)
and makes its first invocation; ${results.settings.coldRuns} runs, medians. Mesh: a new backend process until it
answers its readiness probe, which a pod pays once at start (image pull and scheduling not included on either side).</p>
<div class="charts">${chart('cold-start')}${results.cost ? chart('lambda-cost') : ''}</div>
${htmlTable(['process', 'median ms', 'p90 ms', 'init ms', 'first invoke ms'], rows)}`;
}

function costHtml(results: CompareResults): string {
  const { cost } = results;
  if (!cost) {
    return '<h2 id="cost-section">Cost</h2><p class="note">The cost model needs the cold-start scenario (the durations Lambda bills); it did not run.</p>';
  }
  const lambdaRows = [cost.lambda.products, cost.lambda.imageProcessor]
    .filter((x): x is LambdaCost => x !== undefined)
    .map((x) => [
      x.function,
      x.billedMs,
      round(x.gbSecondsPerRequest, 6),
      money(x.perMillion.compute),
      money(x.perMillion.requests),
      money(x.perMillion.apiGateway),
      money(x.perMillion.total),
    ]);
  const mesh = cost.mesh;
  const meshSection = mesh
    ? `<h3>Mesh cluster</h3>
${htmlTable(
  ['workload', 'replicas', 'CPU request per pod', 'memory per pod', 'sidecar per pod', 'counted'],
  mesh.workloads.map((w) => [
    `${w.namespace}/${w.name}`,
    w.replicas,
    `${w.perPod.cpuMillis}m`,
    `${round(w.perPod.memoryMib, 0)} MiB`,
    w.sidecar ? `${w.sidecar.cpuMillis}m / ${round(w.sidecar.memoryMib, 0)} MiB` : 'none',
    w.counted ? 'yes' : 'no (dev stand-in)',
  ]),
)}
${htmlTable(
  ['cluster', 'CPU requested', 'memory requested', 'nodes', 'per month', 'share of nodes', 'share per month'],
  [['with Istio', mesh.withMesh] as const, ['without Istio', mesh.withoutMesh] as const].map(
    ([name, cluster]) => [
      name,
      `${cluster.requested.cpuMillis}m`,
      `${round(cluster.requested.memoryMib, 0)} MiB`,
      cluster.nodes,
      money(cluster.monthly),
      `${round(cluster.nodeShare * 100, 0)}%`,
      money(cluster.proratedMonthly),
    ],
  ),
)}
<p>The sidecars request ${mesh.sidecars.cpuMillis}m CPU and ${round(mesh.sidecars.memoryMib, 0)} MiB:
${round(mesh.sidecarShare.cpu * 100, 0)}% of the apps' own CPU requests and ${round(mesh.sidecarShare.memory * 100, 0)}%
of their memory. With the control plane, Istio's requests take ${money(mesh.meshMonthly)} a month of node capacity
(prorated; "per month" is what the smallest cluster that fits costs, its managed control plane included).
${cost.breakEven ? breakEvenText(results, cost.breakEven) : ''}</p>`
    : '<p class="note">kubectl was not available, so the mesh side of the cost model (from the rendered manifests) is missing.</p>';
  const priceRows = Object.entries(cost.prices)
    .filter(([key]) => key !== 'sources')
    .map(([key, value]) => [key, String(value)]);
  return `<h2 id="cost-section">Cost</h2>
${cost.curve ? '<div class="chart" style="height: 340px"><canvas id="cost"></canvas></div>' : ''}
<h3>Lambda, per million requests</h3>
${htmlTable(['function', 'billed ms', 'GB-s per request', 'compute', 'requests', 'API Gateway', 'total'], lambdaRows)}
${meshSection}
<h3>Assumptions</h3>
<ul>${cost.assumptions.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ul>
${htmlTable(['price', 'value'], priceRows)}
<p class="note">Sources: ${cost.prices.sources.map((src) => escapeHtml(src)).join(', ')}</p>`;
}

/** The self-contained report page: data, Chart.js and the drawing code all inline, no network needed. */
export function renderHtml(results: CompareResults, chartJs: string): string {
  const json = JSON.stringify(chartData(results)).replace(/</g, '\\u003c');
  const smoke = results.settings.quick
    ? '<p class="smoke" id="smoke-run">A smoke run (<code>--quick</code>): one short round of everything. Its figures mean little.</p>'
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Serverless vs mesh: measured on this machine</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Serverless vs service mesh, measured</h1>
${smoke}
<p class="meta">${escapeHtml(results.startedAt)} &middot; ${escapeHtml(describeMachine(results.machine))} &middot; run took ${results.durationSec} s</p>
<ul class="headlines">${headlines(results)
    .map((line) => `<li>${escapeHtml(line)}</li>`)
    .join('')}</ul>
${productsSection(results)}
${thumbnailsSection(results)}
${coldStartSection(results)}
${costHtml(results)}

<h2 id="notes-section">Read with care</h2>
<ul>${results.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>

<script type="application/json" id="chart-data">${json}</script>
<script>${chartJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}
