import http from 'node:http';

export interface RawRequest {
  method: string;
  /** Path and query exactly as they go on the request line: no URL parser normalises them. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawAnswer {
  status: number;
  contentType: string | undefined;
  headers: http.IncomingHttpHeaders;
  /** Decoded as UTF-8. */
  body: string;
}

/**
 * One HTTP/1.1 request to `base` with exactly these bytes in its request line and body (fetch would
 * resolve `..`, re-encode escapes and pick the content type): what a hostile or careless client sends.
 */
export function sendRaw(base: string, { method, path, headers = {}, body }: RawRequest): Promise<RawAnswer> {
  const url = new URL(base);
  const bytes = body === undefined ? undefined : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: bytes ? { ...headers, 'content-length': bytes.length } : headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}
