// The launcher's trace store over real sockets: OTLP/HTTP JSON in, Jaeger's query API out.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DEFAULT_LIMITS, startTraceServer, startTraceThread, type TraceServer } from '../src/traces';

const SERVER = 2;
const CLIENT = 3;

interface SpanInput {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startMs?: number;
  durationMs?: number;
  attributes?: Record<string, string | number | boolean>;
  status?: { code: number; message?: string };
  events?: unknown[];
  links?: unknown[];
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const NOW_MS = Date.now();
const HOUR_MS = 3600_000;
const nanos = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;

function attribute(key: string, value: string | number | boolean) {
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  if (typeof value === 'number') return { key, value: { intValue: String(value) } };
  return { key, value: { stringValue: value } };
}

function otlpSpan(span: SpanInput) {
  const start = span.startMs ?? NOW_MS;
  return {
    traceId: span.traceId ?? hex(16),
    spanId: span.spanId ?? hex(8),
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    name: span.name ?? 'GET /api/products',
    kind: span.kind ?? SERVER,
    startTimeUnixNano: nanos(start),
    endTimeUnixNano: nanos(start + (span.durationMs ?? 10)),
    attributes: Object.entries(span.attributes ?? {}).map(([key, value]) => attribute(key, value)),
    ...(span.status ? { status: span.status } : {}),
    ...(span.events ? { events: span.events } : {}),
    ...(span.links ? { links: span.links } : {}),
  };
}

/** One OTLP/JSON export of `spans` from `service`, as @opentelemetry/exporter-trace-otlp-http sends it. */
const otlpExport = (service: string, spans: SpanInput[]) => ({
  resourceSpans: [
    {
      resource: { attributes: [attribute('service.name', service), attribute('host.name', 'laptop')] },
      scopeSpans: [
        {
          scope: { name: '@opentelemetry/instrumentation-http', version: '0.2' },
          spans: spans.map(otlpSpan),
        },
      ],
    },
  ],
});

async function post(
  server: TraceServer | { url: string },
  body: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.isBuffer(body)
      ? new Uint8Array(body)
      : typeof body === 'string'
        ? body
        : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function get<T = { data: unknown; errors: unknown }>(server: { url: string }, path: string) {
  const response = await fetch(`${server.url}${path}`, { redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
}

interface JaegerTraceJson {
  traceID: string;
  spans: Array<{
    spanID: string;
    operationName: string;
    references: Array<{ refType: string; traceID: string; spanID: string }>;
    startTime: number;
    duration: number;
    tags: Array<{ key: string; type: string; value: unknown }>;
    logs: Array<{ timestamp: number; fields: Array<{ key: string; value: unknown }> }>;
    processID: string;
    warnings: string[] | null;
  }>;
  processes: Record<string, { serviceName: string; tags: Array<{ key: string; value: unknown }> }>;
  warnings: string[] | null;
}
type Search = { data: JaegerTraceJson[]; errors: unknown };

describe('the trace store: OTLP/HTTP JSON in, Jaeger query API out', () => {
  let server: TraceServer;
  const chain = hex(16);
  const other = hex(16);
  const ids = { front: hex(8), call: hex(8), back: hex(8), db: hex(8), event: hex(8) };

  beforeAll(async () => {
    server = await startTraceServer({ port: 0 });
    // A frontend -> backend -> DynamoDB chain as two services export it, and an older trace elsewhere.
    expect(
      (
        await post(
          server,
          otlpExport('frontend', [
            { traceId: other, name: 'GET /api/version', startMs: NOW_MS - 2 * HOUR_MS, durationMs: 2 },
          ]),
        )
      ).status,
    ).toBe(200);
    const front = await post(
      server,
      otlpExport('frontend', [
        {
          traceId: chain,
          spanId: ids.front,
          name: 'GET /api/products',
          durationMs: 40,
          attributes: { 'http.route': '/api/products', 'http.response.status_code': 200 },
        },
        {
          traceId: chain,
          spanId: ids.call,
          parentSpanId: ids.front,
          name: 'GET',
          kind: CLIENT,
          startMs: NOW_MS + 1,
          durationMs: 35,
        },
      ]),
    );
    expect(front).toEqual({ status: 200, body: {} });
    await post(
      server,
      otlpExport('backend', [
        {
          traceId: chain,
          spanId: ids.back,
          parentSpanId: ids.call,
          name: 'GET /products',
          startMs: NOW_MS + 2,
          durationMs: 30,
        },
        {
          traceId: chain,
          spanId: ids.db,
          parentSpanId: ids.back,
          name: 'DynamoDB.Scan',
          kind: CLIENT,
          startMs: NOW_MS + 3,
          durationMs: 20,
          attributes: { 'db.system': 'dynamodb', 'aws.dynamodb.table_names': 'products' },
          status: { code: 2, message: 'throttled' },
          events: [
            {
              timeUnixNano: nanos(NOW_MS + 4),
              name: 'exception',
              attributes: [attribute('exception.type', 'ThrottlingException')],
            },
          ],
          links: [{ traceId: other, spanId: ids.event, attributes: [attribute('link.reason', 'retry of')] }],
        },
      ]),
    );
  });
  afterAll(() => server.close());

  it('lists services and their operations, as /api/services and /api/services/{service}/operations do', async () => {
    expect((await get(server, '/api/services')).body).toEqual({
      data: ['backend', 'frontend'],
      total: 2,
      limit: 0,
      offset: 0,
      errors: null,
    });
    expect((await get(server, '/api/services/backend/operations')).body.data).toEqual([
      'DynamoDB.Scan',
      'GET /products',
    ]);
    expect((await get(server, '/api/operations?service=backend&spanKind=client')).body.data).toEqual([
      { name: 'DynamoDB.Scan', spanKind: 'client' },
    ]);
    expect((await get(server, '/api/v3/services')).body).toEqual({ services: ['backend', 'frontend'] });
  });

  it("answers one trace in Jaeger's JSON: references, microseconds, tags, logs, processes", async () => {
    const { status, body } = await get<Search>(server, `/api/traces/${chain}`);
    expect(status).toBe(200);
    const [trace] = body.data;
    expect(trace?.traceID).toBe(chain);
    expect(trace?.spans.map((s) => s.operationName)).toEqual([
      'GET /api/products',
      'GET',
      'GET /products',
      'DynamoDB.Scan',
    ]);
    const processes = Object.values(trace?.processes ?? {});
    expect(processes.map((p) => p.serviceName)).toEqual(['frontend', 'backend']);
    expect(processes[0]?.tags).toEqual([{ key: 'host.name', type: 'string', value: 'laptop' }]);
    const db = trace?.spans.find((s) => s.spanID === ids.db);
    expect(trace?.processes[db?.processID ?? '']?.serviceName).toBe('backend');
    expect(db?.references).toEqual([
      { refType: 'CHILD_OF', traceID: chain, spanID: ids.back },
      { refType: 'FOLLOWS_FROM', traceID: other, spanID: ids.event },
    ]);
    expect(db?.startTime).toBe((NOW_MS + 3) * 1000);
    expect(db?.duration).toBe(20_000);
    expect(db?.tags).toEqual(
      expect.arrayContaining([
        { key: 'otel.scope.name', type: 'string', value: '@opentelemetry/instrumentation-http' },
        { key: 'db.system', type: 'string', value: 'dynamodb' },
        { key: 'span.kind', type: 'string', value: 'client' },
        { key: 'otel.status_code', type: 'string', value: 'ERROR' },
        { key: 'error', type: 'bool', value: true },
        { key: 'otel.status_description', type: 'string', value: 'throttled' },
      ]),
    );
    expect(db?.logs).toEqual([
      {
        timestamp: (NOW_MS + 4) * 1000,
        fields: [
          { key: 'event', type: 'string', value: 'exception' },
          { key: 'exception.type', type: 'string', value: 'ThrottlingException' },
        ],
      },
    ]);
    const front = trace?.spans.find((s) => s.spanID === ids.front);
    expect(front?.references).toEqual([]);
    expect(front?.tags).toContainEqual({ key: 'http.response.status_code', type: 'int64', value: 200 });
    // Jaeger accepts ids in upper case and without leading zeros.
    expect((await get<Search>(server, `/api/traces/${chain.toUpperCase()}`)).body.data[0]?.traceID).toBe(
      chain,
    );
  });

  it.each([
    ['service=frontend', [chain, 'other']],
    ['service=backend', [chain]],
    ['service=frontend&operation=GET%20%2Fapi%2Fversion', ['other']],
    ['service=backend&tags=%7B%22db.system%22%3A%22dynamodb%22%7D', [chain]],
    ['service=backend&tag=exception.type:ThrottlingException', [chain]],
    ['service=backend&tag=error:true', [chain]],
    ['service=frontend&tag=error:true', []],
    ['service=frontend&tag=span.kind:client', [chain]],
    ['service=frontend&tag=resource.host.name:laptop', [chain, 'other']],
    ['service=frontend&minDuration=30ms', [chain]],
    ['service=frontend&maxDuration=5ms', ['other']],
    ['service=frontend&minDuration=1.5s', []],
    ['service=frontend&limit=1', [chain]],
    ['service=frontend&lookback=1h', [chain]],
    [`service=frontend&start=${(NOW_MS - 3 * HOUR_MS) * 1000}&end=${(NOW_MS - HOUR_MS) * 1000}`, ['other']],
    ['service=nobody', []],
  ])('searches GET /api/traces?%s as Jaeger does, newest first', async (query, expected) => {
    const { status, body } = await get<Search>(server, `/api/traces?${query}`);
    expect(status).toBe(200);
    expect(body.data.map((t) => (t.traceID === chain ? chain : 'other'))).toEqual(expected);
  });

  it('serves api_v3: traces as OTLP JSON, 404 when none match', async () => {
    const window = `query.start_time_min=${new Date(NOW_MS - 10_000).toISOString()}&query.start_time_max=${new Date(NOW_MS + 10_000).toISOString()}`;
    const found = await get<{
      result: {
        resourceSpans: Array<{
          scopeSpans: Array<{ spans: Array<{ traceId: string; startTimeUnixNano: string }> }>;
        }>;
      };
    }>(server, `/api/v3/traces?query.service_name=backend&${window}`);
    expect(found.status).toBe(200);
    const spans = found.body.result.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans).toHaveLength(4);
    expect(spans[0]?.startTimeUnixNano).toBe(nanos(NOW_MS));
    const one = await get(server, `/api/v3/traces/${chain}`);
    expect(one.status).toBe(200);
    expect((await get(server, `/api/v3/traces?query.service_name=nobody&${window}`)).body).toEqual({
      error: { httpCode: 404, message: 'No traces found' },
    });
    expect((await get(server, '/api/v3/operations?service=frontend&span_kind=client')).body).toEqual({
      operations: [{ name: 'GET', spanKind: 'client' }],
    });
  });

  it.each([
    ['/api/traces', 400, "parameter 'service' is required"],
    ['/api/traces?service=frontend&limit=0', 400, "'limit' must be from 1 to 1000"],
    ['/api/traces?service=frontend&start=yesterday', 400, "unable to parse param 'start'"],
    ['/api/traces?service=frontend&minDuration=1x', 400, "unable to parse param 'minDuration'"],
    [
      '/api/traces?service=frontend&minDuration=2s&maxDuration=1s',
      400,
      "'maxDuration' should be greater than 'minDuration'",
    ],
    ['/api/traces?service=frontend&tag=novalue', 400, "malformed 'tag' parameter"],
    ['/api/traces?service=frontend&tags=%5B1%5D', 400, "malformed 'tags' parameter"],
    ['/api/traces/not-a-trace-id', 400, "unable to parse param 'traceID'"],
    [`/api/traces/${'0'.repeat(31)}1`, 404, 'trace not found'],
    ['/api/operations', 400, "parameter 'service' is required"],
    ['/api/nothing', 404, 'no route for GET /api/nothing'],
  ])('answers GET %s with %i and a message naming the parameter', async (path, status, message) => {
    const answer = await get<{ data: unknown; errors: Array<{ code: number; msg: string }> }>(server, path);
    expect(answer.status).toBe(status);
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors[0]?.code).toBe(status);
    expect(answer.body.errors[0]?.msg).toContain(message);
  });

  it.each([
    ['not JSON', 'nope', 400, '(body)', 'is not JSON'],
    ['not an object', '[1]', 400, '(body)', 'must be an object'],
    ['resourceSpans not an array', '{"resourceSpans":{}}', 400, 'resourceSpans', 'must be an array'],
    [
      'a bad trace id',
      JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ ...otlpSpan({}), traceId: 'xyz' }] }] }] }),
      400,
      'resourceSpans[0].scopeSpans[0].spans[0].traceId',
      'must be 32 hex digits, not all zero',
    ],
    [
      'an all-zero span id',
      JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: [{ ...otlpSpan({}), spanId: '0'.repeat(16) }] }] }],
      }),
      400,
      'resourceSpans[0].scopeSpans[0].spans[0].spanId',
      'must be 16 hex digits, not all zero',
    ],
    [
      'a start time that is no number',
      JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: [{ ...otlpSpan({}), startTimeUnixNano: 'soon' }] }] }],
      }),
      400,
      'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano',
      'must be nanoseconds since the epoch, as a decimal string',
    ],
    [
      'a kind out of range',
      JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ ...otlpSpan({}), kind: 9 }] }] }] }),
      400,
      'resourceSpans[0].scopeSpans[0].spans[0].kind',
      'must be a SpanKind from 0 to 5',
    ],
    [
      'an attribute value that is no 64-bit integer',
      JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    ...otlpSpan({}),
                    attributes: [
                      { key: 'ok', value: { stringValue: 'x' } },
                      { key: 'n', value: { intValue: '1.5' } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
      400,
      'resourceSpans[0].scopeSpans[0].spans[0].attributes[1].value.intValue',
      'must be a 64-bit integer',
    ],
    [
      'an event attribute without a key',
      JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    ...otlpSpan({}),
                    events: [{ timeUnixNano: '1', name: 'e', attributes: [{ value: { boolValue: true } }] }],
                  },
                ],
              },
            ],
          },
        ],
      }),
      400,
      'resourceSpans[0].scopeSpans[0].spans[0].events[0].attributes[0].key',
      'must be a string',
    ],
    [
      'a resource attribute that is no object',
      JSON.stringify({ resourceSpans: [{ resource: { attributes: [7] }, scopeSpans: [] }] }),
      400,
      'resourceSpans[0].resource.attributes[0]',
      'must be an object',
    ],
    [
      'a link to an invalid trace id',
      JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [{ spans: [{ ...otlpSpan({}), links: [{ traceId: '1', spanId: '1'.repeat(16) }] }] }],
          },
        ],
      }),
      400,
      'resourceSpans[0].scopeSpans[0].spans[0].links[0].traceId',
      'must be 32 hex digits, not all zero',
    ],
  ])(
    'refuses an export with %s: 400 naming the field, nothing stored',
    async (_what, body, status, field, message) => {
      const before = server.stats().spans;
      const answer = await post(server, body);
      expect(answer.status).toBe(status);
      expect(answer.body.field).toBe(field);
      expect(answer.body.message).toContain(`${field}: ${message}`);
      expect(server.stats().spans).toBe(before);
    },
  );

  it('refuses other encodings with 415, saying what it takes; protobuf included', async () => {
    const proto = await post(server, Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
    expect(proto.status).toBe(415);
    expect(proto.body.message).toContain('OTEL_EXPORTER_OTLP_PROTOCOL=http/json');
    const text = await post(server, 'hello', { 'content-type': 'text/plain' });
    expect(text).toMatchObject({
      status: 415,
      body: { message: "content-type must be application/json (OTLP/HTTP JSON), not 'text/plain'" },
    });
    expect((await post(server, '{}', { 'content-encoding': 'br' })).status).toBe(415);
    expect((await fetch(`${server.url}/v1/traces`)).status).toBe(405);
  });

  it('takes gzip, and refuses bodies over the limit (413), before and after decompression', async () => {
    const traceId = hex(16);
    const zipped = gzipSync(JSON.stringify(otlpExport('gzipped', [{ traceId }])));
    expect((await post(server, zipped, { 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await get<Search>(server, `/api/traces/${traceId}`)).body.data[0]?.traceID).toBe(traceId);
    const huge = JSON.stringify({ resourceSpans: [], padding: 'x'.repeat(DEFAULT_LIMITS.maxBodyBytes) });
    expect(await post(server, huge)).toMatchObject({
      status: 413,
      body: { message: expect.stringContaining('over 4194304 bytes') },
    });
    // A small body that inflates beyond the limit: a zip bomb.
    const bomb = gzipSync(Buffer.alloc(DEFAULT_LIMITS.maxBodyBytes + 1, 0x20));
    expect((await post(server, bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
    expect((await post(server, Buffer.from('not gzip'), { 'content-encoding': 'gzip' })).status).toBe(400);
    // And the server still serves.
    expect((await get(server, '/api/services')).status).toBe(200);
  });

  it('sends a browser that opens Jaeger UI paths to the page that shows traces', async () => {
    const viewing = await startTraceServer({ port: 0, viewerUrl: () => 'http://127.0.0.1:8080' });
    try {
      for (const [path, target] of [
        ['/', 'http://127.0.0.1:8080/#traces'],
        ['/search', 'http://127.0.0.1:8080/#traces'],
        [`/trace/${chain.toUpperCase()}`, `http://127.0.0.1:8080/#trace/${chain}`],
      ] as const) {
        const answer = await get(viewing, path);
        expect([path, answer.status, answer.headers.get('location')]).toEqual([path, 302, target]);
      }
    } finally {
      await viewing.close();
    }
    expect((await get(server, '/')).status).toBe(404);
  });
});

describe("the trace store's limits", () => {
  it('keeps the most recent traces, drops spans past the per-trace limit and says so', async () => {
    const server = await startTraceServer({ port: 0, limits: { maxTraces: 3, maxSpansPerTrace: 2 } });
    try {
      const traces = [hex(16), hex(16), hex(16), hex(16)];
      for (const traceId of traces) await post(server, otlpExport('svc', [{ traceId }]));
      expect((await get(server, `/api/traces/${traces[0]}`)).status).toBe(404);
      expect(
        (await get<Search>(server, '/api/traces?service=svc&limit=3')).body.data.map((t) => t.traceID),
      ).toEqual(traces.slice(1).reverse());
      const full = traces[3] ?? '';
      const answer = await post(server, otlpExport('svc', [{ traceId: full }, { traceId: full }]));
      expect(answer).toEqual({
        status: 200,
        body: { partialSuccess: { rejectedSpans: '1', errorMessage: "over the store's limits" } },
      });
      const trace = (await get<Search>(server, `/api/traces/${full}`)).body.data[0];
      expect(trace?.spans).toHaveLength(2);
      expect(trace?.warnings).toEqual([
        "1 spans dropped by the store's limits (spans per trace or total size)",
      ]);
      expect(server.stats()).toMatchObject({ traces: 3, spans: 4, droppedSpans: 1, evictedTraces: 1 });
    } finally {
      await server.close();
    }
  });

  it('cuts long values and drops attributes past the limit, with a warning on the span', async () => {
    const server = await startTraceServer({ port: 0, limits: { maxValueLength: 10, maxAttributes: 2 } });
    try {
      const traceId = hex(16);
      await post(server, otlpExport('svc', [{ traceId, attributes: { a: 'x'.repeat(100), b: 1, c: true } }]));
      const [span] = (await get<Search>(server, `/api/traces/${traceId}`)).body.data[0]?.spans ?? [];
      expect(span?.tags.filter((t) => ['a', 'b', 'c'].includes(t.key))).toEqual([
        { key: 'a', type: 'string', value: 'xxxxxxxxxx' },
        { key: 'b', type: 'int64', value: 1 },
      ]);
      expect(span?.warnings).toEqual(["1 attributes dropped by the store's limit"]);
    } finally {
      await server.close();
    }
  });

  it('a flood of 50,000 spans keeps the store within its byte budget and its thread within its heap cap', async () => {
    // The launcher's own settings: 64 MiB of spans, in a thread whose heap V8 caps at 128 MiB.
    const thread = await startTraceThread({ port: 0 });
    expect(thread.heapCapMb).toBe(128);
    try {
      const resource = otlpExport('flood', []).resourceSpans[0]?.resource;
      for (let batch = 0; batch < 100; batch++) {
        // 500 spans in 10 traces of 50: a busy service's export, each span with a dozen attributes.
        const spans = Array.from({ length: 500 }, (_, i) =>
          otlpSpan({
            traceId: `${(batch + 1).toString(16).padStart(4, '0')}${(i % 10).toString(16).padStart(28, '0')}`,
            name: `GET /api/products/${i % 20}`,
            attributes: Object.fromEntries(
              Array.from({ length: 12 }, (_, a) => [`attribute.${a}`, `value ${a} ${hex(8)}`]),
            ),
            events: [{ timeUnixNano: nanos(NOW_MS), name: 'event', attributes: [attribute('k', hex(16))] }],
          }),
        );
        const answer = await post(thread, { resourceSpans: [{ resource, scopeSpans: [{ spans }] }] });
        expect(answer.status).toBe(200);
      }
      const stats = await thread.stats();
      expect(stats.bytes).toBeLessThanOrEqual(DEFAULT_LIMITS.maxBytes);
      // Full: the oldest traces made room for the newest ones.
      expect(stats.bytes).toBeGreaterThan(DEFAULT_LIMITS.maxBytes * 0.9);
      expect(stats.evictedTraces).toBeGreaterThan(0);
      expect(stats.droppedSpans).toBe(0);
      expect(stats.heapUsed).toBeLessThan(thread.heapCapMb * 2 ** 20);
      // The newest traces are the ones kept, and the query API still answers.
      const newest = await get<Search>(thread, '/api/traces?service=flood&limit=1');
      expect(newest.body.data[0]?.traceID.startsWith('0064')).toBe(true);
    } finally {
      await thread.close();
    }
  }, 180_000);
});
