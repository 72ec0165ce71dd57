import http from 'node:http';
import https from 'node:https';
import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import aws4 from 'aws4';

/** AWS credentials, as a Lambda function gets them in its environment or a provider chain resolves them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where credentials come from; called before each request, so expiring credentials can refresh. */
export type CredentialsSource = () => Promise<AwsCredentials>;

export interface DynamoDbOptions {
  credentials: CredentialsSource;
  /** Default: AWS_REGION, else AWS_DEFAULT_REGION. */
  region?: string;
  /** Default: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else DynamoDB's regional endpoint. */
  endpoint?: string;
  /** Attempts per call, the first included (the AWS SDK's default, 3). */
  maxAttempts?: number;
  /** Time to establish a connection, ms. */
  connectionTimeoutMs?: number;
  /** Time for one attempt, from sending to the last byte of the answer, ms. */
  requestTimeoutMs?: number;
}

/**
 * A DynamoDB call that failed. `name` is DynamoDB's error code (`ValidationException`,
 * `ResourceNotFoundException`, `ConditionalCheckFailedException`...), taken from the `__type` of its
 * answer as the AWS SDK does, or `TimeoutError` / the socket's error code when no answer came.
 */
export class DynamoDbError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    /** DynamoDB's HTTP status; absent when no answer came. */
    readonly statusCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The credentials Lambda puts in every function's environment (AWS_ACCESS_KEY_ID, ...). */
export const environmentCredentials: CredentialsSource = async () => {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
    throw new DynamoDbError('CredentialsError', 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  }
  return {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
};

// The AWS SDK's standard retry mode: which failures are worth another attempt, and its backoff.
const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
]);
const TRANSIENT_SOCKET = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);
const BASE_DELAY_MS = 100;
const THROTTLING_BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;

function retryable(err: DynamoDbError): boolean {
  return (
    THROTTLING.has(err.name) ||
    TRANSIENT.has(err.name) ||
    TRANSIENT_SOCKET.has(err.name) ||
    (err.statusCode !== undefined && [500, 502, 503, 504].includes(err.statusCode))
  );
}

/** Full jitter over an exponential ceiling, as the SDK's standard retry strategy waits. */
function backoffMs(err: DynamoDbError, attempt: number): number {
  const base = THROTTLING.has(err.name) ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
  return Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** attempt);
}

/** A DynamoDB answer's status, headers and parsed JSON body. */
interface Answer {
  statusCode: number;
  requestId?: string;
  body: Record<string, unknown>;
}

/**
 * The span OpenTelemetry's AWS SDK instrumentation (@opentelemetry/instrumentation-aws-sdk 0.78) makes
 * for a DynamoDB command: named `DynamoDB.<Operation>`, kind CLIENT, with its RPC, database and
 * DynamoDB attributes.
 */
function spanAttributes(operation: string, input: Record<string, unknown>, region: string): Attributes {
  const attributes: Attributes = {
    'rpc.system': 'aws-api',
    'rpc.service': 'DynamoDB',
    'rpc.method': operation,
    'cloud.region': region,
    'db.system.name': 'dynamodb',
    'db.operation.name': operation,
  };
  const { TableName, Limit, ScanIndexForward, IndexName, ConsistentRead, ProjectionExpression } = input;
  if (typeof TableName === 'string') {
    attributes['db.namespace'] = TableName;
    attributes['aws.dynamodb.table_names'] = [TableName];
  }
  if (ConsistentRead) attributes['aws.dynamodb.consistent_read'] = true;
  if (operation === 'Query' || operation === 'Scan') {
    if (typeof Limit === 'number') attributes['aws.dynamodb.limit'] = Limit;
    if (typeof IndexName === 'string') attributes['aws.dynamodb.index_name'] = IndexName;
    if (typeof ProjectionExpression === 'string')
      attributes['aws.dynamodb.projection'] = ProjectionExpression;
  }
  if (operation === 'Query' && ScanIndexForward) attributes['aws.dynamodb.scan_forward'] = true;
  return attributes;
}

/**
 * DynamoDB's low-level API (the `awsJson1_0` protocol: one SigV4-signed POST per operation, named by
 * `X-Amz-Target`, JSON in and out), for a Lambda function whose cold start cannot afford the AWS SDK's
 * client: loading, configuring and first calling `@aws-sdk/client-dynamodb` costs several times what
 * this does. The lighter `@aws-lite/client` (0.24) cannot put a deadline on a request, which every
 * outbound call here must have. Signing is aws4's; connections are kept alive; each attempt has a connection and a request
 * deadline; failures the SDK's standard retry mode retries are retried the same way (at most
 * `maxAttempts` attempts). Each call is traced as the AWS SDK instrumentation traces a command, with the
 * HTTP request beneath it suppressed, as its `suppressInternalInstrumentation` does.
 */
