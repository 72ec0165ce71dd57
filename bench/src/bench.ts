// npm run bench: what tracing, the event pipeline and the Lambda bundles cost on this machine, each
// figure beside a baseline measured in the same run.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchResults, type BenchSettings, benchMarkdown, evaluateTargets } from './bench-report';
import { measureColdStarts } from './coldstart';
import {
  buildBundles,
  bundleComposition,
  flag,
  functionEnv,
  log,
  REPOSITORY_ROOT,
  seedProducts,
  startRawServer,
  startSink,
  startStack,
  type LocalStack,
  url,
  withCleanup,
} from './common';
import { sampleImages } from './images';
import { measureInterleaved } from './load';
import type { SinkStats } from './servers';
import { cpuPerUnit } from './cpu';
import { describeMachine, finishMachineInfo, machineInfo } from './machine';
import { endToEnd, rawSharp, type ThumbnailRun } from './thumbnails';

const USAGE = `Usage: npm run bench [-- options]

Measures on this machine, each figure beside a baseline from the same run:
  products  GET /api/products through frontend -> backend -> DynamoDB, the backend alone and a bare
            node:http hop; tracing off (no exporter) and on (OTLP to a local receiver that discards)
  thumbnails  raw sharp in process vs upload -> event -> thumbnailer vs the Lambda imageProcessor
  cold start  a fresh node process loading a function's esbuild bundle and invoking it once, vs node -e 0
Writes reports/bench/results.json and results.md, and prints the tables and the targets.

Options:
  --duration S     seconds per measured load run            (default 3)
  --rounds N       interleaved rounds per load target       (default 5)
  --connections N  autocannon connections                   (default 10)
  --products N     products in the table                    (default 20)
  --images N       distinct sample JPEGs, 1920x1080         (default 8)
  --jobs N         thumbnails per path                      (default 24)
  --concurrency N  thumbnails in flight                     (default 4)
  --cold-runs N    fresh processes per cold start case      (default 9)
  --quick          one short round of everything (a smoke run; its figures mean little)
  -h, --help       this text`;

function pick(pids: Record<string, number>, ...names: string[]): Record<string, number> {
  return Object.fromEntries(
    names.filter((name) => pids[name] !== undefined).map((name) => [name, pids[name] as number]),
  );
}

/** Who works on an upload: the frontend, the object store and event delivery, the thumbnail maker, the client. */
function pipelinePids(stack: LocalStack, maker: 'thumbnailer' | 'lambda'): Record<string, number> {
  return {
    ...pick(stack.pids, 'frontend'),
    's3rver + event delivery': stack.pids.stack as number,
    ...pick(stack.pids, maker),
    'client (upload, polls)': process.pid,
  };
}

async function withCpu(
  pids: Record<string, number>,
  run: () => Promise<ThumbnailRun>,
): Promise<ThumbnailRun> {
  const { result, cpuMsPerUnit } = await cpuPerUnit(pids, run, (r) => r.images - r.failures.length);
  return { ...result, cpuMsPerImage: cpuMsPerUnit };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Spans per traced request, read at the sink: wait out the batch span processor's schedule (5 s by
 * default) so the load's spans are gone, tally 10 requests, wait again for their export.
 */
