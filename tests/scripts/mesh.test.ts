import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Stack } from '../../local/src';
import { startTestStack } from '../support/stack';
import { runScript } from './support/run-script';

// The video's mesh demos against the local stack with the mesh on: the real data plane process, a
// sidecar per pod, backend pods v1 x2 and v2 x1. The policy is a copy of k8s/ (which the tests edit),
// its ejection time shortened to 3 s so that the return of an ejected pod is seen.

const ROOT = path.resolve(__dirname, '../..');

/** The brief's loop, run by bash as a reader types it: counts per version. */
function uniqLoop(baseUrl: string): Promise<Record<string, number>> {
  const loop = `for i in $(seq 1 100); do curl -s ${baseUrl}/api/version | jq -r .version; done | sort | uniq -c`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', loop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('close', () =>
      resolve(Object.fromEntries([...out.matchAll(/^\s*(\d+) (\S+)$/gm)].map((m) => [m[2]!, Number(m[1])]))),
    );
  });
}

const until = async (check: () => Promise<boolean>, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('the mesh demos against npm start', () => {
  let root: string;
  let stack: Stack;
  let env: Record<string, string>;
  const config = async () =>
    (await (await fetch(`${env.MESH_ADMIN_URL}/config`)).json()) as { stage: string; version: number };

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-demo-'));
    for (const dir of ['k8s/istio', 'k8s/overlays', 'k8s/demos'])
      fs.cpSync(path.join(ROOT, dir), path.join(root, dir), { recursive: true });
    const dr = path.join(root, 'k8s/istio/destination-rule-backend.yaml');
    fs.writeFileSync(
      dr,
      fs
        .readFileSync(dr, 'utf8')
        .replace('interval: 10s', 'interval: 1s')
        .replace('baseEjectionTime: 30s', 'baseEjectionTime: 3s'),
    );
    stack = await startTestStack({
      mesh: { stage: 'canary-10', replicas: { v1: 2, v2: 1 }, adminPort: 0, root },
      traceStorePort: 0,
    });
    env = { BASE_URL: stack.url('frontend'), MESH_ADMIN_URL: stack.mesh!.adminUrl };
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it("prints about 90/10 in the video's uniq -c loop, and canary.sh agrees", async () => {
    const counts = await uniqLoop(env.BASE_URL!);
    expect(counts['1.0.0']! + counts['2.0.0']!).toBe(100);
    // Binomial(100, 0.1): outside 1..30 about once in 40,000 runs.
    expect(counts['2.0.0']).toBeGreaterThanOrEqual(1);
    expect(counts['2.0.0']).toBeLessThanOrEqual(30);
    const canary = await runScript(
      'canary.sh',
      ['--expect', '90/10', '-n', '200', '--alpha', '0.001'],
      env,
      120_000,
    );
    expect(canary.stdout).toContain('PASS: the split fits 90/10');
  }, 180_000);

  it("sends Jaeger UI's paths on the trace store's port to the page through the ingress gateway", async () => {
    for (const [jaegerPath, pagePath] of [
      ['/', '/#traces'],
      ['/trace/4bf92f3577b34da6a3ce929d0e0e4736', '/#trace/4bf92f3577b34da6a3ce929d0e0e4736'],
    ]) {
      const answer = await fetch(`${stack.traces!.url}${jaegerPath}`, { redirect: 'manual' });
      expect(answer.status).toBe(302);
      expect(answer.headers.get('location')).toBe(`${env.BASE_URL}${pagePath}`);
    }
  });

  it('follows promote.sh --target local to 50/50 and 0/100, no restart', async () => {
    const pids = stack.endpoints.map((e) => e.pid);
    const promoted = await runScript('promote.sh', ['--target', 'local', '50'], env);
    expect(promoted.stdout).toContain(
      'backend VirtualService now sends 50% of calls to v1 (1.0.0) and 50% to v2 (2.0.0) (local data plane).',
    );
    expect(promoted.code).toBe(0);
    const half = await runScript(
      'canary.sh',
      ['--expect', '50/50', '-n', '100', '--alpha', '0.001'],
      env,
      120_000,
    );
    expect(half.stdout).toContain('PASS: the split fits 50/50');
    expect((await runScript('promote.sh', ['--target', 'local', 'canary-100'], env)).code).toBe(0);
    const all = await runScript('canary.sh', ['--expect', '0/100', '-n', '50'], env, 120_000);
    expect(all.stdout).toMatch(/2\.0\.0\s+50\s+100\.0%/);
    expect(all.code).toBe(0);
    expect(stack.endpoints.map((e) => e.pid)).toEqual(pids);
    expect((await runScript('promote.sh', ['--target', 'local', '10'], env)).code).toBe(0);
  }, 300_000);

  it("follows an edit of the selected overlay's patch, and refuses a broken one naming file and field", async () => {
    const patch = path.join(root, 'k8s/overlays/canary-10/backend-weights.yaml');
    const original = fs.readFileSync(patch, 'utf8');
    const before = (await config()).version;
    fs.writeFileSync(patch, original.replace(/value: 90/g, 'value: 0').replace(/value: 10/g, 'value: 100'));
    await until(async () => (await config()).version > before, 'the reload');
    expect(await uniqLoop(env.BASE_URL!)).toEqual({ '2.0.0': 100 });
    const refused = await runScript('promote.sh', ['--target', 'local', '10'], env);
    expect(refused.code).toBe(0);
    fs.writeFileSync(patch, original.replace('value: 90', 'value: 95'));
    await until(async () => ((await config()) as { refused?: unknown }).refused !== undefined, 'the refusal');
    const status = (await config()) as {
      refused?: { problems: { file: string; field: string; message: string }[] };
    };
    expect(status.refused!.problems[0]).toMatchObject({
      file: 'k8s/istio/virtual-service-backend.yaml',
      field: 'spec.http[0].route',
      message: expect.stringMatching(/^weights sum to 105, not 100/),
    });
    expect(await uniqLoop(env.BASE_URL!)).toEqual({ '2.0.0': 100 });
    fs.writeFileSync(patch, original);
    await until(async () => {
      const c = await config();
      return c.version > before + 1;
    }, 'the reload of the original');
  }, 180_000);

  it('circuit-breaker.sh --target local: the stopped v2 pod is ejected, callers are answered, and it returns', async () => {
    const result = await runScript(
      'circuit-breaker.sh',
      ['--target', 'local', '-n', '40', '--wait-return', '60'],
      env,
      240_000,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\+ kill -STOP \d+/);
    // Every request answered 200; only those that met the stopped pod before its ejection waited.
    const statuses = [...result.stdout.matchAll(/^\s+(\d+) (\d{3})\b/gm)].map((m) => m[2]);
    expect(new Set(statuses)).toEqual(new Set(['200']));
    const slow = [...result.stdout.matchAll(/^\s+(\d+) 200 over 1 s$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(slow).toBeLessThanOrEqual(5);
    expect(result.stdout).toMatch(
      /outbound\|80\|\|backend\.mesh-demo\.svc\.cluster\.local\.outlier_detection\.ejections_enforced_total: 1/,
    );
    expect(result.stdout).toMatch(/::health_flags::\/failed_outlier_check/);
    expect(result.stdout).toContain('backend-v2-0 returned: no host ejected');
    expect((await config()).stage).toBe('canary-10');
  }, 300_000);

  it('mtls-check.sh --target local: the certificate, a plaintext call refused, a wrong identity answered 403', async () => {
    const result = await runScript('mtls-check.sh', ['--target', 'local'], env);
    expect(result.stdout).toContain(
      'PASS: workload certificate for spiffe://cluster.local/ns/mesh-demo/sa/frontend',
    );
    expect(result.stdout).toContain('PASS: the plaintext call got no answer');
    expect(result.stdout).toContain('PASS: the AuthorizationPolicy refused the thumbnailer (403)');
    expect(result.code).toBe(0);
  }, 60_000);
});
