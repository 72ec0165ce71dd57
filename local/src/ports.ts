import net from 'node:net';

/** A port the OS says is free right now, for tests and `--port 0` style options. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function assertFree(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(Object.assign(new Error(`port ${port} is in use (${err.code})`), { code: err.code })),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/**
 * Resolves a configured port on the address the stack listens on: 0 means "any free port"; a fixed
 * one is checked first, so a clash is reported by port number rather than by whichever server trips
 * over it.
 */
export async function resolvePort(port: number, host = '127.0.0.1'): Promise<number> {
  if (port === 0) return freePort(host);
  await assertFree(port, host);
  return port;
}

/**
 * The URL a client on this machine uses for a server listening on `host:port`: a wildcard address
 * (0.0.0.0, ::) is reached on loopback, an IPv6 literal goes in brackets (RFC 3986).
 */
export function httpUrl(host: string, port: number): string {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${net.isIPv6(target) ? `[${target}]` : target}:${port}`;
}
