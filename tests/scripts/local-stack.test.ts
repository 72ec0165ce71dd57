import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Stack } from '../../local/src';
import { startTestStack } from '../support/stack';
import { startFakeJaeger } from './support/fake-jaeger';
import { runScript } from './support/run-script';

// The scripts against the real local stack (`npm start`'s): services as child processes, dynalite,
// s3rver, the Lambda emulator. Only Jaeger is a stand-in, fed by the services' own OTLP exports.
describe('scripts against the local stack', () => {
  let jaeger: Awaited<ReturnType<typeof startFakeJaeger>>;
  let stack: Stack;
  let env: Record<string, string>;

  beforeAll(async () => {
    jaeger = await startFakeJaeger();
    stack = await startTestStack({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.url, OTEL_BSP_SCHEDULE_DELAY: '200' },
    });
    env = {
      BASE_URL: stack.url('frontend'),
      API_URL: `${stack.url('lambda')}/Prod`,
      JAEGER_URL: jaeger.url,
    };
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await jaeger?.close();
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
  });

  describe('traces.sh', () => {
    it('finds frontend -> backend -> DynamoDB in the spans the services exported, and prints the tree', async () => {
      const result = await runScript('traces.sh', ['-n', '3', '--wait', '30'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('3 of 3 answered 2xx');
      expect(result.stdout).toMatch(/^frontend {2}GET \/api\/products .* <- frontend$/m);
      expect(result.stdout).toMatch(/^ +└─ backend {2}GET \/products .* <- backend$/m);
      expect(result.stdout).toMatch(/^ +└─ backend {2}DynamoDB\.Scan .* <- database$/m);
      expect(result.stdout).toContain('PASS: frontend -> backend -> DynamoDB is one trace in Jaeger.');
      // It asked Jaeger the way the query API expects: a service and a start in microseconds.
      const query = jaeger.queries.at(-1);
      expect(query?.get('service')).toBe('frontend');
      expect(Number(query?.get('start'))).toBeGreaterThan(Date.now() * 1000 - 901 * 1e6);
    }, 90_000);
  });
});
