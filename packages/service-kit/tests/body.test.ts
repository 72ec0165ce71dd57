import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import express from 'express';
import { createLogger } from '@twin/observability';
import { rawBody } from '@twin/service-kit';
import { errorHandler } from '../src/middleware';

const LIMIT = 1024;

async function startApp() {
  const app = express();
  app.post('/', rawBody(LIMIT), (req, res) => {
    res.json({ bytes: (req.body as Buffer).length });
  });
  app.use(errorHandler(createLogger('body-test', 'silent')));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

describe('rawBody', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => new Promise((resolve) => app.server.close(resolve)));

  it('hands the route the bytes as they arrived', async () => {
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0x7d]);
    const response = await fetch(app.url, { method: 'POST', body: new Uint8Array(bytes) });
    expect(await response.json()).toEqual({ bytes: 4 });
  });

  /**
   * Sends headers and `size` body bytes on a plain socket, reads nothing for `pauseMs`, then reads
   * the answer: a server that closes with body bytes still unread makes its kernel reset the
   * connection, which throws away an answer the client has not read yet (RFC 9112 section 9.6).
   */
  function postAndReadLater(size: number, pauseMs: number): Promise<string> {
    const { port } = new URL(app.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.pause();
        socket.write(`POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${size}\r\n\r\n`);
        socket.write(Buffer.alloc(size, 0x61));
        setTimeout(() => {
          const chunks: Buffer[] = [];
          socket.on('data', (chunk: Buffer) => chunks.push(chunk));
          socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
          socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
          socket.resume();
        }, pauseMs);
      });
      socket.on('error', reject);
    });
  }

  it('answers an oversized body with a 413 the client receives, having read the body', async () => {
    const answer = await postAndReadLater(256 * 1024, 300);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain(`{"error":"request body is larger than ${LIMIT} bytes"}`);
  });

  it('answers a chunked oversized body with a 413 too', async () => {
    const response = await fetch(app.url, {
      method: 'POST',
      body: new Blob([Buffer.alloc(4 * 1024 * 1024, 0x61)]).stream(),
      ...({ duplex: 'half' } as object),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: `request body is larger than ${LIMIT} bytes` });
  });
});
