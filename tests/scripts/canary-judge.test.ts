import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Stack } from '../../local/src';
import { startTestStack } from '../support/stack';
import { runCommand } from './support/run-script';

// The canary judge (`npm run canary`) against the local stack as npm start runs it: the mesh's
// backend pods v1 x2 and v2 x1 behind the local data plane, and the Lambda emulator with a products
// version 2 behind the alias live. A failing v2 is set up as a user would: BACKEND_V2_FAULT_ERROR_RATE
// for the mesh's v2 pods, FAULT_ERROR_RATE in version 2's environment for Lambda. The verdicts rest
// on what is deterministic here, injected errors; latency is judged with a 1 s margin, far above what
// a busy machine adds, so these tests do not depend on its speed.

const CLI = path.resolve(__dirname, '../../packages/canary/dist/cli.js');

function canary(args: string[], env: Record<string, string>) {
  return runCommand(process.execPath, [CLI, ...args, '--latency-margin', '1000ms'], env);
}

/** A versions file for the emulator: ProductsFunction version 2 (2.0.0) at 10%, with `variables`. */
function versionsFile(dir: string, variables: Record<string, string> = {}): string {
  const file = path.join(dir, 'versions.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      ProductsFunction: {
        Versions: { '2': { Environment: { Variables: { APP_VERSION: '2.0.0', ...variables } } } },
        Alias: { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } },
      },
    }),
  );
  return file;
}

async function startTwins(
  env: Record<string, string>,
): Promise<{ stack: Stack; env: Record<string, string> }> {
  const stack = await startTestStack({
    env,
    mesh: { stage: 'canary-10', replicas: { v1: 2, v2: 1 }, adminPort: 0 },
  });
  return {
    stack,
    env: {
      BASE_URL: stack.url('frontend'),
      MESH_ADMIN_URL: stack.mesh!.adminUrl,
      AWS_ENDPOINT_URL_LAMBDA: stack.url('lambda'),
    },
  };
}

const json = async (url: string) => (await (await fetch(url)).json()) as Record<string, unknown>;
const alias = (env: Record<string, string>) =>
  json(`${env.AWS_ENDPOINT_URL_LAMBDA}/2015-03-31/functions/ProductsFunction/aliases/live`);

describe('npm run canary: a healthy v2 is promoted to 100% on both twins', () => {
  let dir: string;
  let twins: Awaited<ReturnType<typeof startTwins>>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canary-judge-'));
    twins = await startTwins({ LAMBDA_VERSIONS_FILE: versionsFile(dir) });
  }, 180_000);

  afterAll(async () => {
    await twins?.stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--target local: judged at 10% and 50%, then the stage canary-100', async () => {
    const result = await canary(['--target', 'local'], twins.env);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('+ scripts/promote.sh --target local 10');
    expect(result.stdout).toMatch(
      /errors {3}baseline v1 \(1\.0\.0\) \d+\/\d+ .*, canary v2 \(2\.0\.0\) \d+\/\d+/,
    );
    expect(result.stdout).toMatch(
      /Mann-Whitney U test, one-sided \(canary slower\): U = [\d.]+, z = -?[\d.]+, p/,
    );
    expect(result.stdout).toContain('verdict  GO ON from stage 10');
    expect(result.stdout).toContain('verdict  GO ON from stage 50');
    expect(result.stdout).toContain('+ scripts/promote.sh --target local 100');
    expect(result.stdout).toContain('verdict: PROMOTED');
    expect(result.code).toBe(0);
    expect((await json(`${twins.env.MESH_ADMIN_URL}/config`)).stage).toBe('canary-100');
    expect(await json(`${twins.env.BASE_URL}/api/version`)).toEqual({ service: 'backend', version: '2.0.0' });
  }, 600_000);

  it('--target lambda: the alias shifted to 10% and 50%, then version 2 alone', async () => {
    const result = await canary(['--target', 'lambda'], twins.env);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(
      'canary: ProductsFunction version 2 against version 1 behind the alias live (the Lambda emulator at',
    );
    expect(result.stdout).toMatch(/errors {3}baseline version 1 \d+\/\d+ .*, canary version 2 \d+\/\d+/);
    expect(result.stdout).toContain('alias live: version 1 50%, version 2 50%');
    expect(result.stdout).toContain('verdict: PROMOTED');
    expect(result.code).toBe(0);
    expect(await alias(twins.env)).toMatchObject({
      FunctionVersion: '2',
      RoutingConfig: { AdditionalVersionWeights: {} },
    });
    expect(await json(`${twins.env.AWS_ENDPOINT_URL_LAMBDA}/Prod/version`)).toEqual({
      service: 'products',
      version: '2.0.0',
    });
  }, 600_000);
});

