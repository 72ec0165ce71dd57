import diagnostics from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { DynamoDb, environmentCredentials, NEWEST_FIRST, ProductStore } from '@twin/products';
import { DynamoDbError } from '../src/dynamodb';
import { StoreUnavailableError } from '../src/errors';
import { newProduct } from '../src/product';
import { startTestDynamo, type TestDynamo } from '../../../tests/support/dynamo';

const credentials = async () => ({
  accessKeyId: 'AKIDTEST',
  secretAccessKey: 'secret',
  sessionToken: 'token',
});

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());

/** An HTTP server on a free loopback port answering each request with `answer(n)` (n counts from 0). */
async function standIn(
  answer: (n: number, request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ url: string; requests: IncomingMessage[]; close(): Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    requests.push(request);
    request.resume();
    request.on('end', () => answer(requests.length - 1, request, response));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function dynamoError(response: ServerResponse, status: number, type: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'REQ1' });
  response.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }));
}

describe('DynamoDb against dynalite', () => {
  it('runs an operation in DynamoDB JSON and reports DynamoDB errors by their code', async () => {
    const table = await dynamo.table();
    const db = new DynamoDb({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
    try {
      await db.call('PutItem', {
        TableName: table,
        Item: { id: { S: 'a' }, kind: { S: 'product' }, createdAt: { S: '2026-01-01T00:00:00.000Z' } },
      });
      await expect(db.call('GetItem', { TableName: table, Key: { id: { S: 'a' } } })).resolves.toEqual({
        Item: { id: { S: 'a' }, kind: { S: 'product' }, createdAt: { S: '2026-01-01T00:00:00.000Z' } },
      });
      const missing = db.call('GetItem', { TableName: 'no-such-table', Key: { id: { S: 'a' } } });
      await expect(missing).rejects.toBeInstanceOf(DynamoDbError);
      await expect(missing).rejects.toMatchObject({ name: 'ResourceNotFoundException', statusCode: 400 });
      await expect(db.call('GetItem', { TableName: table, Key: { id: { S: '' } } })).rejects.toMatchObject({
        name: 'ValidationException',
      });
    } finally {
      db.destroy();
    }
  });
});

describe('DynamoDb requests', () => {
  it('signs each request with SigV4 for dynamodb in its region and names the operation in X-Amz-Target', async () => {
    const server = await standIn((_n, _request, response) => response.end('{}'));
    const db = new DynamoDb({ endpoint: server.url, region: 'eu-west-3', credentials });
    try {
      await db.call('DescribeTable', { TableName: 't' });
      const { headers } = server.requests[0] as IncomingMessage;
      expect(headers['x-amz-target']).toBe('DynamoDB_20120810.DescribeTable');
      expect(headers['content-type']).toBe('application/x-amz-json-1.0');
      expect(headers['x-amz-security-token']).toBe('token');
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-3\/dynamodb\/aws4_request, SignedHeaders=\S*x-amz-target\S*, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      db.destroy();
      await server.close();
    }
  });

  it('retries throttling until an attempt succeeds, within maxAttempts', async () => {
    const server = await standIn((n, _request, response) =>
      n < 2
        ? dynamoError(response, 400, 'ProvisionedThroughputExceededException', 'slow down')
        : response.end('{"Count":0}'),
    );
    const db = new DynamoDb({ endpoint: server.url, region: 'us-east-1', credentials });
    try {
      await expect(db.call('Query', { TableName: 't' })).resolves.toEqual({ Count: 0 });
      expect(server.requests).toHaveLength(3);
    } finally {
      db.destroy();
      await server.close();
    }
  });

  it('gives up after maxAttempts, and never retries what the request itself got wrong', async () => {
    const throttled = await standIn((_n, _request, response) =>
      dynamoError(response, 400, 'ThrottlingException', 'rate exceeded'),
    );
    const refusing = await standIn((_n, _request, response) =>
      dynamoError(response, 400, 'ValidationException', 'bad key'),
    );
    const twice = new DynamoDb({ endpoint: throttled.url, region: 'us-east-1', credentials, maxAttempts: 2 });
    const db = new DynamoDb({ endpoint: refusing.url, region: 'us-east-1', credentials });
    try {
      await expect(twice.call('Query', { TableName: 't' })).rejects.toMatchObject({
        name: 'ThrottlingException',
        message: 'rate exceeded',
      });
      expect(throttled.requests).toHaveLength(2);
      await expect(db.call('Query', { TableName: 't' })).rejects.toMatchObject({
        name: 'ValidationException',
      });
      expect(refusing.requests).toHaveLength(1);
    } finally {
      twice.destroy();
      db.destroy();
      await throttled.close();
      await refusing.close();
    }
  });

  it('ends an attempt that gets no answer within requestTimeoutMs, and retries it', async () => {
    const server = await standIn(() => undefined);
    const db = new DynamoDb({
      endpoint: server.url,
      region: 'us-east-1',
      credentials,
      maxAttempts: 2,
      requestTimeoutMs: 200,
    });
    try {
      await expect(db.call('Query', { TableName: 't' })).rejects.toMatchObject({
        name: 'TimeoutError',
        message: 'no answer within 200 ms',
      });
      expect(server.requests).toHaveLength(2);
    } finally {
      db.destroy();
      await server.close();
    }
  });

  it("retries an answer that is not DynamoDB's (a proxy's error page), which the store reports as unavailable", async () => {
    const server = await standIn((_n, _request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html>Bad Gateway</html>');
    });
    const db = new DynamoDb({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 2 });
    try {
      await expect(db.call('Query', { TableName: 't' })).rejects.toMatchObject({
        name: 'UnreadableAnswer',
        statusCode: 502,
      });
      expect(server.requests).toHaveLength(2);
      await expect(new ProductStore(db, 't').get('a')).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      db.destroy();
      await server.close();
    }
  });

  it('reports a refused connection by its socket error code', async () => {
    const db = new DynamoDb({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    await expect(db.call('Query', { TableName: 't' })).rejects.toMatchObject({ name: 'ECONNREFUSED' });
  });
});

describe('DynamoDb configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL, else the regional one', () => {
    process.env.AWS_REGION = 'eu-west-1';
    process.env.AWS_ENDPOINT_URL = 'http://localhost:4566';
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://localhost:8000';
    const db = new DynamoDb({ credentials });
    expect(db.endpoint.href).toBe('http://localhost:8000/');
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    expect(db.endpoint.href).toBe('http://localhost:4566/');
    delete process.env.AWS_ENDPOINT_URL;
    expect(db.endpoint.href).toBe('https://dynamodb.eu-west-1.amazonaws.com/');
    expect(new DynamoDb({ credentials, region: 'cn-north-1' }).endpoint.href).toBe(
      'https://dynamodb.cn-north-1.amazonaws.com.cn/',
    );
  });

  it('needs a region', async () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    await expect(new DynamoDb({ credentials }).call('Query', {})).rejects.toThrow(
      'no region: set AWS_REGION',
    );
  });

  it("reads Lambda's credentials from the environment, and says when they are missing", async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKID';
    process.env.AWS_SECRET_ACCESS_KEY = 'SECRET';
    process.env.AWS_SESSION_TOKEN = 'TOKEN';
    await expect(environmentCredentials()).resolves.toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'SECRET',
      sessionToken: 'TOKEN',
    });
    delete process.env.AWS_SESSION_TOKEN;
    await expect(environmentCredentials()).resolves.toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'SECRET',
    });
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(environmentCredentials()).rejects.toThrow(
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set',
    );
  });
});

