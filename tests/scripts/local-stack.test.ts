import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Stack } from '../../local/src';
import { startTestStack } from '../support/stack';
import { runScript } from './support/run-script';

// The scripts against the real local stack (`npm start`'s): services as child processes, dynalite,
// s3rver, the Lambda emulator, and the launcher's trace store with Jaeger's query API.
describe('scripts against the local stack', () => {
  let stack: Stack;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await startTestStack({ traceStorePort: 0, env: { OTEL_BSP_SCHEDULE_DELAY: '200' } });
    env = {
      BASE_URL: stack.url('frontend'),
      API_URL: `${stack.url('lambda')}/Prod`,
      JAEGER_URL: stack.traces?.url ?? 'the stack started no trace store',
    };
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('canary.sh', () => {
    it('passes --expect 100/0: the local stack runs v1 only', async () => {
      const result = await runScript('canary.sh', ['--expect', '100/0', '-n', '40'], env);
      expect(result.stdout).toMatch(/1\.0\.0\s+40\s+100\.0%\s+100\.0%/);
      expect(result.stdout).toContain('PASS: the split fits 100/0');
      expect(result.code).toBe(0);
    }, 60_000);

    it('fails --expect 50/50, with the chi-square test saying how far off', async () => {
      const result = await runScript('canary.sh', ['--expect', '50/50', '-n', '40'], env);
      expect(result.stdout).toContain('FAIL: the split is off from 50/50 (chi-square = 40.000, df = 1');
      expect(result.code).toBe(1);
    }, 60_000);

    it('fails --expect 0/100 at once: v1 answered though its weight is 0', async () => {
      const result = await runScript('canary.sh', ['--expect', '0/100', '-n', '5'], env);
      expect(result.stdout).toContain('1.0.0 answered 5 times but is expected at weight 0');
      expect(result.code).toBe(1);
    }, 60_000);
  });

  describe('products.sh', () => {
    it.each([
      ['mesh', '/api/products'],
      ['lambda', '/Prod/products'],
    ])(
      'walks the CRUD through the %s twin',
      async (target, route) => {
        const result = await runScript('products.sh', ['--target', target], env);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(
          `${route} -H "Content-Type: application/json" -d '{"name":"Laptop","price":999.99}'`,
        );
        const statuses = [...result.stdout.matchAll(/^ {3}(\d{3}) /gm)].map((match) => match[1]);
        expect(statuses).toEqual(['201', '200', '200', '400', '204', '404']);
        expect(result.stdout).toContain('"field":"price"');
        expect(result.stdout).toContain(
          `PASS: create, list, get, validation and delete all answered as expected (${target} twin)`,
        );
      },
      60_000,
    );

    it('stops with exit 1 and says so when the twin is not there', async () => {
      const result = await runScript('products.sh', ['--target', 'lambda'], {
        API_URL: 'http://127.0.0.1:9/Prod',
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        'FAIL at step 1: is the lambda twin running at http://127.0.0.1:9/Prod?',
      );
    }, 30_000);
  });

  describe('upload.sh', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'upload-sh-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('uploads images, waits for every thumbnail and reports the latencies', async () => {
      const photo = path.join(dir, 'my photo ñ.jpg');
      await writeFile(
        photo,
        await sharp({ create: { width: 1024, height: 768, channels: 3, background: '#3366aa' } })
          .jpeg()
          .toBuffer(),
      );
      const out = path.join(dir, 'thumbnails');
      const result = await runScript(
        'upload.sh',
        ['-n', '6', '-c', '3', '--poll', '50', '--timeout', '20', '-o', out, photo],
        env,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('PASS: 6 of 6 thumbnails ready');
      expect(result.stdout).toMatch(
        /latency \(upload start to thumbnail, ms\) over 6: p50 \d+ {2}p90 \d+ {2}p99 \d+ {2}max \d+/,
      );
      const saved = await readdir(out);
      expect(saved).toHaveLength(6);
      for (const file of saved) {
        const metadata = await sharp(path.join(out, file)).metadata();
        expect([metadata.width, metadata.height, metadata.format]).toEqual([200, 200, 'jpeg']);
      }
    }, 90_000);

    it('uses its built-in image when given none', async () => {
      const result = await runScript('upload.sh', ['-n', '2'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('sample.png');
    }, 60_000);

    it('fails with exit 1 when an upload is refused', async () => {
      const text = path.join(dir, 'fake.jpg');
      await writeFile(text, 'not an image at all');
      const result = await runScript('upload.sh', ['--timeout', '5', text], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('upload answered 415');
      expect(result.stdout).toContain('FAIL: 1 of 1 uploads did not get a thumbnail in time');
    }, 60_000);

    it('stops waiting for a thumbnail that failed, and says why (exit 1)', async () => {
      const jpeg = await sharp({
        create: {
          width: 800,
          height: 600,
          channels: 3,
          background: '#808080',
          noise: { type: 'gaussian', mean: 128, sigma: 40 },
        },
      })
        .jpeg()
        .toBuffer();
      const damaged = path.join(dir, 'damaged.jpg');
      await writeFile(damaged, jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
      const started = Date.now();
      const result = await runScript('upload.sh', ['--timeout', '60', damaged], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        /FAILED: no thumbnail: image could not be decoded: .*premature end of JPEG/i,
      );
      // Told, not timed out.
      expect(Date.now() - started).toBeLessThan(50_000);
    }, 90_000);
  });

  describe('traces.sh', () => {
    it("makes the brief's 20 requests, then finds frontend -> backend -> DynamoDB in the local trace store", async () => {
      const result = await runScript('traces.sh', ['--wait', '60'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('20 of 20 answered 2xx, 20 named their trace');
      expect(result.stdout).toMatch(/^frontend {2}GET \/api\/products .* <- frontend$/m);
      expect(result.stdout).toMatch(/^ +└─ backend {2}GET \/products .* <- backend$/m);
      expect(result.stdout).toMatch(/^ +└─ backend {2}DynamoDB\.Query .* <- database$/m);
      expect(result.stdout).toContain('PASS: frontend -> backend -> DynamoDB is one trace in Jaeger.');
      // The tree's trace is the store's: the query API returns it by id, with all its spans.
      const traceId = /^trace ([0-9a-f]{32}) \((\d+) spans\)$/m.exec(result.stdout);
      const answer = await fetch(`${stack.traces?.url}/api/traces/${traceId?.[1]}`);
      const body = (await answer.json()) as { data: Array<{ spans: unknown[] }> };
      expect(body.data[0]?.spans).toHaveLength(Number(traceId?.[2]));
    }, 120_000);
  });
});
