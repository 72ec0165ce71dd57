// Faults under load on the local stack (real processes, dynalite, s3rver): the backend killed, the
// object store gone during uploads, a service stopped with SIGTERM while requests are in flight.
// The thumbnailer's outage is in local/tests/thumbnails.test.ts.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { createS3Client, imageIdFor } from '@twin/thumbnails';
import { ServiceProcess, type Stack } from '../../local/src';
import { S3RVER_CREDENTIALS } from '../../local/src/object-store';
import { LOCAL_CREDENTIALS } from '../../lambda/src/runtime/local-env';
import { startTestStack } from '../support/stack';
import { sampleImage } from '../../packages/thumbnails/tests/fixtures';
import {
  call,
  expectNoLeak,
  type PooledResult,
  report,
  runPool,
  sleep,
  statusCounts,
  waitFor,
} from './support';

const BACKEND_TIMEOUT_MS = 1000;
/**
 * Slack on top of a deadline before a request counts as hung: a busy two-CPU machine queues requests
 * for seconds; a hang is the 15 s of the client's own deadline.
 */
const SLACK_MS = 5000;

const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function summary(name: string, results: PooledResult[]): string {
  const slowest = Math.max(...results.map((r) => r.ms));
  return `${name}: ${results.length} requests, statuses ${JSON.stringify(statusCounts(results))}, slowest ${slowest.toFixed(0)} ms`;
}

