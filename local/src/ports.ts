import net from 'node:net';

/**
 * A port the OS says is free right now, which another process may take before it is used: for a
 * test's address where nothing listens, never for a server to bind later (give it port 0).
 */
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

/**
 * Checks that a port the user gave is free on the address the stack listens on, so that a clash is
 * reported by port number rather than by whichever server trips over it. 0 ("any free port") is not
 * checked: the server that listens picks its port then, and reports it (no port is picked ahead of
 * time for another process to take first).
 * @throws Error naming the port, with the listen error's `code` (EADDRINUSE, EACCES...).
 */
export function checkPort(port: number, host = '127.0.0.1'): Promise<void> {
  if (port === 0) return Promise.resolve();
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
 * The URL a client on this machine uses for a server listening on `host:port`: a wildcard address
 * (0.0.0.0, ::) is reached on loopback, an IPv6 literal goes in brackets (RFC 3986).
 */
export function httpUrl(host: string, port: number): string {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${net.isIPv6(target) ? `[${target}]` : target}:${port}`;
}
