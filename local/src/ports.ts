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

function assertFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(Object.assign(new Error(`port ${port} is in use (${err.code})`), { code: err.code })),
    );
    server.listen(port, () => server.close(() => resolve()));
  });
}

/**
 * Resolves a configured port: 0 means "any free port"; a fixed one is checked first, so a clash is
 * reported by port number rather than by whichever server trips over it.
 */
export async function resolvePort(port: number): Promise<number> {
  if (port === 0) return freePort();
  await assertFree(port);
  return port;
}
