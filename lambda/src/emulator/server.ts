import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { createLogger, type Logger } from '@twin/observability/logger';
import type { TracingSettings } from '@twin/observability/settings';
import type { LogSink } from '../runtime/environment';
import { readBody } from '../runtime/runtime-api';
import { loadTemplate, TEMPLATE_PATH } from '../template/template';
import {
  ApiRouter,
  buildProxyEvent,
  type HttpResponse,
  MAX_REQUEST_BYTES,
  toHttpResponse,
} from './api-gateway';
import { handleAlias } from './alias-api';
import { InvokeApi, json, parseFunctionName } from './invoke-api';
import { ALIAS_PATH, FUNCTIONS_PATH, INVOKE_PATH, READY_PATH } from './paths';
import { LambdaService, type ServiceStats } from './lambda-service';
import { PlatformTracing } from './platform-tracing';
import type { FunctionVersions } from './versions';

export interface EmulatorOptions {
  /** Default 3000, as `sam local start-api`; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  templatePath?: string;
  logger?: Logger;
  /** Waits before the retries of an asynchronous (Event) invocation; default 1 s, then 2 s. */
  retryDelaysMs?: number[];
  /** First wait before retrying a throttled asynchronous invocation (ms; default 1000, as Lambda). */
  throttleRetryMs?: number;
  /** The account's concurrent executions (default DEFAULT_ACCOUNT_CONCURRENCY). */
  accountConcurrency?: number;
  /** How long an idle execution environment lives (ms; default DEFAULT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
  /** Receives the functions' log lines, START/END/REPORT included (default: stdout). */
  logs?: LogSink;
  /** Versions after version 1 and where the aliases point (readVersionsFile). */
  versions?: Record<string, FunctionVersions>;
  /**
   * OTEL_TRACES_EXPORTER and OTEL_PROPAGATORS as readTracingSettings reads them: unless the exporter
   * is `none`, the emulator records the platform's spans (API Gateway, each invocation, INIT) and
   * every environment loads the tracing layer. Default: no tracing.
   */
  tracing?: TracingSettings;
}

export interface Emulator {
  url: string;
  port: number;
  stats(): ServiceStats;
  close(): Promise<void>;
}

function send(res: ServerResponse, { statusCode, headers, body }: HttpResponse): void {
  res.writeHead(statusCode, { ...headers, 'content-length': body.length });
  res.end(body);
}

