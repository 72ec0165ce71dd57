import { round } from './stats';
import type { ThumbnailRun } from './thumbnails';

/** Names of the processes whose CPU per image the bench reads (ThumbnailRun.cpuMsPerImage). */
export const SHARP_PROCESS = 'this process (sharp)';
export const OBJECT_STORE_PROCESS = 's3rver + event delivery';

/**
 * The most the pipeline could make, from one run's CPU per image: the object store (s3rver) and its
 * event delivery are on the pipeline's CPUs, and so is the resize, so even with a frontend, a
 * thumbnailer and a client that cost nothing, `cpus` CPUs make at most cpus x 1000 / (store + sharp)
 * images/s, where raw sharp makes cpus x 1000 / sharp: `shareOfRaw` = sharp / (store + sharp). Both
 * from CPU time, so a busy machine (which slows raw sharp's run as much as the pipeline's) changes them
 * little.
 */
export interface ObjectStoreCeiling {
  /** CPU ms per image of s3rver and event delivery (the launcher's process). */
  storeMs: number;
  /** CPU ms per image of raw sharp. */
  sharpMs: number;
  cpus: number;
  /** The most images/s the pipeline could make, rounded to 0.1. */
  imagesPerSecond: number;
  /** That ceiling as a share of raw sharp's images/s on the same CPUs, 0 to 1, rounded to 0.001. */
  shareOfRaw: number;
}

/** The ceiling of `pipeline` on `cpus` CPUs; undefined when a run has no CPU figures (not Linux). */
export function objectStoreCeiling(
  raw: ThumbnailRun,
  pipeline: ThumbnailRun,
  cpus: number,
): ObjectStoreCeiling | undefined {
  const sharpMs = raw.cpuMsPerImage?.[SHARP_PROCESS];
  const storeMs = pipeline.cpuMsPerImage?.[OBJECT_STORE_PROCESS];
  if (sharpMs === undefined || storeMs === undefined || sharpMs <= 0) return undefined;
  return {
    storeMs,
    sharpMs,
    cpus,
    imagesPerSecond: round((cpus * 1000) / (storeMs + sharpMs), 1),
    shareOfRaw: round(sharpMs / (storeMs + sharpMs), 3),
  };
}

/** The ceiling in one sentence, as the bench prints it. */
export function describeCeiling(ceiling: ObjectStoreCeiling): string {
  const { storeMs, sharpMs, cpus, imagesPerSecond, shareOfRaw } = ceiling;
  return (
    `s3rver and event delivery alone: ${round(storeMs, 1)} ms CPU per image -> at most ${imagesPerSecond} ` +
    `images/s on ${cpus} CPUs together with sharp's ${round(sharpMs, 1)} ms (${round(shareOfRaw * 100, 1)}% of raw sharp on the same CPUs)`
  );
}
