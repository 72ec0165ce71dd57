// npm run compare: the same workloads through both twins, and what each would cost, as a
// self-contained HTML report (reports/compare/report.html) with the JSON behind it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { freePort } from '@twin/local';
import { measureColdStarts, roundSummary, warmDurations } from './coldstart';
import {
  buildBundles,
  flag,
  functionEnv,
  functionMemory,
  type LocalStack,
  log,
  REPOSITORY_ROOT,
  seedProducts,
  startStack,
  url,
  withCleanup,
} from './common';
import {
  type CompareMeasurements,
  type CompareResults,
  type CompareSettings,
  costSection,
  headlines,
  renderHtml,
} from './compare-report';
import { DEFAULT_PRICES, type Prices } from './cost';
import { cpuPerUnit } from './cpu';
import { renderOverlay, workloadsFromManifests, type Workload } from './footprint';
import { sampleImages } from './images';
import { measureInterleaved } from './load';
import { describeMachine, finishMachineInfo, machineInfo } from './machine';
import { summarize } from './stats';
import { endToEnd, type ThumbnailRun } from './thumbnails';

const USAGE = `Usage: npm run compare [-- options]

Runs the same workloads through both twins on this machine and writes reports/compare/report.html (charts
inlined, works offline) and report.json:
  products API  GET /api/products via the frontend, the backend directly, and the Lambda products handler
                behind the API Gateway emulation: latency p50/p90/p99, throughput, CPU per request
  thumbnails    upload -> event -> the thumbnailer, and upload -> event -> the Lambda imageProcessor
  cold start    a function's bundle in a fresh process, and a backend process until it is ready
  cost          Lambda + API Gateway from the measured durations and the template's memory sizes, against
                the k8s overlay's resource requests with Istio sidecars on on-demand nodes

Options:
  --duration S          seconds per measured load run                 (default 4)
  --rounds N            interleaved rounds per products path          (default 3)
  --connections N       autocannon connections                        (default 10)
  --images N            distinct sample JPEGs, 1920x1080              (default 8)
  --jobs N              uploads per thumbnails path                   (default 24)
  --concurrency N       uploads in flight                             (default 4)
  --cold-runs N         fresh processes per cold start case           (default 7)
  --cold-fraction F     share of invocations that are cold starts     (default 0.01)
  --overlay PATH        k8s overlay for the mesh's footprint          (default k8s/overlays/canary-10)
  --prices FILE         JSON overriding any price (see the report's price table for the fields)
  --quick               one short round of everything (a smoke run; its figures mean little)
  -h, --help            this text`;

function loadPrices(file: string | undefined): Prices {
  if (!file) return DEFAULT_PRICES;
  const overrides = JSON.parse(readFileSync(file, 'utf8')) as Partial<Prices>;
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_PRICES)) throw new Error(`--prices: unknown field ${key}`);
    if (typeof value !== typeof DEFAULT_PRICES[key as keyof Prices]) {
      throw new Error(`--prices: ${key} must be a ${typeof DEFAULT_PRICES[key as keyof Prices]}`);
    }
  }
  return { ...DEFAULT_PRICES, ...overrides };
}

