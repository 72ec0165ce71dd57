import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startFakeJaeger } from './support/fake-jaeger';
import { runScript } from './support/run-script';

// A Jaeger query API answer in the shape Jaeger returns for the mesh: the services' own spans
// (frontend, backend) interleaved with the Envoy sidecars' (frontend.mesh-demo, backend.mesh-demo,
// dynamodb-local.mesh-demo), plus a newer trace of GET /api/version that never reaches the database.
const MESH_ANSWER = JSON.parse(
  readFileSync(path.join(__dirname, 'fixtures', 'jaeger-mesh-traces.json'), 'utf8'),
) as { data: Array<{ traceID: string; spans: Array<{ spanID: string; processID: string }> }> };

describe('traces.sh against a stand-in Jaeger query API', () => {
  let jaeger: Awaited<ReturnType<typeof startFakeJaeger>>;
  beforeEach(async () => {
    jaeger = await startFakeJaeger();
  });
  afterEach(() => jaeger.close());

  it('follows the chain through the sidecars and prints the whole trace as a tree', async () => {
    jaeger.answerWith(MESH_ANSWER);
    const result = await runScript('traces.sh', ['-n', '0', '--wait', '0'], { JAEGER_URL: jaeger.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('trace 4bf92f3577b34da6a3ce929d0e0e4736 (10 spans)');
    const lines = result.stdout.split('\n').filter((line) => line.includes(' ms'));
    expect(lines.map((line) => line.trim())).toEqual([
      'frontend  GET /api/products  41.2 ms   <- frontend',
      '└─ frontend  request handler - /api/products  39.8 ms',
      '└─ frontend  GET  38.9 ms',
      '└─ frontend.mesh-demo  backend.mesh-demo.svc.cluster.local:80/*  38.1 ms',
      '└─ backend.mesh-demo  backend.mesh-demo.svc.cluster.local:80/*  36.2 ms',
      '└─ backend  GET /products  35.1 ms   <- backend',
      '└─ backend  request handler - /products  34.2 ms',
      '└─ backend  DynamoDB.Scan  31.9 ms   <- database',
      '└─ backend.mesh-demo  dynamodb-local.mesh-demo.svc.cluster.local:8000/*  30.1 ms',
      '└─ dynamodb-local.mesh-demo  dynamodb-local.mesh-demo.svc.cluster.local:8000/*  28.4 ms',
    ]);
    // Each level is indented one step further than its parent.
    const depths = lines.map((line) => line.search(/\S/));
    expect(depths).toEqual(depths.map((_, i) => i * 3));
  }, 30_000);

  it("counts only the traces its requests joined, as the frontend's traceresponse headers name them", async () => {
    const version = MESH_ANSWER.data[0]!;
    const chain = MESH_ANSWER.data[1]!;
    // Jaeger writes trace ids without their leading zeros; traceresponse always has all 32 digits.
    const answer = structuredClone(MESH_ANSWER);
    answer.data[1]!.traceID = chain.traceID.slice(1);
    jaeger.answerWith(answer);
    const run = async (traceId: string) => {
      const frontend = http.createServer((_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          traceresponse: `00-${traceId}-00f067aa0ba902b7-01`,
        });
        res.end('{"items":[]}');
      });
      frontend.listen(0, '127.0.0.1');
      await new Promise((resolve) => frontend.once('listening', resolve));
      try {
        return await runScript('traces.sh', ['-n', '2', '--wait', '0'], {
          JAEGER_URL: jaeger.url,
          BASE_URL: `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`,
        });
      } finally {
        frontend.close();
      }
    };

    const other = await run(version.traceID);
    expect(other.stdout).toContain('2 of 2 answered 2xx, 2 named their trace');
    expect(other.stdout).toContain('FAIL: none of the 2 traces the requests joined holds');
    expect(other.code).toBe(1);

    const own = await run(`0${chain.traceID.slice(1)}`);
    expect(own.stdout).toContain(`trace ${chain.traceID.slice(1)} (10 spans)`);
    expect(own.code).toBe(0);
  }, 30_000);

  it('fails with exit 1 when no trace holds the database call', async () => {
    const [version] = MESH_ANSWER.data;
    jaeger.answerWith({ ...MESH_ANSWER, data: [version] });
    const result = await runScript('traces.sh', ['-n', '0', '--wait', '2'], { JAEGER_URL: jaeger.url });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL: no trace of frontend yet holds frontend -> backend -> DynamoDB');
    expect(jaeger.queries.length).toBeGreaterThan(1);
  }, 30_000);

  it('fails with exit 1 when the chain is broken: the backend span is not under the frontend', async () => {
    const trace = structuredClone(MESH_ANSWER.data[1]) as { spans: Array<Record<string, unknown>> };
    // The sidecar dropped the trace context: the backend's sidecar span starts a new tree.
    const inbound = trace.spans.find((span) => span.spanID === 'b000000000000002');
    if (inbound) inbound.references = [];
    jaeger.answerWith({ ...MESH_ANSWER, data: [trace] });
    const result = await runScript('traces.sh', ['-n', '0', '--wait', '0'], { JAEGER_URL: jaeger.url });
    expect(result.code).toBe(1);
  }, 30_000);

  it('uses the service names given, e.g. the compose sidecar setup', async () => {
    jaeger.answerWith(MESH_ANSWER);
    const result = await runScript(
      'traces.sh',
      ['-n', '0', '--wait', '0', '--service', 'frontend', '--backend', 'orders'],
      {
        JAEGER_URL: jaeger.url,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('frontend -> orders -> DynamoDB');
  }, 30_000);

  it('fails with exit 1 when Jaeger does not answer', async () => {
    const result = await runScript('traces.sh', ['-n', '0', '--wait', '0'], {
      JAEGER_URL: 'http://127.0.0.1:9',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL: Jaeger at http://127.0.0.1:9 did not answer');
  }, 30_000);

  it('fails with exit 1 on an answer that is not Jaeger JSON', async () => {
    jaeger.answerWith('<html>not jaeger</html>');
    const result = await runScript('traces.sh', ['-n', '0', '--wait', '0'], { JAEGER_URL: jaeger.url });
    expect(result.code).toBe(1);
  }, 30_000);

  it.each([
    [['-n', 'x'], "-n: 'x' is not a whole number from 0 to 10000"],
    [['--service'], '--service needs a name'],
    [['--wait', '9999'], "--wait: '9999' is not a whole number from 0 to 600"],
    [['extra'], "unknown argument 'extra'"],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await runScript('traces.sh', args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });
});
