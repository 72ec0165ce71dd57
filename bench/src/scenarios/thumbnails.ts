import { availableParallelism } from 'node:os';
import { cpuPerUnit } from '../cpu';
import { parseInvocation } from '../emulator-log';
import type { LocalStack } from '../local-stack';
import { round, summarize, type Summary } from '../stats';
import {
  describeCeiling,
  OBJECT_STORE_PROCESS,
  objectStoreCeiling,
  type ObjectStoreCeiling,
  SHARP_PROCESS,
} from '../thumbnail-ceiling';
import { endToEnd, rawSharp, type ThumbnailRun } from '../thumbnails';
import type { ScenarioContext } from './context';

export interface ThumbnailsResult {
  /** sharp in this process: the floor of any thumbnail path. */
  raw: ThumbnailRun;
  /** Upload -> object store event -> the thumbnailer (MinIO's webhook), until the thumbnail is readable. */
  thumbnailer: ThumbnailRun;
  /** The same through the Lambda imageProcessor (S3's invocation). */
  lambda: ThumbnailRun;
  /** What s3rver and event delivery leave of the machine to the thumbnailer's pipeline (from its run). */
  ceiling?: ObjectStoreCeiling;
  /** Warm imageProcessor invocations' durations as the emulator logged them (what Lambda bills), ms. */
  imageProcessorDurations?: Summary;
  imageBytes: { min: number; max: number };
}

/** Who works on an upload: the frontend, the object store and event delivery, the thumbnail maker, the client. */
function pipelinePids(stack: LocalStack, maker: 'thumbnailer' | 'lambda'): Record<string, number> {
  return {
    ...stack.pids('frontend'),
    [OBJECT_STORE_PROCESS]: stack.launcherPid,
    ...stack.pids(maker),
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

/** Durations of the emulator's warm imageProcessor invocations, from its invocation records. */
function collectImageDurations(stack: LocalStack): number[] {
  const durations: number[] = [];
  stack.onLog((service, line) => {
    if (service !== 'lambda') return;
    const invocation = parseInvocation(line);
    if (invocation?.function === 'ImageProcessorFunction' && !invocation.coldStart) {
      durations.push(invocation.durationMs);
    }
  });
  return durations;
}

/** Raw sharp, then the same images end to end through the thumbnailer and through the Lambda function. */
export async function thumbnailsScenario(ctx: ScenarioContext): Promise<ThumbnailsResult> {
  const { settings, log } = ctx;
  const images = await ctx.images();
  const warm = images.slice(0, 1);
  const { thumbnailJobs: jobs, concurrency } = settings;
  log(`  ${jobs} jobs over ${images.length} JPEGs of ${settings.imageSize}, ${concurrency} in flight`);
  const done = (run: ThumbnailRun) => {
    const polls =
      run.pollsPerImage === undefined ? '' : `, ${run.pollsPerImage} thumbnail requests per image`;
    log(`  ${run.path}: ${run.throughput} images/s, p50 ${round(run.latency.p50, 1)} ms${polls}`);
    return run;
  };

  await rawSharp(warm, concurrency, concurrency);
  const raw = done(
    await withCpu({ [SHARP_PROCESS]: process.pid }, () => rawSharp(images, jobs, concurrency)),
  );

  const mesh = await ctx.stack('plain');
  await endToEnd('warm-up', mesh.url('frontend'), warm, concurrency, concurrency);
  const thumbnailer = done(
    await withCpu(pipelinePids(mesh, 'thumbnailer'), () =>
      endToEnd('thumbnailer (upload -> event -> thumbnail)', mesh.url('frontend'), images, jobs, concurrency),
    ),
  );
  const ceiling = objectStoreCeiling(raw, thumbnailer, availableParallelism());
  if (ceiling) log(`  ${describeCeiling(ceiling)}`);
  await ctx.release(['lambda']);

  const lambdaStack = await ctx.stack('lambda');
  const durations = collectImageDurations(lambdaStack);
  await endToEnd('warm-up', lambdaStack.url('frontend'), warm, concurrency, concurrency);
  const lambda = done(
    await withCpu(pipelinePids(lambdaStack, 'lambda'), () =>
      endToEnd(
        'Lambda imageProcessor (upload -> event -> invoke)',
        lambdaStack.url('frontend'),
        images,
        jobs,
        concurrency,
      ),
    ),
  );
  return {
    raw,
    thumbnailer,
    lambda,
    ceiling,
    imageProcessorDurations: durations.length > 0 ? summarize(durations) : undefined,
    imageBytes: {
      min: Math.min(...images.map((image) => image.data.length)),
      max: Math.max(...images.map((image) => image.data.length)),
    },
  };
}