function sendJson(res: ServerResponse, statusCode: number, body: unknown, headers = {}): void {
  send(res, json(statusCode, body, headers));
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * One HTTP server standing in for API Gateway (the template's Api events, REST v1 proxy events) and
 * for the Lambda Invoke API, running every function of the template in execution environments of
 * their own (LambdaService). The bundles are built before it listens, so GET /__emulator/ready
 * answers 200 as soon as it answers at all; environments start on demand.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const logger = options.logger ?? createLogger('lambda-emulator');
  const template = loadTemplate(options.templatePath ?? TEMPLATE_PATH);
  const settings = options.tracing;
  const tracing =
    settings && settings.exporter !== 'none'
      ? new PlatformTracing(settings.exporter, settings.propagators)
      : undefined;
  const service = await LambdaService.start({
    template,
    accountConcurrency: options.accountConcurrency,
    idleTimeoutMs: options.idleTimeoutMs,
    logs: options.logs,
    logger,
    versions: options.versions,
    tracing,
  });
  const router = new ApiRouter(template.functions, template.api);
  const invokeApi = new InvokeApi({
    service,
    logger,
    retryDelaysMs: options.retryDelaysMs ?? [1000, 2000],
    throttleRetryMs: options.throttleRetryMs ?? 1000,
    tracing,
  });
  // A throttled function rejects API Gateway's invocation: API Gateway answers 500 "Internal server
  // error" unless the API's INTEGRATION_FAILURE gateway response says otherwise.
  const integrationFailure = template.api.gatewayResponses.INTEGRATION_FAILURE;

  /** API Gateway's answer to one request, and, with tracing, its span. */
  async function apiGateway(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const requestId = randomUUID();
    const span = tracing?.startApiRequest(tracing.extract(req.headers), {
      method,
      path: url.split('?')[0] ?? '/',
      host: req.headers.host,
      userAgent: req.headers['user-agent'],
      clientAddress: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    });
    const response = await apiGatewayResponse(req, body, requestId, span);
    if (span) tracing?.finishApiRequest(span, response.statusCode, requestId);
    send(res, { ...response, headers: { ...response.headers, 'x-amzn-RequestId': requestId } });
  }

  async function apiGatewayResponse(
    req: IncomingMessage,
    body: Buffer,
    requestId: string,
    span: Span | undefined,
  ): Promise<HttpResponse> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const match = router.match(method, url.split('?')[0] ?? '/');
    if (!match) {
      return json(
        403,
        { message: 'Missing Authentication Token' },
        { 'x-amzn-ErrorType': 'MissingAuthenticationTokenException' },
      );
    }
    if (span) tracing?.routeMatched(span, method, match.route.path);
    const event = buildProxyEvent(
      {
        method,
        url,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      },
      match,
      requestId,
    );
    const fn = match.spec.logicalId;
    // With an AutoPublishAlias, SAM points the API's integration at the alias.
    const invocation = await service.invoke(
      fn,
      Buffer.from(JSON.stringify(event)),
      match.spec.autoPublishAlias,
      span && { parent: trace.setSpan(ROOT_CONTEXT, span), trigger: { type: 'http' } },
    );
    if (invocation.status === 'throttled') {
      logger.warn({ function: fn, reason: invocation.reason, requestId }, 'throttled');
      return json(
        integrationFailure?.statusCode ?? 500,
        { message: 'Internal server error' },
        { ...integrationFailure?.headers },
      );
    }
    const result = invocation.status === 'ok' ? parseJson(invocation.payload) : undefined;
    const response =
      invocation.status === 'ok' ? toHttpResponse(result, req.headers.accept, template.api) : undefined;
    if (!response) {
      if (invocation.status === 'ok')
        logger.warn({ function: fn, requestId }, 'malformed Lambda proxy response');
      else logger.warn({ function: fn, error: parseJson(invocation.payload) }, 'function error');
      return json(502, { message: 'Internal server error' });
    }
    return response;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === READY_PATH) {
      sendJson(res, 200, { status: 'ready', functions: service.names });
      return;
    }
    if (req.method === 'GET' && path === FUNCTIONS_PATH) {
      sendJson(res, 200, service.stats());
      return;
    }
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (!body) {
      sendJson(res, 413, { message: 'Request Too Long' });
      return;
    }
    const invoke = INVOKE_PATH.exec(path);
    if (invoke && req.method === 'POST') {
      const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      send(res, await invokeApi.handle(invoke[1] as string, query, req.headers, body));
      return;
    }
    const alias = ALIAS_PATH.exec(path);
    if (alias) {
      const { name } = parseFunctionName(alias[1] as string);
      send(
        res,
        handleAlias(service, req.method ?? 'GET', name, decodeURIComponent(alias[2] as string), body),
      );
      return;
    }
    await apiGateway(req, res, body);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: Error) => {
      logger.error({ err, method: req.method, url: req.url }, 'emulator failed');
      if (!res.headersSent) sendJson(res, 500, { message: 'emulator failed' });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  logger.info(
    {
      port,
      url,
      functions: template.functions.map((fn) => ({
        name: fn.logicalId,
        routes: fn.routes.map((r) => `${r.method} ${r.path}`),
      })),
    },
    'listening',
  );

  return {
    url,
    port,
    stats: () => service.stats(),
    close: async () => {
      invokeApi.close();
      const closed = new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      );
      server.closeIdleConnections();
      // In-flight invocations end with their environments, and their requests get answered.
      await service.close();
      await closed;
      await tracing?.shutdown();
    },
  };
}