export class DynamoDb {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };
  private readonly maxAttempts: number;
  private readonly connectionTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: DynamoDbOptions) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? 1000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 3000;
  }

  /** Resolved region; throws when none is configured, as the AWS SDK does. */
  get region(): string {
    const region = this.options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new DynamoDbError('ConfigurationError', 'no region: set AWS_REGION');
    return region;
  }

  /** Resolved endpoint URL. */
  get endpoint(): URL {
    const configured =
      this.options.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
    if (configured) return new URL(configured);
    const region = this.region;
    return new URL(`https://dynamodb.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`);
  }

  /**
   * Runs one DynamoDB operation (`Query`, `PutItem`, ...) with its input in DynamoDB's JSON (attribute
   * values typed, `{S: 'x'}`) and returns its output the same way.
   * @throws DynamoDbError when DynamoDB refuses or fails it, or no answer came in time.
   */
  async call<T = Record<string, unknown>>(operation: string, input: Record<string, unknown>): Promise<T> {
    const tracer = trace.getTracer('@twin/products');
    const region = this.region;
    return tracer.startActiveSpan(
      `DynamoDB.${operation}`,
      { kind: SpanKind.CLIENT, attributes: spanAttributes(operation, input, region) },
      async (span) => {
        try {
          const answer = await context.with(suppressTracing(context.active()), () =>
            this.withRetries(operation, JSON.stringify(input), region, span),
          );
          return answer.body as T;
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  /** Closes idle kept-alive connections. */
  destroy(): void {
    for (const agent of Object.values(this.agents)) agent.destroy();
  }

  private async withRetries(operation: string, body: string, region: string, span: Span): Promise<Answer> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const answer = await this.attempt(operation, body, region);
        span.setAttribute('http.response.status_code', answer.statusCode);
        if (answer.requestId) span.setAttribute('aws.request.id', answer.requestId);
        if (answer.statusCode >= 200 && answer.statusCode < 300) return answer;
        const type = String(answer.body.__type ?? 'HttpError');
        const message = answer.body.message ?? answer.body.Message ?? type;
        throw new DynamoDbError(type.slice(type.lastIndexOf('#') + 1), String(message), answer.statusCode);
      } catch (err) {
        const failure = err as DynamoDbError;
        if (attempt + 1 >= this.maxAttempts || !retryable(failure)) throw failure;
        await new Promise((resolve) => setTimeout(resolve, backoffMs(failure, attempt)));
      }
    }
  }

  private async attempt(operation: string, body: string, region: string): Promise<Answer> {
    const url = this.endpoint;
    const signed = aws4.sign(
      {
        protocol: url.protocol,
        host: url.host,
        hostname: url.hostname,
        port: url.port || undefined,
        path: url.pathname,
        method: 'POST',
        service: 'dynamodb',
        region,
        body,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
        },
      },
      await this.options.credentials(),
    );
    const transport = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? this.agents['https:'] : this.agents['http:'];
    return new Promise<Answer>((resolve, reject) => {
      const fail = (err: Error & { code?: string }) => {
        clearTimeout(deadline);
        reject(
          err instanceof DynamoDbError
            ? err
            : new DynamoDbError(err.code ?? err.name, err.message, undefined, { cause: err }),
        );
      };
      const request = transport.request({ ...signed, agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(deadline);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            // Not DynamoDB's answer (e.g. a proxy's error page): retried when it is a 5xx.
            fail(new DynamoDbError('UnreadableAnswer', 'the answer is not JSON', response.statusCode));
            return;
          }
          resolve({
            statusCode: response.statusCode ?? 0,
            requestId: response.headers['x-amzn-requestid'] as string | undefined,
            body: parsed,
          });
        });
      });
      const deadline = setTimeout(
        () =>
          request.destroy(new DynamoDbError('TimeoutError', `no answer within ${this.requestTimeoutMs} ms`)),
        this.requestTimeoutMs,
      );
      request.on('socket', (socket) => {
        if (!socket.connecting) return;
        const connecting = setTimeout(
          () =>
            request.destroy(
              new DynamoDbError('TimeoutError', `no connection within ${this.connectionTimeoutMs} ms`),
            ),
          this.connectionTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(connecting));
        socket.once('close', () => clearTimeout(connecting));
      });
      request.on('error', fail);
      request.end(body);
    });
  }
}
