// npm run compare's report: both twins side by side, priced, as one self-contained HTML page.
import { coldStartOf, steadyLambdaNote } from './bench-report';
import {
  averageRate,
  breakEvenRequests,
  costCurve,
  type LambdaCost,
  lambdaCost,
  loadBalancerMonthly,
  loadBalancerPerMillion,
  type MeshCost,
  meshCost,
} from './cost';
import {
  type EnvoyEstimate,
  envoyEstimate,
  HOP_LATENCY,
  type MeshPath,
  PRODUCTS_PATH,
  rateForCpu,
  SIDECAR_RESOURCES,
} from './envoy-model';
import type { Workload } from './footprint';
import { describeMachine } from './machine';
import { PRICE_SOURCES, type PriceSource, type Prices } from './prices';
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
  /** Unit and source of each price, by field name. */
  sources: Record<string, PriceSource>;
  assumptions: string[];
  lambda: { products: LambdaCost; imageProcessor?: LambdaCost };
  mesh?: MeshCost;
  /** The smallest cluster with Istio plus the load balancer in front of its ingress gateway, per month. */
  cluster?: { monthly: number; loadBalancerMonthly: number; lbPerMillion: number };
  /** What each measured burst from idle bills for the cold starts' INIT phase (products function). */
  burstInit?: Array<{ requests: number; coldStarts: number; initGbSeconds: number; usd: number }>;
  /** Envoy's cost on the products path, modelled from Istio's published figures. */
  envoy: {
    resources: typeof SIDECAR_RESOURCES;
    latency: typeof HOP_LATENCY;
    path: MeshPath;
    /** At the throughput the chain reached here, when the products scenario ran. */
    atChainRate?: EnvoyEstimate;
    /** The chain without proxies as measured, with the modelled sidecar latency added, ms. */
    chain?: { p90: number; p99: number };
    /** The same path measured through the local data plane's Node sidecars, for contrast: req/s and ms. */
    nodeSidecars?: { rps: number; p90: number; p99: number };
    /** CPU the sidecars of the path's pods request (all replicas), millicores. */
    sidecarCpuRequested: number;
    /** The request rate at which Envoy's modelled CPU on the path reaches those requests, req/s. */
    rateAtSidecarRequests?: number;
  };
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

