import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger, expectedAnswer, requestLogging } from '@twin/observability';

describe('requestLogging', () => {
  it('logs 2xx and expected 4xx answers at info, other 4xx at warn, 5xx at error', async () => {
    const lines: Array<{ level: string; res: { statusCode: number } }> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const log = requestLogging(createLogger('frontend', 'info', sink));
    const server = http.createServer((req, res) => {
      log(req, res);
      const status = Number(req.url?.slice(1, 4));
      if (req.url?.endsWith('expected')) expectedAnswer(res);
      res.statusCode = status;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const path of ['/200', '/404', '/404-expected', '/503'])
        await fetch(`http://127.0.0.1:${port}${path}`).then((response) => response.arrayBuffer());
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(lines.map((line) => [line.res.statusCode, line.level])).toEqual([
      [200, 'info'],
      [404, 'warn'],
      [404, 'info'],
      [503, 'error'],
    ]);
  });
});
