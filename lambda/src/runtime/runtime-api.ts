import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Lambda's limit on a synchronous invocation's payload, request and response alike (bytes). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** An event handed to the runtime by `GET /runtime/invocation/next`. */
export interface NextInvocation {
  requestId: string;
  /** The event, as JSON bytes. */
  payload: Buffer;
  /** Epoch ms at which the invocation times out (Lambda-Runtime-Deadline-Ms). */
  deadlineMs: number;
  /** The ARN the caller invoked, with its qualifier (Lambda-Runtime-Invoked-Function-Arn). */
  invokedFunctionArn: string;
  /** X-Ray's trace header of the invocation (Lambda-Runtime-Trace-Id), when it is traced. */
  traceHeader?: string;
}

/** What the environment behind one Runtime API does with the runtime's calls. */
export interface RuntimeApiHandler {
  /** The runtime is ready for an event (the first call ends its INIT phase); resolves with one. */
  next(): Promise<NextInvocation>;
  /** The invocation's result; false when `requestId` is not the invocation in progress. */
  response(requestId: string, payload: Buffer): boolean;
  /** The invocation's error document; false when `requestId` is not the invocation in progress. */
  error(requestId: string, payload: Buffer): boolean;
  /** The runtime failed to initialize (its handler did not load). */
  initError(payload: Buffer): void;
}

export interface RuntimeApi {
  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  address: string;
  close(): void;
}

const RESPONSE = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;

function send(res: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Reads a request's whole body; past `limit` bytes the rest is read and dropped, and undefined returned. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(length <= limit ? Buffer.concat(chunks, length) : undefined));
    req.on('error', reject);
  });
}

/** The document Lambda returns for a response over the payload limit. */
const tooLarge = () =>
  Buffer.from(
    JSON.stringify({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
    }),
  );

/**
 * Lambda's Runtime API (2018-06-01) for one execution environment, on a loopback port of its own:
 * `GET /runtime/invocation/next`, `POST /runtime/invocation/{id}/response` and `.../error`, and
 * `POST /runtime/init/error`, answering as the API reference documents (202 accepted, 400 for a
 * request id that is not in progress, 413 for a response over 6 MB).
 */
export async function startRuntimeApi(handler: RuntimeApiHandler): Promise<RuntimeApi> {
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      const invocation = await handler.next();
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': invocation.payload.length,
        'lambda-runtime-aws-request-id': invocation.requestId,
        'lambda-runtime-deadline-ms': String(invocation.deadlineMs),
        'lambda-runtime-invoked-function-arn': invocation.invokedFunctionArn,
        ...(invocation.traceHeader ? { 'lambda-runtime-trace-id': invocation.traceHeader } : {}),
      });
      res.end(invocation.payload);
      return;
    }
    if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
      handler.initError((await readBody(req, MAX_PAYLOAD_BYTES)) ?? Buffer.alloc(0));
      send(res, 202, { status: 'OK' });
      return;
    }
    const result = req.method === 'POST' ? RESPONSE.exec(url) : null;
    if (!result) {
      send(res, 404, {
        errorType: 'InvalidRequest',
        errorMessage: `no such Runtime API call: ${req.method} ${url}`,
      });
      return;
    }
    const requestId = decodeURIComponent(result[1] as string);
    const body = await readBody(req, MAX_PAYLOAD_BYTES);
    const accepted =
      body === undefined
        ? handler.error(requestId, tooLarge())
        : result[2] === 'response'
          ? handler.response(requestId, body)
          : handler.error(requestId, body);
    if (!accepted) send(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    else if (body === undefined)
      send(res, 413, { errorType: 'RequestEntityTooLarge', errorMessage: 'Payload Too Large' });
    else send(res, 202, { status: 'OK' });
  }

  const server = createServer((req, res) => {
    route(req, res).catch(() => res.destroy());
  });
  // A runtime waits on `next` for as long as its environment is idle, on one kept-alive connection.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
