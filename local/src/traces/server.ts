// The launcher's trace server: an OTLP/HTTP receiver and Jaeger's query API over one TraceStore.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { type JaegerTrace, toJaegerTrace, toOtlpTraces } from './jaeger-json';
import { DEFAULT_LIMITS, type TraceStoreLimits } from './limits';
import { OtlpError, readOtlpJson } from './otlp';
import { parseSearch, parseSearchV3, parseTraceId, QueryError } from './query';
import { httpUrl } from '../ports';
import { type StoreStats, TraceStore } from './store';

export interface TraceServerOptions {
  /** 0 for any free port. */
  port: number;
  /** Default 127.0.0.1: the store is for this machine's services and browser. */
  host?: string;
  limits?: Partial<TraceStoreLimits>;
  /**
   * Where a browser that opens the server's root (or Jaeger UI paths /search, /trace/<id>) is sent:
   * a page that shows the traces. Read on each request, as the page may start after the server.
   */
  viewerUrl?: () => string | undefined;
}

export interface TraceServer {
  /** http://host:port, Jaeger's query API base and the OTLP/HTTP endpoint (POST /v1/traces). */
  url: string;
  store: TraceStore;
  stats(): StoreStats;
  close(): Promise<void>;
}

/** An answer with a status and a JSON body. */
class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Jaeger's HTTP API wraps everything in `{data, total, limit, offset, errors}`. */
const structured = (data: unknown, total = 0) => ({ data, total, limit: 0, offset: 0, errors: null });
const structuredError = (status: number, msg: string) =>
  new Reply(status, { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: status, msg }] });
/** api_v3's grpc-gateway error shape. */
const v3Error = (status: number, message: string) =>
  new Reply(status, { error: { httpCode: status, message } });
/** OTLP/HTTP answers errors with a google.rpc.Status (code 3 is INVALID_ARGUMENT); `field` says where. */
const otlpError = (status: number, message: string, field?: string) =>
  new Reply(status, { code: 3, message, ...(field ? { field } : {}) });

class BodyTooLarge extends Error {}

/** Bodies up to this many times the limit are read to their end (and dropped) before the 413. */
const DRAIN_FACTOR = 4;

/**
 * Reads a request body up to `max` bytes (after gzip); throws BodyTooLarge past it. A body over the
 * limit is still read, without keeping it, up to 4 times the limit, so that the client, still
 * sending, gets the 413 rather than a connection reset; a larger one is cut off at once.
 */
async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max * DRAIN_FACTOR) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max * DRAIN_FACTOR) throw new BodyTooLarge();
    if (size <= max) chunks.push(chunk);
  }
  if (size > max) throw new BodyTooLarge();
  const body = Buffer.concat(chunks);
  if ((req.headers['content-encoding'] ?? 'identity') !== 'gzip') return body;
  try {
    return zlib.gunzipSync(body, { maxOutputLength: max });
  } catch (error) {
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new BodyTooLarge();
    throw new OtlpError('(body)', 'is not valid gzip');
  }
}

/**
 * Starts the trace server: OTLP/HTTP JSON exports in on POST /v1/traces (what
 * `@opentelemetry/exporter-trace-otlp-http` sends), Jaeger's query API out on /api/* (the JSON of
 * Jaeger v2's HTTP API: services, operations, trace search, one trace) and its api_v3 HTTP gateway
 * on /api/v3/*. An emulation of a Jaeger all-in-one with in-memory storage, for learning and tests
 * with nothing but Node.js: Jaeger itself is the engine in compose and in the cluster. Bad input of
 * any kind gets a 4xx with a JSON body; nothing a client sends stops the server.
 */