/** Spawns the backend as its container starts it and times it until /readyz answers 200. */
async function backendStart(dynamodb: string, runs: number): Promise<number[]> {
  const dir = path.dirname(require.resolve('@twin/backend/package.json'));
  const times: number[] = [];
  for (let run = 0; run <= runs; run += 1) {
    const port = await freePort();
    const started = performance.now();
    const child = spawn(process.execPath, ['--require', './dist/instrumentation.js', 'dist/main.js'], {
      cwd: dir,
      env: {
        ...functionEnv(dynamodb),
        PORT: String(port),
        APP_VERSION: '1.0.0',
        OTEL_TRACES_EXPORTER: 'none',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`backend exited with ${child.exitCode} during start`);
        if (performance.now() - started > 30_000) throw new Error('backend not ready within 30 s');
        const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (response) => response.ok,
          () => false,
        );
        if (ok) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // The first run warms the OS page cache and is not counted, as for the functions.
      if (run > 0) times.push(performance.now() - started);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  }
  return times;
}

function pipelinePids(stack: LocalStack, maker: string): Record<string, number> {
  const pids: Record<string, number> = {};
  if (stack.pids.frontend) pids.frontend = stack.pids.frontend;
  pids['s3rver + event delivery'] = stack.pids.stack as number;
  if (stack.pids[maker]) pids[maker] = stack.pids[maker] as number;
  pids['client (upload, polls)'] = process.pid;
  return pids;
}

async function thumbnailsRun(
  stack: LocalStack,
  maker: string,
  name: string,
  images: Awaited<ReturnType<typeof sampleImages>>,
  settings: CompareSettings,
): Promise<ThumbnailRun> {
  const frontend = url(stack.urls, 'frontend');
  await endToEnd('warm-up', frontend, images.slice(0, 1), settings.concurrency, settings.concurrency);
  const { result, cpuMsPerUnit } = await cpuPerUnit(
    pipelinePids(stack, maker),
    () => endToEnd(name, frontend, images, settings.thumbnailJobs, settings.concurrency),
    (run) => run.images - run.failures.length,
  );
  log(`  ${name}: ${result.throughput} images/s, p50 ${result.latency.p50.toFixed(0)} ms`);
  return { ...result, cpuMsPerImage: cpuMsPerUnit };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      images: { type: 'string' },
      jobs: { type: 'string' },
      concurrency: { type: 'string' },
      'cold-runs': { type: 'string' },
      'cold-fraction': { type: 'string' },
      overlay: { type: 'string', default: 'k8s/overlays/canary-10' },
      prices: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    log(USAGE);
    return;
  }
  const quick = values.quick;
  const coldStartFraction = flag(values['cold-fraction'], 'cold-fraction', 0.01, 0);
  if (coldStartFraction > 1) throw new Error('--cold-fraction must be within 0..1');
  const settings: CompareSettings = {
    duration: flag(values.duration, 'duration', quick ? 1 : 4),
    rounds: flag(values.rounds, 'rounds', quick ? 1 : 3),
    warmup: quick ? 1 : 2,
    connections: flag(values.connections, 'connections', 10),
    products: 20,
    images: flag(values.images, 'images', quick ? 2 : 8),
    imageSize: '1920x1080',
    thumbnailJobs: flag(values.jobs, 'jobs', quick ? 4 : 24),
    concurrency: flag(values.concurrency, 'concurrency', 4),
    coldRuns: flag(values['cold-runs'], 'cold-runs', quick ? 2 : 7),
    warmInvocations: quick ? 20 : 200,
    coldStartFraction,
    overlay: values.overlay,
  };
  const prices = loadPrices(values.prices);

  const started = Date.now();
  const machine = machineInfo();
  log(`npm run compare on ${describeMachine(machine)}\n`);
  await withCleanup(async (cleanup) => {
    let workloads: Workload[] | undefined;
    try {
      workloads = workloadsFromManifests(renderOverlay(REPOSITORY_ROOT, settings.overlay));
    } catch (err) {
      log(
        `(no mesh footprint: kubectl kustomize ${settings.overlay} failed: ${(err as Error).message.split('\n')[0]})`,
      );
    }
    log('Building the Lambda bundles as sam build does...');
    const bundles = await buildBundles(cleanup);

    log('Starting the local stack...');
    const stack = await startStack(cleanup, 'mesh', 'warn');
    await seedProducts(url(stack.urls, 'frontend'), settings.products);
    const body = await (await fetch(`${url(stack.urls, 'frontend')}/api/products`)).text();

    log(`\nProducts API (${settings.rounds} rounds x ${settings.duration} s per path):`);
    const dynalite = stack.pids.stack as number;
    const generator = { autocannon: process.pid };
    const pid = (name: string) => stack.pids[name] as number;
    const runs = await measureInterleaved(
      [
        {
          name: 'mesh: frontend -> backend',
          url: `${url(stack.urls, 'frontend')}/api/products`,
          pids: { frontend: pid('frontend'), backend: pid('backend'), dynalite, ...generator },
        },
        {
          name: 'mesh: backend direct',
          url: `${url(stack.urls, 'backend')}/products`,
          pids: { backend: pid('backend'), dynalite, ...generator },
        },
        {
          name: 'Lambda: API Gateway -> products',
          url: `${url(stack.urls, 'lambda')}/Prod/products`,
          pids: { 'API Gateway + Lambda emulator': pid('lambda'), dynalite, ...generator },
        },
      ],
      settings,
      log,
    );

    log(`\nLambda durations and cold starts (${settings.coldRuns} runs each)...`);
    const env = functionEnv(url(stack.urls, 'dynamodb'));
    const productsWarm = await warmDurations(bundles.cases.products, settings.warmInvocations, env);
    const functions = await measureColdStarts(
      [{ name: 'empty node' }, bundles.cases.hello, bundles.cases.products],
      settings.coldRuns,
      env,
    );
    const backendProcess = roundSummary(
      summarize(await backendStart(url(stack.urls, 'dynamodb'), settings.coldRuns)),
    );

    log(`\nThumbnails (${settings.thumbnailJobs} uploads, concurrency ${settings.concurrency}):`);
    const images = await sampleImages(settings.images);
    const thumbnailer = await thumbnailsRun(stack, 'thumbnailer', 'mesh: thumbnailer', images, settings);
    await stack.child.stop();
    // The emulator logs each invocation with its duration at info; those are the durations S3 would bill.
    const lambdaStack = await startStack(cleanup, 'lambda', 'info', {}, true);
    const imageDurations: number[] = [];
    lambdaStack.child.onLog((service, line) => {
      if (service !== 'lambda' || !line.includes('ImageProcessorFunction')) return;
      try {
        const entry = JSON.parse(line) as {
          msg?: string;
          function?: string;
          durationMs?: number;
          coldStart?: boolean;
        };
        if (entry.msg === 'invocation' && entry.durationMs !== undefined && !entry.coldStart) {
          imageDurations.push(entry.durationMs);
        }
      } catch {
        // not a JSON log line
      }
    });
    const imageProcessor = await thumbnailsRun(
      lambdaStack,
      'lambda',
      'Lambda: imageProcessor',
      images,
      settings,
    );
    await lambdaStack.child.stop();

    const measured: CompareMeasurements = {
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      durationSec: Math.round((Date.now() - started) / 1000),
      machine: finishMachineInfo(machine),
      settings,
      products: {
        viaFrontend: runs('mesh: frontend -> backend'),
        backendDirect: runs('mesh: backend direct'),
        lambda: runs('Lambda: API Gateway -> products'),
        bodyBytes: Buffer.byteLength(body),
      },
      lambdaDurations: {
        products: roundSummary(summarize(productsWarm), 2),
        imageProcessor: imageDurations.length > 0 ? roundSummary(summarize(imageDurations), 1) : undefined,
      },
      thumbnails: {
        thumbnailer,
        imageProcessor,
        imageBytes: {
          min: Math.min(...images.map((image) => image.data.length)),
          max: Math.max(...images.map((image) => image.data.length)),
        },
      },
      coldStart: { functions, backendProcess },
      memoryMb: functionMemory(),
      workloads,
    };
    const results: CompareResults = {
      ...measured,
      kind: 'compare',
      cost: costSection(measured, prices),
      notes: [
        `Everything ran on one machine (${describeMachine(measured.machine)}): load generator, services, ` +
          'dynalite, s3rver and the emulator shared its CPUs, and other work on it shows up in the figures. ' +
          'Compare the twins with each other; absolute figures say little about a cluster or about AWS.',
        'The Lambda side runs in an emulator: one Node process runs every invocation, concurrent ones ' +
          'included, where AWS would start one execution environment per concurrent request. Its latency under ' +
          'load is that of one process, not of a scaled-out function; API Gateway itself adds latency the ' +
          'emulator does not (typically milliseconds to tens of milliseconds).',
        'The mesh side runs without Envoy sidecars: each sidecar hop (two per call between services) adds ' +
          "latency and CPU that these figures do not include; the cost model does count the sidecars' requests.",
        'Cold starts here exclude what the platforms add before the code runs: a Lambda sandbox and code ' +
          "download, a pod's scheduling and image pull.",
        `The products durations billed are the warm invocations' median (${measured.lambdaDurations.products.p50} ms) ` +
          'against dynalite on loopback; DynamoDB over the network takes longer, so real bills are higher.',
        `This machine runs Node ${process.version}; Lambda's nodejs22.x runtime and the images use Node 22.`,
      ],
    };

    const outDir = path.join(REPOSITORY_ROOT, 'reports', 'compare');
    await mkdir(outDir, { recursive: true });
    const chartJs = readFileSync(
      path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
      'utf8',
    );
    await writeFile(path.join(outDir, 'report.json'), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(path.join(outDir, 'report.html'), renderHtml(results, chartJs));
    log('');
    for (const line of headlines(results)) log(`- ${line}`);
    log(`\nWritten: ${path.relative(process.cwd(), path.join(outDir, 'report.html'))} and report.json`);
  });
}

main().catch((err: Error) => {
  process.stderr.write(`compare failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