/** Bytes a products list answer carries when the products scenario did not run to measure it. */
const TYPICAL_LIST_BYTES = 2500;

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
      logBytesPerInvocation: cold.productsLogBytes,
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
          // Not measured for this function (sharp comes from a layer); the products init and log stand in.
          initMs: productsInit,
          coldStartFraction: settings.coldStartFraction,
          apiGateway: false,
          logBytesPerInvocation: cold.productsLogBytes,
        },
        prices,
      )
    : undefined;
  const bytesPerRequest = measured.scenarios.products?.bodyBytes ?? TYPICAL_LIST_BYTES;
  const assumptions = [
    `Prices: ${prices.region} on-demand list prices in ${prices.currency}, as of ${prices.asOf} (bench/prices.json, ` +
      'each with its source below); free tiers, savings plans and data transfer left out. Override with --prices ' +
      'FILE (JSON, any subset of the fields below).',
    `Lambda bills each invocation's duration rounded up to 1 ms at the function's memory size from ` +
      `lambda/template.yaml (products ${measured.memoryMb.ProductsFunction} MB, imageProcessor ` +
      `${measured.memoryMb.ImageProcessorFunction} MB); durations are the median warm in-handler durations ` +
      'measured here against the local stores (dynalite, s3rver), not against DynamoDB and S3.',
    `${round(settings.coldStartFraction * 100, 2)}% of invocations are cold starts, and each bills its INIT phase ` +
      '(billed like duration for on-demand functions since 1 August 2025): the init measured for the products ' +
      `bundle, ${round(productsInit, 1)} ms.`,
    `CloudWatch Logs ingests every invocation's lines: the products function's own ${cold.productsLogBytes} bytes ` +
      `per warm invocation measured at LOG_LEVEL=info, plus Lambda's START, END and REPORT lines ` +
      `(${products.logBytesPerInvocation - cold.productsLogBytes} bytes). The mesh's container logs would cost the ` +
      'same per byte where they are shipped, and are left out.',
    'Every products request passes API Gateway (REST API, per-call price); S3 invokes imageProcessor directly.',
    'DynamoDB and S3 cost the same for both twins and are left out.',
  ];
  let mesh: MeshCost | undefined;
  let cluster: CostSection['cluster'];
  let breakEven: CostSection['breakEven'];
  let curve: CostSection['curve'];
  if (measured.workloads) {
    mesh = meshCost(measured.workloads, MESH_APPS, prices);
    // The cluster's entry point bills per hour, plus capacity units that grow with the bytes it carries.
    const loadBalancer = loadBalancerMonthly(0, bytesPerRequest, prices);
    const lbPerMillion = loadBalancerPerMillion(bytesPerRequest, prices);
    cluster = {
      monthly: mesh.withMesh.monthly + loadBalancer,
      loadBalancerMonthly: loadBalancer,
      lbPerMillion,
    };
    const margin = products.perMillion.total - lbPerMillion;
    const requestsPerMonth = breakEvenRequests(cluster.monthly, margin);
    const shareRequestsPerMonth = breakEvenRequests(mesh.withMesh.proratedMonthly + loadBalancer, margin);
    breakEven = {
      requestsPerMonth,
      averageRps: averageRate(requestsPerMonth, prices),
      shareRequestsPerMonth,
      shareAverageRps: averageRate(shareRequestsPerMonth, prices),
    };
    const lbAt = (requests: number) => (requests / 1e6) * lbPerMillion;
    curve = costCurve(requestsPerMonth * 2, 20, products.perMillion.total, cluster.monthly).map((point) => ({
      ...point,
      mesh: point.mesh + lbAt(point.requests),
      meshShare: mesh!.withMesh.proratedMonthly + loadBalancer + lbAt(point.requests),
      withoutMeshShare: mesh!.withoutMesh.proratedMonthly + loadBalancer + lbAt(point.requests),
    }));
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
      `A Network Load Balancer in front of the ingress gateway: ${prices.loadBalancerHourly} per hour, plus ` +
        `${prices.loadBalancerPerLcuHour} per capacity unit-hour for the bytes it carries (${bytesPerRequest} bytes ` +
        `per products answer${measured.scenarios.products ? ', as measured' : ', a typical list'}).`,
    );
  }
  const envoy = envoySection(measured, mesh);
  const productsGb = (measured.memoryMb.ProductsFunction ?? 128) / 1024;
  const burstInit = measured.scenarios.burst?.lambda.map((run) => {
    const initGbSeconds = (run.initMs.reduce((sum, ms) => sum + Math.ceil(ms), 0) / 1000) * productsGb;
    return {
      requests: run.requests,
      coldStarts: run.coldStarts,
      initGbSeconds,
      usd: initGbSeconds * prices.lambdaPerGbSecond,
    };
  });
  assumptions.push(
    `Envoy is modelled, not measured: ${SIDECAR_RESOURCES.vcpuPer1000Rps} vCPU per 1000 req/s through a proxy and ` +
      `${SIDECAR_RESOURCES.memoryMb} MB per sidecar (Istio ${SIDECAR_RESOURCES.istioVersion}), +${HOP_LATENCY.p90Ms} ms ` +
      `p90 and +${HOP_LATENCY.p99Ms} ms p99 for the two sidecars of one hop (Istio ${HOP_LATENCY.istioVersion}); ` +
      `${PRODUCTS_PATH.name} takes ${PRODUCTS_PATH.hops} hops and ${PRODUCTS_PATH.proxyPasses} proxy passes.`,
  );
  return {
    prices,
    sources: PRICE_SOURCES,
    assumptions,
    lambda: { products, imageProcessor },
    mesh,
    cluster,
    envoy,
    burstInit,
    breakEven,
    curve,
  };
}

