import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { createThumbnail } from '@twin/thumbnails';
import type { SampleImage } from './images';
import { round, summarize, type Summary } from './stats';

/** How long each image took, how many per second the whole batch ran at, and what failed. */
export interface ThumbnailRun {
  path: string;
  images: number;
  concurrency: number;
  elapsedMs: number;
  /** Images per second over the whole batch. */
  throughput: number;
  /** Per image, ms: raw = the resize; end to end = upload start to thumbnail readable. */
  latency: Summary;
  failures: string[];
  /** End to end: thumbnail requests per image, the last (200) included. */
  pollsPerImage?: number;
  /** CPU ms per image spent by each process involved (Linux only). */
  cpuMsPerImage?: Record<string, number>;
}

/**
 * Runs `jobs` jobs over `images` in turn, `concurrency` at a time (p-limit), and times each from its start to the
 * moment `job` resolves; a job that throws is a failure, named with its image.
 */
async function timeJobs(
  path: string,
  images: SampleImage[],
  jobs: number,
  concurrency: number,
  job: (image: SampleImage) => Promise<void>,
): Promise<ThumbnailRun> {
  const limit = pLimit(concurrency);
  const work = Array.from({ length: jobs }, (_, i) => images[i % images.length] as SampleImage);
  const latencies: number[] = [];
  const failures: string[] = [];
  const started = performance.now();
  await Promise.all(
    work.map((image) =>
      limit(async () => {
        const t0 = performance.now();
        try {
          await job(image);
          latencies.push(performance.now() - t0);
        } catch (err) {
          failures.push(`${image.name}: ${(err as Error).message}`);
        }
      }),
    ),
  );
  const elapsedMs = performance.now() - started;
  return {
    path,
    images: jobs,
    concurrency,
    elapsedMs: round(elapsedMs, 1),
    throughput: round(latencies.length / (elapsedMs / 1000), 2),
    latency: summarize(latencies.length > 0 ? latencies : [0]),
    failures,
  };
}

/** sharp in this process through the package's createThumbnail: the floor for any thumbnail path. */
export function rawSharp(images: SampleImage[], jobs: number, concurrency: number): Promise<ThumbnailRun> {
  return timeJobs('raw sharp (in process)', images, jobs, concurrency, async (image) => {
    const thumbnail = await createThumbnail(image.data);
    if (thumbnail.width !== 200 || thumbnail.height !== 200) throw new Error('not 200x200');
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An upload as `curl -F 'file=@<name>'` sends it: one multipart/form-data part named `file`. */
function multipartBody(image: SampleImage): { body: Buffer; contentType: string } {
  const boundary = `----bench${randomBytes(12).toString('hex')}`;
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${image.name}"\r\n` +
    'Content-Type: image/jpeg\r\n\r\n';
  return {
    body: Buffer.concat([Buffer.from(head, 'utf8'), image.data, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

/** One HTTP/1.1 exchange over `agent`; the response body read whole. */
function exchange(
  agent: http.Agent,
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer } = {},
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const { method = 'GET', headers = {}, body } = options;
    const sent = http.request(
      url,
      { agent, method, headers: body ? { ...headers, 'content-length': body.length } : headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

/**
 * When to ask first for the thumbnail of an image just uploaded, in ms after the upload's answer: a
 * running estimate of the `quantile` of that delay, so that about that share of first GETs find the
 * thumbnail. It starts at the delay the first image showed, then moves by stochastic approximation:
 * `quantile` x `stepMs` later after a first GET that found nothing, (1 - `quantile`) x `stepMs` sooner
 * after one that found the thumbnail. Asking much sooner would nearly always get a 404, and a 404 costs
 * the frontend and the object store about what a thumbnail read does: the bench would then measure
 * its own polling.
 */
export class ThumbnailWait {
  private estimateMs: number | undefined;

  constructor(
    private readonly quantile: number,
    private readonly stepMs: number,
  ) {}

  /** 0 until an image has been seen. */
  get expectedMs(): number {
    return this.estimateMs ?? 0;
  }

  /** A thumbnail was seen `delayMs` after its upload's answer; `first`: by the first GET after the wait. */
  seen(delayMs: number, first: boolean): void {
    if (this.estimateMs === undefined) {
      this.estimateMs = delayMs;
      return;
    }
    const change = first ? -(1 - this.quantile) * this.stepMs : this.quantile * this.stepMs;
    this.estimateMs = Math.max(0, this.estimateMs + change);
  }
}

/**
 * The whole pipeline as a user sees it: POST the image to the frontend, which stores it in the
 * object store, whose ObjectCreated event reaches the thumbnail maker (the thumbnailer or the Lambda
 * imageProcessor, whichever the stack runs), until GET /api/images/<id>/thumbnail answers 200.
 * Each image's time runs from the upload's start to the first 200. The first GET waits for the usual
 * delay from an upload's answer to its thumbnail (ThumbnailWait: 3 in 4 come by then), then one
 * follows every `pollMs`: a thumbnail is seen at most `pollMs` late, or, when it came sooner, at that time.
 * The client is plain node:http over keep-alive connections, so that what it spends per request
 * (which the machine's CPUs also give it) stays small beside what the pipeline spends.
 */
export async function endToEnd(
  path: string,
  frontend: string,
  images: SampleImage[],
  jobs: number,
  concurrency: number,
  options: { pollMs?: number; timeoutMs?: number } = {},
): Promise<ThumbnailRun> {
  const { pollMs = 20, timeoutMs = 60_000 } = options;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const wait = new ThumbnailWait(0.75, pollMs);
  let polls = 0;
  try {
    const run = await timeJobs(path, images, jobs, concurrency, async (image) => {
      const t0 = performance.now();
      const { body, contentType } = multipartBody(image);
      const upload = await exchange(agent, `${frontend}/api/images`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      const uploaded = JSON.parse(upload.body.toString('utf8')) as { id?: string; error?: string };
      if (upload.status !== 201 || !uploaded.id)
        throw new Error(`upload answered ${upload.status} ${uploaded.error ?? ''}`);
      const answered = performance.now();
      await sleep(wait.expectedMs);
      for (let first = true; ; first = false) {
        polls += 1;
        const { status } = await exchange(agent, `${frontend}/api/images/${uploaded.id}/thumbnail`);
        if (status === 200) {
          wait.seen(performance.now() - answered, first);
          return;
        }
        if (status !== 404) throw new Error(`thumbnail answered ${status}`);
        if (performance.now() - t0 > timeoutMs) throw new Error(`no thumbnail within ${timeoutMs} ms`);
        await sleep(pollMs);
      }
    });
    return { ...run, pollsPerImage: round(polls / jobs, 2) };
  } finally {
    agent.destroy();
  }
}