describe('faults under load', () => {
  let stack: Stack;
  let frontend: string;
  let s3: S3Client;

  beforeAll(async () => {
    stack = await startTestStack({ env: { BACKEND_TIMEOUT_MS: String(BACKEND_TIMEOUT_MS) } });
    frontend = stack.url('frontend');
    s3 = createS3Client({
      endpoint: stack.objectStore.endpoint,
      region: 'us-east-1',
      credentials: S3RVER_CREDENTIALS,
    });
  }, 60_000);
  afterAll(async () => {
    s3?.destroy();
    await stack?.stop();
  });

  it('backend killed mid-load: 503s without a hang or a 500, then full recovery; the frontend keeps running', async () => {
    const backend = stack.services.get('backend')!;
    const frontendProcess = stack.services.get('frontend')!;
    const frontendPid = frontendProcess.pid;
    const routes: Array<[string, RequestInit]> = [
      ['/api/products', {}],
      ['/api/version', {}],
      [
        '/api/products',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"name":"during the fault","price":1}',
        },
      ],
    ];
    let done = false;
    let backAt = Infinity;
    let startedSinceBack = 0;
    const t0 = performance.now();
    const load = runPool(
      20,
      () => done,
      (i) => {
        if (performance.now() - t0 > backAt) startedSinceBack += 1;
        const [path, init] = routes[i % routes.length]!;
        return call(`${frontend}${path}`, init, 15_000);
      },
    );
    await sleep(1500);
    const killedAt = performance.now() - t0;
    process.kill(backend.pid!, 'SIGKILL');
    await backend.stop();
    await sleep(1500);
    await backend.start();
    backAt = performance.now() - t0;
    // As many requests after the recovery as the machine takes to serve them, not a fixed time.
    await waitFor('40 requests after the backend is back', async () => startedSinceBack >= 40, 60_000);
    done = true;
    const results = await load;

    report([
      summary('backend killed mid-load', results),
      `backend killed at ${killedAt.toFixed(0)} ms, ready again at ${backAt.toFixed(0)} ms`,
    ]);
    // 504 too: a backend slower than the frontend's deadline, which a busy machine makes.
    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses].filter((s) => ![200, 201, 502, 503, 504].includes(s))).toEqual([]);
    expect(statuses.has(503) || statuses.has(502)).toBe(true);
    for (const r of results) {
      expect(r.ms).toBeLessThan(BACKEND_TIMEOUT_MS + SLACK_MS);
      expectNoLeak(r.text ?? '');
      if (r.status >= 500) expect(JSON.parse(r.text!)).toEqual({ error: expect.any(String) });
    }
    // Full recovery: nothing that started once the backend was back found it unavailable (a 504 is
    // a busy machine's slowness, not the outage).
    const after = results.filter((r) => r.at > backAt);
    expect(after.length).toBeGreaterThanOrEqual(20);
    expect(statusCounts(after)).toEqual(
      Object.fromEntries(
        Object.entries(statusCounts(after)).filter(([s]) => ['200', '201', '504'].includes(s)),
      ),
    );
    expect(after.some((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(frontendProcess.pid).toBe(frontendPid);
    expect(frontendProcess.running).toBe(true);
    expect((await call(`${frontend}/readyz`)).status).toBe(200);
  }, 60_000);

  /** Every image in the gallery's list, page after page. */
  async function everyImage(): Promise<Array<{ id: string; bytes: number; thumbnail: string }>> {
    const items: Array<{ id: string; bytes: number; thumbnail: string }> = [];
    let cursor: string | undefined;
    do {
      const query = cursor === undefined ? '' : `&cursor=${cursor}`;
      const page = JSON.parse((await call(`${frontend}/api/images?limit=100${query}`)).text) as {
        items: typeof items;
        nextCursor?: string;
      };
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return items;
  }

  it('object store down during uploads: clear 503s, nothing half-written, every stored upload intact', async () => {
    const frontendProcess = stack.services.get('frontend')!;
    const frontendPid = frontendProcess.pid;
    const images = await Promise.all([0, 1, 2, 3].map((i) => sampleImage('png', 320 + i * 16, 240)));
    const sent = new Map<string, Buffer>();
    const outage = { from: Infinity, to: Infinity };
    let done = false;
    const load = runPool(
      6,
      () => done,
      async (i) => {
        const image = images[i % images.length]!;
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(image)]), `outage ${i}.png`);
        const answer = await call(`${frontend}/api/images`, { method: 'POST', body: form }, 15_000);
        if (answer.status === 201) sent.set((JSON.parse(answer.text) as { id: string }).id, image);
        return answer;
      },
    );
    const t0 = performance.now();
    await sleep(1500);
    outage.from = performance.now() - t0;
    await stack.objectStore.stop();
    const stoppedAt = performance.now() - t0;
    await sleep(500);
    const gallery = await call(`${frontend}/api/images`);
    const ready = await call(`${frontend}/readyz`);
    await sleep(1500);
    outage.to = performance.now() - t0;
    await stack.objectStore.start();
    const backAt = performance.now() - t0;
    await sleep(1500);
    done = true;
    const results = await load;

    report([
      summary('object store down during uploads', results),
      `object store stopping at ${outage.from.toFixed(0)} ms, stopped at ${stoppedAt.toFixed(0)} ms, back at ${backAt.toFixed(0)} ms`,
    ]);
    expect(gallery.status).toBe(503);
    expect(JSON.parse(gallery.text)).toEqual({ error: 'object store is unavailable' });
    expect(ready.status).toBe(503);
    expect(Object.keys(statusCounts(results)).sort()).toEqual(['201', '503']);
    for (const r of results) {
      expect(r.ms).toBeLessThan(10_000);
      if (r.status === 503) expect(JSON.parse(r.text!)).toEqual({ error: 'object store is unavailable' });
      // While it was down nothing could be stored; once it is back everything is.
      if (r.at > stoppedAt && r.at + r.ms < outage.to) expect(r.status).toBe(503);
      if (r.at > backAt) expect(r.status).toBe(201);
    }

    // Nothing half-written: exactly the acknowledged uploads are stored, each byte for byte.
    const { Contents = [] } = await s3.send(
      new ListObjectsV2Command({ Bucket: 'images', Prefix: 'uploads/' }),
    );
    const stored = Contents.map((o) => o.Key!).filter((key) => key.includes('/outage '));
    expect(stored.map((key) => imageIdFor(key)).sort()).toEqual([...sent.keys()].sort());
    for (const key of stored) {
      const object = await s3.send(new GetObjectCommand({ Bucket: 'images', Key: key }));
      const body = await object.Body!.transformToByteArray();
      expect(sha256(body)).toBe(sha256(sent.get(imageIdFor(key))!));
    }
    // The gallery shows them all, each one opens as the image it was, and each gets its thumbnail.
    const listed = await everyImage();
    for (const [id, image] of sent) {
      expect(listed).toContainEqual(expect.objectContaining({ id, bytes: image.length }));
      const response = await fetch(`${frontend}/api/images/${id}`);
      expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(image));
    }
    await waitFor(
      'every stored upload has its thumbnail',
      async () => {
        const items = await everyImage();
        return [...sent.keys()].every((id) => items.find((item) => item.id === id)?.thumbnail === 'ready');
      },
      30_000,
    );
    const thumbnailId = [...sent.keys()][0]!;
    const thumbnail = Buffer.from(
      await (await fetch(`${frontend}/api/images/${thumbnailId}/thumbnail`)).arrayBuffer(),
    );
    expect((await sharp(thumbnail).metadata()).width).toBe(200);
    expect(frontendProcess.pid).toBe(frontendPid);
  }, 90_000);

  it('SIGTERM with requests in flight: they all finish with 2xx, new connections are refused, exit code 0', async () => {
    const dynamodb = stack.endpoints.find((e) => e.name === 'dynamodb')!.url;
    const slow = new ServiceProcess(
      {
        name: 'backend-slow',
        packageName: '@twin/backend',
        port: 0,
        env: {
          AWS_REGION: 'us-east-1',
          ...LOCAL_CREDENTIALS,
          AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
          TABLE_NAME: 'products',
          FAULT_DELAY_MS: '2000',
          OTEL_TRACES_EXPORTER: 'none',
          LOG_LEVEL: 'warn',
        },
      },
      () => undefined,
    );
    await slow.start();
    const pid = slow.pid;
    const base = slow.url;
    const inFlight = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 2
        ? call(`${base}/products`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: `in flight ${i}`, price: i }),
          })
        : call(`${base}${i % 3 === 0 ? '/products' : '/version'}`),
    );
    await sleep(500);
    const t0 = performance.now();
    const exited = slow.stop().then((code) => ({ code, ms: performance.now() - t0 }));
    await sleep(300);
    const refused = await refusesConnections(Number(new URL(base).port));
    const answers = await Promise.all(inFlight);
    const lastAnswerMs = performance.now() - t0;
    const { code, ms } = await exited;

    report([
      `SIGTERM with ${answers.length} requests in flight: statuses ${JSON.stringify(statusCounts(answers))}, ` +
        `last answer ${lastAnswerMs.toFixed(0)} ms after SIGTERM, exit code ${code} after ${ms.toFixed(0)} ms, ` +
        `new connections ${refused ? 'refused' : 'accepted'}`,
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([
      ...Array<number>(20).fill(200),
      ...Array<number>(10).fill(201),
    ]);
    expect(refused).toBe(true);
    expect(code).toBe(0);
    expect(pid).toBeDefined();
    // It left as soon as the last request was answered, not when a keep-alive timer ran out.
    expect(ms - lastAnswerMs).toBeLessThan(1000);
  }, 60_000);
});