async function countSpans(
  sink: string,
  target: string,
): Promise<{ total: number; byScope: Record<string, number> }> {
  const requests = 10;
  await sleep(5500);
  await fetch(`${sink}/detail/on`, { method: 'POST' });
  for (let i = 0; i < requests; i += 1) await (await fetch(target)).arrayBuffer();
  await sleep(5500);
  await fetch(`${sink}/detail/off`, { method: 'POST' });
  const { detail } = (await (await fetch(`${sink}/stats`)).json()) as SinkStats;
  const byScope = Object.fromEntries(
    Object.entries(detail).map(([scope, count]) => [scope, count / requests]),
  );
  return { total: Object.values(byScope).reduce((sum, count) => sum + count, 0), byScope };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      products: { type: 'string' },
      images: { type: 'string' },
      jobs: { type: 'string' },
      concurrency: { type: 'string' },
      'cold-runs': { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    log(USAGE);
    return;
  }
  const quick = values.quick;
  const settings: BenchSettings = {
    duration: flag(values.duration, 'duration', quick ? 1 : 3),
    rounds: flag(values.rounds, 'rounds', quick ? 1 : 5),
    warmup: quick ? 1 : 2,
    connections: flag(values.connections, 'connections', 10),
    products: flag(values.products, 'products', 20),
    images: flag(values.images, 'images', quick ? 2 : 8),
    imageSize: '1920x1080',
    thumbnailJobs: flag(values.jobs, 'jobs', quick ? 4 : 24),
    concurrency: flag(values.concurrency, 'concurrency', 4),
    coldRuns: flag(values['cold-runs'], 'cold-runs', quick ? 2 : 9),
    logLevel: 'warn',
  };

  const started = Date.now();
  const machine = machineInfo();
  log(`npm run bench on ${describeMachine(machine)}\n`);
  await withCleanup(async (cleanup) => {
    log('Building the Lambda bundles as sam build does...');
    const bundles = await buildBundles(cleanup);

    log('Starting two local stacks (tracing off, tracing on), the OTLP sink and the raw hop...');
    const sink = await startSink(cleanup);
    const off = await startStack(cleanup, 'mesh', settings.logLevel);
    const on = await startStack(cleanup, 'mesh', settings.logLevel, {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    });
    for (const stack of [off, on]) await seedProducts(url(stack.urls, 'frontend'), settings.products);
    const body = await (await fetch(`${url(off.urls, 'frontend')}/api/products`)).text();
    const raw = await startRawServer(cleanup, body);

    log(`\nProducts API (${settings.rounds} rounds x ${settings.duration} s per target):`);
    // CPU time is accounted per process: the services, the stack's own process (dynalite, the
    // DynamoDB stand-in) and autocannon, which shares the machine with them.
    const generator = { autocannon: process.pid };
    const chainPids = (stack: LocalStack) => ({
      ...pick(stack.pids, 'frontend', 'backend'),
      dynalite: stack.pids.stack as number,
      ...generator,
    });
    const backendPids = (stack: LocalStack) => ({
      ...pick(stack.pids, 'backend'),
      dynalite: stack.pids.stack as number,
      ...generator,
    });
    const target = await measureInterleaved(
      [
        {
          name: 'frontend -> backend -> db',
          url: `${url(off.urls, 'frontend')}/api/products`,
          pids: chainPids(off),
        },
        { name: 'backend -> db', url: `${url(off.urls, 'backend')}/products`, pids: backendPids(off) },
        {
          name: 'raw node:http hop',
          url: raw.url,
          pids: { 'raw server': raw.child.pid as number, ...generator },
        },
        {
          name: 'frontend -> backend -> db, traced',
          url: `${url(on.urls, 'frontend')}/api/products`,
          pids: chainPids(on),
        },
        { name: 'backend -> db, traced', url: `${url(on.urls, 'backend')}/products`, pids: backendPids(on) },
      ],
      settings,
      log,
    );
    log('  counting the spans of one traced request...');
    const spansPerRequest = await countSpans(sink.url, `${url(on.urls, 'frontend')}/api/products`);
    await on.child.stop();
    await raw.child.stop();
    await sink.child.stop();

    log(`\nThumbnails (${settings.thumbnailJobs} jobs, concurrency ${settings.concurrency}):`);
    const images = await sampleImages(settings.images);
    const warm = images.slice(0, 1);
    await rawSharp(warm, settings.concurrency, settings.concurrency);
    const rawRun = await withCpu({ 'this process (sharp)': process.pid }, () =>
      rawSharp(images, settings.thumbnailJobs, settings.concurrency),
    );
    log(`  ${rawRun.path}: ${rawRun.throughput} images/s, p50 ${rawRun.latency.p50.toFixed(1)} ms`);
    const frontend = url(off.urls, 'frontend');
    await endToEnd('warm-up', frontend, warm, settings.concurrency, settings.concurrency);
    const meshRun = await withCpu(pipelinePids(off, 'thumbnailer'), () =>
      endToEnd(
        'thumbnailer (upload -> event -> thumbnail)',
        frontend,
        images,
        settings.thumbnailJobs,
        settings.concurrency,
      ),
    );
    log(`  ${meshRun.path}: ${meshRun.throughput} images/s, p50 ${meshRun.latency.p50.toFixed(1)} ms`);
    await off.child.stop();

    const lambdaStack = await startStack(cleanup, 'lambda', settings.logLevel);
    const lambdaFrontend = url(lambdaStack.urls, 'frontend');
    await endToEnd('warm-up', lambdaFrontend, warm, settings.concurrency, settings.concurrency);
    const lambdaRun = await withCpu(pipelinePids(lambdaStack, 'lambda'), () =>
      endToEnd(
        'Lambda imageProcessor (upload -> event -> invoke)',
        lambdaFrontend,
        images,
        settings.thumbnailJobs,
        settings.concurrency,
      ),
    );
    log(`  ${lambdaRun.path}: ${lambdaRun.throughput} images/s, p50 ${lambdaRun.latency.p50.toFixed(1)} ms`);

    log(`\nCold starts (${settings.coldRuns} runs each)...`);
    await seedProducts(lambdaFrontend, settings.products);
    const coldStarts = await measureColdStarts(
      [{ name: 'empty node' }, bundles.cases.hello, bundles.cases.products],
      settings.coldRuns,
      functionEnv(url(lambdaStack.urls, 'dynamodb')),
    );
    await lambdaStack.child.stop();

    const partial: Omit<BenchResults, 'targets'> = {
      kind: 'bench',
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      durationSec: Math.round((Date.now() - started) / 1000),
      machine: finishMachineInfo(machine),
      settings,
      products: {
        chainTracingOff: target('frontend -> backend -> db'),
        backendTracingOff: target('backend -> db'),
        rawHop: target('raw node:http hop'),
        chainTracingOn: target('frontend -> backend -> db, traced'),
        backendTracingOn: target('backend -> db, traced'),
        bodyBytes: Buffer.byteLength(body),
      },
      thumbnails: {
        raw: rawRun,
        thumbnailer: meshRun,
        lambda: lambdaRun,
        imageBytes: {
          min: Math.min(...images.map((image) => image.data.length)),
          max: Math.max(...images.map((image) => image.data.length)),
        },
      },
      coldStart: {
        results: coldStarts,
        bundles: bundles.sizes,
        productsComposition: await bundleComposition('ProductsFunction'),
      },
      spansPerRequest,
    };
    const results: BenchResults = { ...partial, targets: evaluateTargets(partial) };
    const outDir = path.join(REPOSITORY_ROOT, 'reports', 'bench');
    await mkdir(outDir, { recursive: true });
    const markdown = benchMarkdown(results);
    await writeFile(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(path.join(outDir, 'results.md'), markdown);
    log(`\n${markdown}`);
    for (const check of results.targets)
      log(`${check.met ? 'MET   ' : 'MISSED'}  ${check.goal}: ${check.measured}`);
    log(`\nWritten: ${path.relative(process.cwd(), path.join(outDir, 'results.json'))}, results.md`);
  });
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