describe('npm run canary: a v2 failing half its requests is rolled back on both twins', () => {
  let dir: string;
  let twins: Awaited<ReturnType<typeof startTwins>>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canary-judge-'));
    // The sidecar retries a failed read twice on v2 (its one pod), so 80% per try is 51% per request.
    twins = await startTwins({
      BACKEND_V2_FAULT_ERROR_RATE: '0.8',
      LAMBDA_VERSIONS_FILE: versionsFile(dir, { FAULT_ERROR_RATE: '0.5' }),
    });
  }, 180_000);

  afterAll(async () => {
    await twins?.stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The error line of the stage: the canary's errors and requests. */
  const canaryErrors = (stdout: string, label: string) => {
    const m = new RegExp(`canary ${label} (\\d+)/(\\d+)`).exec(stdout);
    return m ? { errors: Number(m[1]), requests: Number(m[2]) } : undefined;
  };

  it('--target local: rolled back at 10% to canary-0, with the numbers', async () => {
    const result = await canary(['--target', 'local'], twins.env);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /errors {3}baseline v1 \(1\.0\.0\) \d+\/\d+ \([\d.]+%\), canary v2 \(2\.0\.0\) \d+\/\d+/,
    );
    const seen = canaryErrors(result.stdout, 'v2 \\(2\\.0\\.0\\)')!;
    expect(seen.requests).toBeGreaterThanOrEqual(50);
    expect(seen.errors).toBeGreaterThan(0);
    expect(result.stdout).toMatch(
      /Fisher's exact test, one-sided: the canary got \d+ of the \d+ errors, [\d.]+ expected/,
    );
    expect(result.stdout).toMatch(
      /effect: difference \+[\d.]+ points, 95% CI \+[\d.]+ to \+[\d.]+ \(Newcombe\)/,
    );
    expect(result.stdout).toContain(
      'verdict  ROLL BACK at stage 10: errors: the canary fails more often than the baseline',
    );
    expect(result.stdout).toContain('+ scripts/promote.sh --target local 0');
    expect(result.stdout).not.toContain('stage 50');
    expect(result.code).toBe(1);
    expect((await json(`${twins.env.MESH_ADMIN_URL}/config`)).stage).toBe('canary-0');
    for (let i = 0; i < 20; i++)
      expect(await json(`${twins.env.BASE_URL}/api/version`)).toEqual({
        service: 'backend',
        version: '1.0.0',
      });
  }, 600_000);

  it('--target lambda: rolled back at 10% to version 1 alone, with the numbers', async () => {
    const result = await canary(['--target', 'lambda'], twins.env);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/load {5}\d+ requests: \d+ x statusCode 200, \d+ x statusCode 503/);
    const seen = canaryErrors(result.stdout, 'version 2')!;
    expect(seen.requests).toBeGreaterThanOrEqual(50);
    expect(result.stdout).toMatch(/errors {3}baseline version 1 \d+\/\d+ \([\d.]+%\), canary version 2/);
    expect(result.stdout).toContain(
      'verdict  ROLL BACK at stage 10: errors: the canary fails more often than the baseline',
    );
    expect(result.stdout).toContain('alias live: version 1 takes all of the traffic again (rolled back)');
    expect(result.code).toBe(1);
    expect(await alias(twins.env)).toMatchObject({
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: {} },
    });
  }, 600_000);
});
