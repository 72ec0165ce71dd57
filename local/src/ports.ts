import net from 'node:net';

/** A port the OS says is free right now, for tests and `--port 0` style options. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves a configured port: 0 means "any free port". */
export async function resolvePort(port: number): Promise<number> {
  return port === 0 ? freePort() : port;
}