/** Envoy's modelled cost on the products path: at the chain's measured rate, and where its CPU outgrows the sidecars' requests. */
function envoySection(measured: CompareMeasurements, mesh: MeshCost | undefined): CostSection['envoy'] {
  const chain = measured.scenarios.products?.chain;
  const sidecars = measured.scenarios.products?.sidecars;
  const onPath =
    mesh?.workloads.filter((w) => w.counted && ['frontend', 'backend'].includes(w.app ?? '')) ?? [];
  const sidecarCpu = onPath.reduce((sum, w) => sum + (w.sidecar?.cpuMillis ?? 0) * w.replicas, 0);
  return {
    resources: SIDECAR_RESOURCES,
    latency: HOP_LATENCY,
    path: PRODUCTS_PATH,
    atChainRate: chain ? envoyEstimate(PRODUCTS_PATH, chain.rps) : undefined,
    chain: chain
      ? {
          p90: round(chain.latency.p90 + PRODUCTS_PATH.hops * HOP_LATENCY.p90Ms, 2),
          p99: round(chain.latency.p99 + PRODUCTS_PATH.hops * HOP_LATENCY.p99Ms, 2),
        }
      : undefined,
    nodeSidecars: sidecars
      ? { rps: sidecars.rps, p90: sidecars.latency.p90, p99: sidecars.latency.p99 }
      : undefined,
    sidecarCpuRequested: sidecarCpu,
    rateAtSidecarRequests: sidecarCpu > 0 ? rateForCpu(PRODUCTS_PATH, sidecarCpu) : undefined,
  };
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
      `Products API, GET list: mesh through the ingress gateway and the local data plane's Node sidecars ` +
        `${products.sidecars.rps} req/s (p50 ${products.sidecars.latency.p50} ms, p99 ${products.sidecars.latency.p99} ms); ` +
        `its apps without proxies ${products.chain.rps} req/s (p50 ${products.chain.latency.p50} ms, ` +
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
        (cost.mesh && cost.cluster && cost.breakEven
          ? `; the mesh cluster ${money(cost.cluster.monthly)} a month with its load balancer (${cost.mesh.withMesh.nodes} ` +
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
  const bars: Record<string, Bars> = {};
  /** A scenario's two charts: latency percentiles (ms) and throughput, one bar group per path. */
  const latencyAndThroughput = (
    scenario: string,
    runs: Array<{ label: string; latency: { p50: number; p90: number; p99: number }; rate: number }>,
    latencyTitle: string,
    rate: { label: string; yTitle: string },
  ) => {
    const labels = runs.map((run) => run.label);
    const percentiles = (['p50', 'p90', 'p99'] as const).map((key) => ({
      label: key,
      data: runs.map((run) => round(run.latency[key], 1)),
    }));
    bars[`${scenario}-latency`] = { labels, datasets: percentiles, yTitle: latencyTitle };
    bars[`${scenario}-throughput`] = {
      labels,
      datasets: [{ label: rate.label, data: runs.map((run) => run.rate) }],
      yTitle: rate.yTitle,
    };
  };
  if (p) {
    latencyAndThroughput(
      'products',
      [p.sidecars, p.chain, p.backend, p.lambda].map((run) => ({ ...run, label: run.name, rate: run.rps })),
      'ms',
      { label: 'req/s', yTitle: 'requests per second' },
    );
  }
  if (t) {
    latencyAndThroughput(
      'thumbnails',
      [t.thumbnailer, t.lambda].map((run) => ({ ...run, label: run.path, rate: run.throughput })),
      'ms, upload to thumbnail',
      { label: 'images/s', yTitle: 'images per second' },
    );
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
  const rows = [p.sidecars, p.chain, p.backend, p.lambda].map((run) => [
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
<p>The same GET list of ${s.products} products (${p.bodyBytes} bytes) through each twin. The mesh as
<code>npm start</code> runs it: the ingress gateway, the frontend and one backend pod (Express, one process
each), each behind its sidecar, with mutual TLS between the sidecars, every proxy a Node sidecar of the local
data plane (an emulation executing k8s/istio, one process for all of them; not Envoy, whose cost is
modelled below). Beside it the same apps calling each other with no proxy, the backend alone, and the
Lambda products handler behind the API Gateway emulation. autocannon with ${s.connections} connections;
each path warmed until steady, then ${s.rounds} interleaved rounds of ${s.duration} s: medians, and the
lowest and highest round's throughput. CPU ms per request by process shows where the work goes.
${escapeHtml(steadyLambdaNote(p.lambdaEnvironments))}</p>
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

function envoyHtml(envoy: CostSection['envoy']): string {
  const { resources, latency, path, atChainRate, chain } = envoy;
  const rows: Array<Array<string | number>> = [
    [
      'CPU per 1000 req/s through one proxy',
      `${resources.vcpuPer1000Rps} vCPU`,
      `Istio ${resources.istioVersion}`,
    ],
    ['memory per sidecar', `${resources.memoryMb} MB`, `Istio ${resources.istioVersion}`],
    [
      'latency, the two sidecars of one hop',
      `+${latency.p90Ms} ms p90, +${latency.p99Ms} ms p99`,
      `Istio ${latency.istioVersion}`,
    ],
    [
      `${path.name}: ${path.hops} hops, ${path.proxyPasses} proxy passes`,
      `+${round(path.hops * latency.p90Ms, 2)} ms p90, +${round(path.hops * latency.p99Ms, 2)} ms p99`,
      'modelled',
    ],
  ];
  if (atChainRate && chain) {
    rows.push([
      `the apps' chain without proxies as measured here (${atChainRate.rps} req/s), plus Envoy`,
      `p90 ${chain.p90} ms, p99 ${chain.p99} ms; ${round(atChainRate.vcpu, 3)} vCPU in the proxies`,
      'modelled',
    ]);
  }
  if (envoy.nodeSidecars) {
    rows.push([
      'the same path through the Node sidecars of the local data plane',
      `${envoy.nodeSidecars.rps} req/s, p90 ${envoy.nodeSidecars.p90} ms, p99 ${envoy.nodeSidecars.p99} ms`,
      'measured here',
    ]);
  }
  if (envoy.rateAtSidecarRequests !== undefined) {
    rows.push([
      `the path's sidecars use up their ${envoy.sidecarCpuRequested}m CPU requests at`,
      `${round(envoy.rateAtSidecarRequests, 0)} req/s`,
      'modelled',
    ]);
  }
  return `<h3 id="envoy-section">Envoy sidecars, modelled</h3>
<p>No Envoy runs on this machine: the mesh measured above runs through Node sidecars. What Envoy sidecars
would add comes from Istio's published figures (${escapeHtml(resources.conditions)}:
${escapeHtml(resources.source)}; ${escapeHtml(latency.conditions)}: ${escapeHtml(latency.source)}).</p>
${htmlTable(['what', 'Envoy', 'from'], rows)}`;
}

function burstSection(results: CompareResults): string {
  const b = results.scenarios.burst;
  if (!b) return '';
  const init = results.cost?.burstInit;
  const rows = b.mesh.map((mesh, i) => {
    const fn = b.lambda[i];
    const billed = init?.[i];
    return [
      mesh.requests,
      `${round(mesh.latency.p50, 1)} / ${round(mesh.latency.p90, 1)} / ${round(mesh.latency.max, 1)}`,
      fn ? `${round(fn.latency.p50, 1)} / ${round(fn.latency.p90, 1)} / ${round(fn.latency.max, 1)}` : '',
      fn ? fn.warmAtStart : '',
      fn ? fn.coldStarts : '',
      fn && fn.initMs.length > 0
        ? `${round(
            fn.initMs.reduce((sum, ms) => sum + ms, 0),
            0,
          )} ms`
        : '0',
      billed ? money(billed.usd) : '',
      (mesh.failures + (fn?.failures ?? 0)).toString(),
    ];
  });
  return `<h2 id="burst-section">Bursts from idle</h2>
<p>After ${round(b.idleMs / 1000, 1)} s without traffic, N GET list requests at once: through the mesh (ingress
gateway, frontend, backend, each behind its Node sidecar), whose pods are always up, and through API Gateway to
the products function, whose emulator here shuts down an execution environment idle for
${b.idleTimeoutSeconds} s (LAMBDA_IDLE_TIMEOUT_SECONDS; Lambda does not publish how long it keeps an idle one),
so each burst starts with no warm environment and every request pays an init (a cold start). Latencies p50 /
p90 / max in ms; the environments still warm when the burst began, the cold starts as the emulator's admin
endpoint counted them, their inits from its invocation records, and what Lambda bills for those inits at the
function's memory size.</p>
${htmlTable(['requests at once', 'mesh', 'Lambda products', 'warm at start', 'cold starts', 'init, summed', 'init billed', 'failures'], rows)}`;
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
      money(x.perMillion.init),
      money(x.perMillion.requests),
      money(x.perMillion.apiGateway),
      money(x.perMillion.logs),
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
${cost.cluster ? `The load balancer in front of the ingress gateway adds ${money(cost.cluster.loadBalancerMonthly)} a month, so the smallest cluster with its entry point costs ${money(cost.cluster.monthly)}.` : ''}
${cost.breakEven ? breakEvenText(results, cost.breakEven) : ''}</p>`
    : '<p class="note">kubectl was not available, so the mesh side of the cost model (from the rendered manifests) is missing.</p>';
  const priceRows = Object.entries(cost.sources).map(([key, source]) => [
    key,
    String(cost.prices[key as keyof Prices]),
    source.unit,
    source.source,
  ]);
  return `<h2 id="cost-section">Cost</h2>
${envoyHtml(cost.envoy)}
${cost.curve ? '<div class="chart" style="height: 340px"><canvas id="cost"></canvas></div>' : ''}
<h3>Lambda, per million requests</h3>
${htmlTable(
  [
    'function',
    'billed ms',
    'GB-s per request',
    'duration',
    'INIT',
    'requests',
    'API Gateway',
    'CloudWatch Logs',
    'total',
  ],
  lambdaRows,
)}
${meshSection}
<h3>Assumptions</h3>
<ul>${cost.assumptions.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ul>
${htmlTable(['price', 'value', 'unit', 'source'], priceRows)}
<p class="note">Prices as of ${escapeHtml(cost.prices.asOf)}, ${escapeHtml(cost.prices.region)}, from bench/prices.json unless --prices overrode them.</p>`;
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
${burstSection(results)}
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