export async function startTraceServer(options: TraceServerOptions): Promise<TraceServer> {
  const limits: TraceStoreLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const store = new TraceStore(limits);

  const receive = async (req: http.IncomingMessage): Promise<Reply> => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const encoding = req.headers['content-encoding'] ?? 'identity';
    if (type === 'application/x-protobuf')
      return otlpError(
        415,
        'OTLP/HTTP protobuf is not supported by this local receiver: send OTLP/HTTP JSON ' +
          '(content-type: application/json; OTEL_EXPORTER_OTLP_PROTOCOL=http/json)',
      );
    if (type !== 'application/json')
      return otlpError(
        415,
        `content-type must be application/json (OTLP/HTTP JSON), not '${type || 'none'}'`,
      );
    if (encoding !== 'identity' && encoding !== 'gzip')
      return otlpError(415, `content-encoding must be gzip or none, not '${encoding}'`);
    let json: unknown;
    try {
      const body = await readBody(req, limits.maxBodyBytes);
      json = JSON.parse(body.toString('utf8'));
    } catch (error) {
      if (error instanceof BodyTooLarge)
        return otlpError(413, `the body is over ${limits.maxBodyBytes} bytes: export smaller batches`);
      if (error instanceof OtlpError) return otlpError(400, error.message, error.field);
      return otlpError(400, `(body): is not JSON (${(error as Error).message})`, '(body)');
    }
    const spans = readOtlpJson(json, limits);
    const before = store.stats().droppedSpans;
    store.add(spans);
    const refused = store.stats().droppedSpans - before;
    // OTLP's partial success: the export is taken, and the client is told what was not kept.
    return new Reply(
      200,
      refused
        ? { partialSuccess: { rejectedSpans: String(refused), errorMessage: "over the store's limits" } }
        : {},
    );
  };

  const oneTrace = (id: string, param: string): JaegerTrace | undefined => {
    const trace = store.get(parseTraceId(id, param));
    return trace && toJaegerTrace(trace);
  };

  const queryV1 = (path: string, params: URLSearchParams): Reply | undefined => {
    if (path === '/api/services') {
      const services = store.services();
      return new Reply(200, structured(services, services.length));
    }
    if (path === '/api/operations') {
      const service = params.get('service');
      if (!service) throw new QueryError('service', "parameter 'service' is required");
      const operations = store.operations(service, params.get('spanKind') ?? undefined);
      return new Reply(200, structured(operations, operations.length));
    }
    const operationsOf = /^\/api\/services\/([^/]+)\/operations$/.exec(path);
    if (operationsOf) {
      const names = [
        ...new Set(store.operations(decodeURIComponent(operationsOf[1] ?? '')).map((o) => o.name)),
      ];
      return new Reply(200, structured(names, names.length));
    }
    if (path === '/api/traces') {
      const ids = params.getAll('traceID');
      if (ids.length) {
        const found = ids.map((id) => ({ id, trace: oneTrace(id, 'traceID') }));
        return new Reply(200, {
          ...structured(found.flatMap((f) => (f.trace ? [f.trace] : []))),
          errors: found.some((f) => !f.trace)
            ? found.filter((f) => !f.trace).map((f) => ({ msg: 'trace not found', traceID: f.id }))
            : null,
        });
      }
      const query = parseSearch(params, Date.now() * 1000, limits.maxTraces);
      return new Reply(200, structured(store.find(query).map(toJaegerTrace)));
    }
    const traceOf = /^\/api\/traces\/([^/]+)$/.exec(path);
    if (traceOf) {
      const trace = oneTrace(decodeURIComponent(traceOf[1] ?? ''), 'traceID');
      return trace ? new Reply(200, structured([trace])) : structuredError(404, 'trace not found');
    }
    return undefined;
  };

  const queryV3 = (path: string, params: URLSearchParams): Reply | undefined => {
    if (path === '/api/v3/services') return new Reply(200, { services: store.services() });
    if (path === '/api/v3/operations') {
      const service = params.get('service');
      if (!service) throw new QueryError('service', "parameter 'service' is required");
      const operations = store.operations(service, params.get('span_kind') || undefined);
      // api_v3 names an unspecified kind "internal", as Jaeger does.
      return new Reply(200, {
        operations: operations.map((o) => ({ name: o.name, spanKind: o.spanKind || 'internal' })),
      });
    }
    const traceOf = /^\/api\/v3\/traces\/([^/]+)$/.exec(path);
    const traces = traceOf
      ? [store.get(parseTraceId(decodeURIComponent(traceOf[1] ?? ''), 'trace_id'))].filter(
          (t) => t !== undefined,
        )
      : path === '/api/v3/traces'
        ? store.find(parseSearchV3(params, limits.maxTraces))
        : undefined;
    if (!traces) return undefined;
    if (!traces.length) return v3Error(404, traceOf ? 'trace not found' : 'No traces found');
    return new Reply(200, { result: toOtlpTraces(traces) });
  };

  /** Jaeger UI's own paths lead to the page that shows traces, when there is one. */
  const viewer = (path: string): Reply | undefined => {
    const base = options.viewerUrl?.();
    if (!base) return undefined;
    const trace = /^\/trace\/([0-9a-fA-F]{1,32})$/.exec(path);
    const target = trace
      ? `#trace/${trace[1]?.toLowerCase()}`
      : path === '/' || path === '/search'
        ? '#traces'
        : undefined;
    return target
      ? new Reply(302, { location: `${base}/${target}` }, { location: `${base}/${target}` })
      : undefined;
  };

  const handle = async (req: http.IncomingMessage): Promise<Reply> => {
    const url = new URL(req.url ?? '/', 'http://trace-server');
    const path = url.pathname;
    if (path === '/v1/traces') {
      if (req.method !== 'POST') return new Reply(405, { code: 12, message: 'use POST' }, { allow: 'POST' });
      return receive(req);
    }
    if (req.method !== 'GET') {
      const known = path.startsWith('/api/');
      return new Reply(
        known ? 405 : 404,
        { error: `no route for ${req.method} ${path}` },
        known ? { allow: 'GET' } : {},
      );
    }
    const isV3 = path.startsWith('/api/v3/');
    try {
      const reply = isV3 ? queryV3(path, url.searchParams) : queryV1(path, url.searchParams);
      if (reply) return reply;
    } catch (error) {
      if (error instanceof QueryError)
        return isV3 ? v3Error(400, error.message) : structuredError(400, error.message);
      if (error instanceof URIError) return structuredError(400, `malformed path: ${path}`);
      throw error;
    }
    return viewer(path) ?? structuredError(404, `no route for GET ${path}`);
  };

  const server = http.createServer((req, res) => {
    handle(req)
      .catch((error: unknown) =>
        error instanceof OtlpError
          ? otlpError(400, error.message, error.field)
          : otlpError(500, `the trace server failed: ${(error as Error).message}`),
      )
      .then((reply) => {
        const body = JSON.stringify(reply.body);
        // A refused body may still be arriving: it is read and discarded, and the connection closed.
        const close = !req.complete;
        res.writeHead(reply.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(close ? { connection: 'close' } : {}),
          ...reply.headers,
        });
        res.end(body);
        if (close) req.resume();
      })
      .catch(() => res.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: httpUrl(host, port),
    store,
    stats: () => store.stats(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
