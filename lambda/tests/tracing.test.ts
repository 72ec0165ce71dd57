import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { startTestDynamo, type TestDynamo } from '../../tests/support/dynamo';
import { type ReceivedSpan, startOtlpReceiver } from '../../tests/support/otlp-receiver';
import type { ServiceStats } from '../src/emulator/lambda-service';
import { LAMBDA_DIR, requireBuilt, waitFor } from './helpers';

// The emulator as the local stack starts it (node dist/emulator/main.js), its spans sent over OTLP to a
// receiver standing in for the trace store: the platform's spans (API Gateway, each invocation, a
// cold start's INIT) from the emulator, the function's own from the tracing layer in its environment.

const SERVER = 2;
const CLIENT = 3;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function';

interface RunningEmulator {
  url: string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

async function startEmulatorProcess(env: Record<string, string>): Promise<RunningEmulator> {
  const child = spawn(process.execPath, [requireBuilt('emulator/main.js')], {
    cwd: path.join(LAMBDA_DIR, '..'),
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', AWS_REGION: 'us-east-1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let url: string | undefined;
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === 'listening') url = entry.url;
  });
  await waitFor(() => url, 'the emulator to listen');
  return {
    url: url!,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The command lines of a function's environments: what each process loaded before the runtime. */
async function environmentCommandLines(url: string, name: string): Promise<string[]> {
  const stats = (await (await fetch(`${url}/__emulator/functions`)).json()) as ServiceStats;
  const fn = stats.functions.find((candidate) => candidate.name === name);
  return (fn?.versions ?? []).flatMap((version) =>
    version.instances.map((instance) => readFileSync(`/proc/${instance.pid}/cmdline`, 'utf8')),
  );
}

const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;

describe('Lambda emulator tracing, exported over OTLP', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let dynamo: TestDynamo;
  let emulator: RunningEmulator;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    dynamo = await startTestDynamo();
    emulator = await startEmulatorProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'lambda',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TABLE_NAME: await dynamo.table(),
    });
  }, 60_000);

  afterAll(async () => {
    await emulator?.stop();
    await dynamo?.close();
    await receiver?.close();
  });

  const inTrace = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
  const waitForSpan = (what: string, match: (span: ReceivedSpan) => boolean) =>
    receiver
      .waitFor((spans) => spans.find(match), 60_000)
      .catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      });

  it('records API Gateway and the invocation under the caller, a cold start with its INIT, then a warm one', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${emulator.url}/Prod/hello?name=Ada`, {
      headers: { traceparent: traceparent(traceId, '00f067aa0ba902b7') },
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-amzn-requestid');

    const invocation = await waitForSpan(
      'the hello invocation',
      (span) => span.traceId === traceId && span.service === 'HelloFunction' && span.kind === SERVER,
    );
    const init = await waitForSpan('its INIT phase', (span) => span.parentSpanId === invocation.spanId);
    const gateway = await waitForSpan(
      'the API Gateway request',
      (span) => span.traceId === traceId && span.service === 'api-gateway',
    );
    expect(gateway).toMatchObject({
      name: 'GET /hello',
      kind: SERVER,
      parentSpanId: '00f067aa0ba902b7',
      attributes: expect.objectContaining({
        'http.request.method': 'GET',
        'http.route': '/hello',
        'url.path': '/Prod/hello',
        'http.response.status_code': 200,
        'aws.request_id': requestId,
      }),
    });
    expect(invocation.parentSpanId).toBe(gateway.spanId);
    expect(invocation).toMatchObject({
      name: 'HelloFunction',
      attributes: expect.objectContaining({
        'faas.trigger': 'http',
        'faas.coldstart': true,
        'faas.invocation_id': expect.stringMatching(UUID),
        // The alias API Gateway invoked, and the version it resolved to.
        'aws.lambda.invoked_arn': `${ARN}:HelloFunction:live`,
        'cloud.resource_id': `${ARN}:HelloFunction:1`,
        'cloud.account.id': '123456789012',
        'faas.instance': expect.stringMatching(/^\d{4}\/\d\d\/\d\d\/\[1\][0-9a-f]{32}$/),
      }),
    });
    expect(init).toMatchObject({ name: 'Initialization', service: 'HelloFunction' });

    const warmTrace = 'a0000000000000000000000000000001';
    await fetch(`${emulator.url}/hello`, {
      headers: { traceparent: traceparent(warmTrace, '00f067aa0ba902b8') },
    });
    const warm = await waitForSpan(
      'the warm invocation',
      (span) => span.traceId === warmTrace && span.service === 'HelloFunction',
    );
    expect(warm.attributes['faas.coldstart']).toBe(false);
    expect(warm.attributes['faas.invocation_id']).not.toBe(invocation.attributes['faas.invocation_id']);
    expect(warm.attributes['faas.instance']).toBe(invocation.attributes['faas.instance']);
    // An INIT span would have ended before the invocation's, in the same batch or an earlier one.
    expect(inTrace(warmTrace).filter((span) => span.parentSpanId === warm.spanId)).toEqual([]);
  }, 90_000);

  it("nests the function's DynamoDB call, seen from inside its environment, under the invocation", async () => {
    const traceId = 'b0000000000000000000000000000002';
    const response = await fetch(`${emulator.url}/Prod/products?limit=1`, {
      headers: { traceparent: traceparent(traceId, '00f067aa0ba902b9') },
    });
    expect(response.status).toBe(200);
    const invocation = await waitForSpan(
      'the products invocation',
      (span) => span.traceId === traceId && span.service === 'ProductsFunction' && span.kind === SERVER,
    );
    const call = await waitForSpan(
      'the DynamoDB call',
      (span) => span.parentSpanId === invocation.spanId && span.kind === CLIENT,
    );
    expect(call).toMatchObject({
      service: 'ProductsFunction',
      name: 'DynamoDB.Query',
      attributes: expect.objectContaining({
        'rpc.system': 'aws-api',
        'rpc.service': 'DynamoDB',
        'rpc.method': 'Query',
        'db.system.name': 'dynamodb',
        'http.response.status_code': 200,
      }),
    });
    // The HTTP request beneath it is the call itself, not a span of its own.
    expect(receiver.spans.filter((span) => span.attributes['url.full'] === `${dynamo.endpoint}/`)).toEqual(
      [],
    );
    // The runtime's own Runtime API calls and the layer's exports are not the function's.
    expect(
      receiver.spans.filter((span) =>
        /\/2018-06-01\/runtime|\/v1\/traces/.test(String(span.attributes['url.full'])),
      ),
    ).toEqual([]);
  }, 90_000);

  it('marks an S3 event as a datasource trigger and a failed invocation as an error', async () => {
    const invoke = (payload: unknown) =>
      fetch(`${emulator.url}/2015-03-31/functions/ImageProcessorFunction:live/invocations`, {
        method: 'POST',
        body: JSON.stringify(payload),
      });
    const s3Event = {
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          eventTime: '2026-11-29T10:00:00.000Z',
          s3: { bucket: { name: 'images' }, object: { key: 'thumbnails/done.jpg' } },
        },
      ],
    };
    expect((await invoke(s3Event)).headers.get('x-amz-function-error')).toBeNull();
    const datasource = await waitForSpan(
      'the S3-triggered invocation',
      (span) => span.service === 'ImageProcessorFunction' && span.attributes['faas.trigger'] === 'datasource',
    );
    expect(datasource.attributes).toMatchObject({
      'faas.document.collection': 'images',
      'faas.document.name': 'thumbnails/done.jpg',
      'faas.document.operation': 'insert',
      'faas.document.time': '2026-11-29T10:00:00.000Z',
      'aws.lambda.invoked_arn': `${ARN}:ImageProcessorFunction:live`,
    });
    // An invocation with no trace context of its own starts a trace.
    expect(datasource.parentSpanId).toBeUndefined();

    expect((await invoke({ not: 'an S3 event' })).headers.get('x-amz-function-error')).toBe('Unhandled');
    const failed = await waitForSpan(
      'the failed invocation',
      (span) => span.service === 'ImageProcessorFunction' && span.attributes['faas.trigger'] === 'other',
    );
    expect(failed.attributes['error.type']).toEqual(expect.any(String));
  }, 90_000);

  it('loads the tracing layer into every environment', async () => {
    const lines = await environmentCommandLines(emulator.url, 'HelloFunction');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toContain('tracing-layer.js');
  });
});

describe('Lambda emulator with tracing off (OTEL_TRACES_EXPORTER=none)', () => {
  it('exports nothing, and its environments load no tracing code', async () => {
    const receiver = await startOtlpReceiver();
    const emulator = await startEmulatorProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_TRACES_EXPORTER: 'none',
    });
    try {
      const response = await fetch(`${emulator.url}/hello`, {
        headers: { traceparent: traceparent('c0000000000000000000000000000003', '00f067aa0ba902ba') },
      });
      expect(response.status).toBe(200);
      const lines = await environmentCommandLines(emulator.url, 'HelloFunction');
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain('tracing-layer');
    } finally {
      // A graceful stop sends whatever the emulator has batched: with tracing off, nothing.
      expect(await emulator.stop()).toBe(0);
      await receiver.close();
    }
    expect(receiver.spans).toEqual([]);
  }, 90_000);
});
