import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runScript } from './support/run-script';

/**
 * A stand-in frontend, named as such, whose /api/version answers follow a fixed pattern: out of
 * every 100 requests, the first `v1` get 1.0.0, the rest 2.0.0, and every `failEvery`-th gets a 502.
 * Known counts make the script's statistics checkable to the digit.
 */
async function patternServer(v1: number, failEvery = 0) {
  let served = 0;
  const server = http.createServer((req, res) => {
    served += 1;
    if (req.url !== '/api/version') {
      res.writeHead(404).end();
    } else if (failEvery && served % failEvery === 0) {
      res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"backend failed"}');
    } else {
      const version = (served - 1) % 100 < v1 ? '1.0.0' : '2.0.0';
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ service: 'backend', version }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    env: { BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('canary.sh statistics (against a stand-in frontend with known counts)', () => {
  it('accepts 85/15 as a 90/10 split: chi-square 2.778, p = 0.0956 with 1 degree of freedom', async () => {
    const server = await patternServer(85);
    try {
      const result = await runScript('canary.sh', ['--expect', '90/10'], server.env);
      expect(result.stdout).toMatch(/1\.0\.0\s+85\s+85\.0%\s+90\.0%/);
      expect(result.stdout).toMatch(/2\.0\.0\s+15\s+15\.0%\s+10\.0%/);
      expect(result.stdout).toContain(
        'PASS: the split fits 90/10 (chi-square = 2.778, df = 1, p = 0.09558 >= alpha 0.01)',
      );
      expect(result.code).toBe(0);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('rejects the same counts at a stricter --alpha 0.1, and as 50/50', async () => {
    const server = await patternServer(85);
    try {
      const strict = await runScript('canary.sh', ['--expect', '90/10', '--alpha', '0.1'], server.env);
      expect(strict.stdout).toContain('p = 0.09558 < alpha 0.1');
      expect(strict.code).toBe(1);
      const half = await runScript('canary.sh', ['--expect', '50/50'], server.env);
      expect(half.stdout).toContain('chi-square = 49.000, df = 1, p = 2.56e-12 < alpha 0.01');
      expect(half.code).toBe(1);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('takes three weights with three versions (two degrees of freedom)', async () => {
    const server = await patternServer(85);
    try {
      const result = await runScript(
        'canary.sh',
        ['--expect', '80/15/5', '--versions', '1.0.0,2.0.0,3.0.0'],
        server.env,
      );
      expect(result.stdout).toContain('chi-square = 5.312, df = 2, p = 0.07021');
      expect(result.code).toBe(0);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('counts failed requests apart and fails beyond --max-errors', async () => {
    const server = await patternServer(90, 10);
    try {
      const strict = await runScript('canary.sh', ['-n', '50'], server.env);
      expect(strict.stdout).toMatch(/errors\s+5\n\s+5 HTTP 502/);
      expect(strict.stdout).toContain('FAIL: 5 of 50 requests failed (at most 0 allowed)');
      expect(strict.code).toBe(1);
    } finally {
      await server.close();
    }
    const allV1 = await patternServer(100, 10);
    try {
      const tolerant = await runScript(
        'canary.sh',
        ['-n', '50', '--max-errors', '5', '--expect', '100/0'],
        allV1.env,
      );
      expect(tolerant.stdout).toContain('PASS');
      expect(tolerant.code).toBe(0);
    } finally {
      await allV1.close();
    }
  }, 60_000);

  it('says so when nothing answers', async () => {
    const result = await runScript('canary.sh', ['-n', '2', '--timeout', '1'], {
      BASE_URL: 'http://127.0.0.1:9',
    });
    expect(result.stdout).toContain('FAIL: 2 of 2 requests failed');
    expect(result.stdout).toContain('no answer: curl:');
    expect(result.code).toBe(1);
  }, 30_000);

  it.each([
    [['--expect', '90/abc'], "--expect: 'abc' is not a whole number"],
    [['--expect', '0/0'], '--expect: the weights add up to 0'],
    [['--expect', '90/10/0'], '--expect has 3 weights but --versions names 2 versions'],
    [['-n', '0'], "--requests: '0' is not a whole number from 1 to 100000"],
    [['--alpha', '1.5'], "--alpha: '1.5' is not a number between 0 and 1"],
    [['--expect'], '--expect needs a value'],
    [['--bogus'], "unknown argument '--bogus'"],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await runScript('canary.sh', args, { BASE_URL: 'http://127.0.0.1:9' });
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });
});
