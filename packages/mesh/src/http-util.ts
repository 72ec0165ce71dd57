// Small HTTP helpers the proxies share: reading a request body with a bound, the headers a proxy
// must not forward, and Envoy's local replies.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** Envoy's default per-connection buffer limit: a request body up to this size is kept for retries. */
export const RETRY_BUFFER_BYTES = 1024 * 1024;

/** Hop-by-hop headers (RFC 9110, 7.6.1), which a proxy consumes instead of forwarding. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The headers to forward: hop-by-hop ones and those the Connection header names dropped, arrays
 * joined. `Expect` is dropped too: Node's server has already answered `100 Continue` (it does unless
 * a 'checkContinue' listener says otherwise), as Envoy does by default (`proxy_100_continue` false:
 * it answers the client itself and strips the header upstream), and undici refuses to send it.
 */
export function forwardableHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase()),
  );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || name === 'expect') continue;
    out[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return out;
}

/** A request body: whole when it fits the retry buffer; otherwise a stream of it all (no retries possible). */
export type RequestBody = { buffer: Buffer; stream?: undefined } | { buffer?: undefined; stream: Readable };

/** Reads the body up to `limit` bytes; beyond that hands back a stream that replays what was read, then the rest. */
export function readRequestBody(req: IncomingMessage, limit = RETRY_BUFFER_BYTES): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        const replay = async function* () {
          yield* chunks;
          for await (const chunk of req) yield chunk as Buffer;
        };
        resolve({ stream: Readable.from(replay()) });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ buffer: Buffer.concat(chunks, size) });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** A reply the proxy makes itself (Envoy's "local reply"): text/plain, as Envoy sends it. */
export function localReply(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): number {
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': bytes.length, ...headers });
  res.end(bytes);
  return bytes.length;
}
