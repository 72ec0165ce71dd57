import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { callUpstream, HttpError } from '@twin/service-kit';

async function server(handler: http.RequestListener) {
  const s = http.createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, server: s };
}

async function failure(run: () => Promise<unknown>): Promise<HttpError> {
  try {
    await run();
  } catch (err) {
    return err as HttpError;
  }
  throw new Error('expected a failure');
}

describe('callUpstream', () => {
  it('returns status, content type and body', async () => {
    const { url, server: s } = await server((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.statusCode = 418;
      res.end('{"teapot":true}');
    });
    expect(await callUpstream('tea', url, { timeoutMs: 1000 })).toEqual({
      status: 418,
      contentType: 'application/json',
      body: '{"teapot":true}',
    });
    s.close();
  });

  it('turns a refused connection into 503', async () => {
    const { url, server: s } = await server(() => undefined);
    await new Promise((resolve) => s.close(resolve));
    const error = await failure(() => callUpstream('backend', url, { timeoutMs: 1000 }));
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(503);
    expect(error.message).toBe('backend is unavailable');
  });

  it('gives up at the deadline with 504', async () => {
    const { url, server: s } = await server(() => undefined);
    const started = Date.now();
    const error = await failure(() => callUpstream('backend', url, { timeoutMs: 200 }));
    expect(error.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1000);
    s.closeAllConnections();
    s.close();
  });
});
