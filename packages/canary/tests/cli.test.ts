import path from 'node:path';
import { runCommand } from '../../../tests/scripts/support/run-script';
import { parseSubsetCounters } from '../src/mesh-target';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');

/** `npm run canary -- ...` without npm: the built CLI as a child process. */
const canary = (args: string[], env: Record<string, string> = {}) =>
  runCommand(process.execPath, [CLI, ...args], env);

describe('npm run canary: usage', () => {
  it.each([
    [[], '--target: which twin? local, compose, k8s, lambda, aws'],
    [['--target', 'nomad'], "--target: 'nomad' is not one of local, compose, k8s, lambda, aws"],
    [['--target', 'local', '--alpha', '2'], "--alpha: '2' is not a number between 0 and 1"],
    [
      ['--target', 'local', '--min-requests', '5'],
      "--min-requests: '5' is not a whole number of at least 20",
    ],
    [
      ['--target', 'local', '--latency-margin', 'fast'],
      "--latency-margin: 'fast' is not a share such as 25%",
    ],
    [['--target', 'local', '--canary-version', '2'], '--canary-version is for --target lambda or aws'],
    [
      ['--target', 'lambda', '--canary-version', 'v2'],
      "--canary-version: 'v2' is not a published version number",
    ],
    [['--target', 'local', '--versions', '1.0.0'], "--versions: '1.0.0' is not two versions"],
    [['--target', 'local', '--force'], "Unknown option '--force'"],
  ])('refuses %j with exit 2 and a message naming the option', async (args, message) => {
    const result = await canary(args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });

  it('says what it does, the tests, the minimum sample and why, and its exit codes', async () => {
    const result = await canary(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Fisher's exact test, one-sided");
    expect(result.stdout).toContain('Mann-Whitney U test, one-sided');
    // The help's line breaks do not matter, its words do.
    expect(result.stdout.replace(/\s+/g, ' ')).toContain(
      'a verdict, at least 20 (default 50: with none failing, 50 requests bound an error rate below 5.8% at 95% confidence',
    );
    expect(result.stdout).toContain('Exit status: 0 promoted; 1 rolled back; 2 bad usage; 3 no verdict');
  });

  it('says which command failed when the twin is not there (exit 4)', async () => {
    const result = await canary(['--target', 'local'], { MESH_ADMIN_URL: 'http://127.0.0.1:9' });
    expect(result.stderr).toMatch(/promote\.sh|local data plane did not answer at http:\/\/127\.0\.0\.1:9/);
    expect(result.code).toBe(4);
  }, 30_000);
});

describe('npm run canary --dry-run: what each target would run', () => {
  it('k8s: the stages through promote.sh, the counters from the frontend sidecar', async () => {
    const result = await canary(['--target', 'k8s', '--dry-run'], { KUBECTL: 'kubectl --context kind-mesh' });
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      "canary (dry run: nothing is sent, nothing changes): backend v2 (2.0.0) against v1 (1.0.0) behind the backend's VirtualService (Istio)",
      'load: GET http://localhost:8080/api/version, 4 at a time',
      "counts: kubectl --context kind-mesh exec -n mesh-demo deploy/frontend -c istio-proxy -- pilot-agent request GET 'stats?filter=outbound.80.v[12].backend.*upstream_rq_'",
      'stage 10: scripts/promote.sh --target k8s 10',
      '  then requests in rounds of 50 until each version has served 50 (at most 3000), and judge',
      'stage 50: scripts/promote.sh --target k8s 50',
      '  then requests in rounds of 50 until each version has served 50 (at most 3000), and judge',
      'stage 100: scripts/promote.sh --target k8s 100',
      'on a rollback: scripts/promote.sh --target k8s 0',
      '',
    ]);
  });

  it('compose: the counters through the sidecar admin script', async () => {
    const result = await canary(['--target', 'compose', '--dry-run']);
    expect(result.stdout).toContain(
      "counts: docker compose exec -T frontend-envoy bash /etc/envoy/admin.sh 'stats?filter=outbound.80.v[12].backend.*upstream_rq_'",
    );
    expect(result.stdout).toContain('on a rollback: scripts/promote.sh --target compose 0');
  });

  it('aws: invocations of the alias and update-alias with the routing config, through the AWS CLI', async () => {
    const result = await canary([
      '--target',
      'aws',
      '--dry-run',
      '--function',
      'serverless-vs-mesh-ProductsFunction-Ab12',
      '--baseline-version',
      '7',
      '--canary-version',
      '8',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      'canary (dry run: nothing is sent, nothing changes): serverless-vs-mesh-ProductsFunction-Ab12 version 8 against version 7 behind the alias live (AWS Lambda)',
    );
    expect(lines[1]).toMatch(
      /^load: aws lambda invoke --function-name serverless-vs-mesh-ProductsFunction-Ab12 --qualifier live --cli-binary-format raw-in-base64-out --payload fileb:\/\/\S+\/lambda\/events\/version\.json '<answer file>' with /,
    );
    expect(lines).toContain(
      `stage 10: aws lambda update-alias --function-name serverless-vs-mesh-ProductsFunction-Ab12 --name live --function-version 7 --routing-config '{"AdditionalVersionWeights":{"8":0.1}}'`,
    );
    expect(lines).toContain(
      `stage 100: aws lambda update-alias --function-name serverless-vs-mesh-ProductsFunction-Ab12 --name live --function-version 8 --routing-config '{"AdditionalVersionWeights":{}}'`,
    );
    expect(lines).toContain(
      `on a rollback: aws lambda update-alias --function-name serverless-vs-mesh-ProductsFunction-Ab12 --name live --function-version 7 --routing-config '{"AdditionalVersionWeights":{}}'`,
    );
  });
});

describe("the frontend sidecar's counters", () => {
  it("reads each subset's requests and 5xx from Envoy's text stats", () => {
    const text = [
      'cluster.outbound|80|v1|backend.mesh-demo.svc.cluster.local.upstream_rq_total: 412',
      'cluster.outbound|80|v1|backend.mesh-demo.svc.cluster.local.upstream_rq_5xx: 1',
      'cluster.outbound|80|v1|backend.mesh-demo.svc.cluster.local.upstream_rq_503: 1',
      'cluster.outbound|80|v2|backend.mesh-demo.svc.cluster.local.upstream_rq_total: 51',
      'cluster.outbound|80|v2|backend.mesh-demo.svc.cluster.local.upstream_rq_retry: 9',
      'cluster.outbound|80||backend.mesh-demo.svc.cluster.local.upstream_rq_total: 3',
    ].join('\n');
    expect(parseSubsetCounters(text)).toEqual({
      v1: { total: 412, errors: 1 },
      v2: { total: 51, errors: 0 },
    });
  });
});