describe('DynamoDb spans', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it('traces each call as the AWS SDK instrumentation does, the HTTP request beneath it suppressed', async () => {
    const table = await dynamo.table();
    const store = new ProductStore(dynamo.db, table);
    const suppressed: boolean[] = [];
    const onRequest = () => suppressed.push(isTracingSuppressed(context.active()));
    diagnostics.subscribe('http.client.request.start', onRequest);
    try {
      await trace.getTracer('test').startActiveSpan('request', async (parent) => {
        await store.create(newProduct({ name: 'Lamp', price: 10 }));
        await store.list(5);
        parent.end();
      });
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onRequest);
    }
    expect(suppressed).toEqual([true, true]);
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((span) => span.name === 'request');
    const query = spans.find((span) => span.name === 'DynamoDB.Query');
    expect(spans.map((span) => span.name)).toEqual(['DynamoDB.PutItem', 'DynamoDB.Query', 'request']);
    expect(query?.kind).toBe(SpanKind.CLIENT);
    expect(query?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(query?.attributes).toEqual({
      'rpc.system': 'aws-api',
      'rpc.service': 'DynamoDB',
      'rpc.method': 'Query',
      'cloud.region': 'us-east-1',
      'db.system.name': 'dynamodb',
      'db.operation.name': 'Query',
      'db.namespace': table,
      'aws.dynamodb.table_names': [table],
      'aws.dynamodb.limit': 5,
      'aws.dynamodb.index_name': NEWEST_FIRST.indexName,
      'http.response.status_code': 200,
      'aws.request.id': expect.any(String),
    });
  });

  it('marks a failed call as an error with the exception recorded', async () => {
    await expect(
      dynamo.db.call('GetItem', { TableName: 'no-such-table', Key: { id: { S: 'a' } } }),
    ).rejects.toThrow();
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('DynamoDB.GetItem');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['http.response.status_code']).toBe(400);
    expect(span?.events.map((event) => event.name)).toEqual(['exception']);
  });
});
