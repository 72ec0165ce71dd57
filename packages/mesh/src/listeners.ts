// The sockets of a proxy. The inbound listener serves plaintext and mutual TLS on one port and tells
// them apart by the first byte (a TLS handshake starts with 0x16), as Envoy's tls_inspector does for
// Istio's inbound filter chains; which is accepted depends on the workload's PeerAuthentication mode
// at the moment the connection arrives: STRICT refuses plaintext (the connection is closed, Envoy's
// no_filter_chain_match), DISABLE refuses TLS, PERMISSIVE takes both.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

/** A started listener. */
export interface Listener {
  port: number;
  close(): Promise<void>;
}

/** The inbound listener, which can also close connections a new mTLS mode no longer accepts. */
export interface InboundListener extends Listener {
  /** Closes the open connections whose transport `mode` refuses, as Envoy drains a replaced filter chain. */
  enforce(mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): void;
}

const TLS_HANDSHAKE = 0x16;

async function listen(server: net.Server, port: number, host = '127.0.0.1'): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

function closer(servers: (net.Server | http.Server)[], sockets: Set<net.Socket>) {
  return async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
}

const track = (sockets: Set<net.Socket>, socket: net.Socket) => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
};

/**
 * A plain HTTP listener on `host` (outbound listeners on 127.0.0.1; the ingress gateway where the
 * local stack listens).
 */
export async function startHttpListener(
  port: number,
  handler: http.RequestListener,
  host = '127.0.0.1',
): Promise<Listener> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => track(sockets, socket));
  return { port: await listen(server, port, host), close: closer([server], sockets) };
}

/** How the inbound listener treats a new connection. */
export interface InboundSecurity {
  mode(): 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  secureContext(): tls.SecureContext;
  /** A connection refused for its transport (plaintext under STRICT, TLS under DISABLE). */
  refused(reason: 'plaintext' | 'tls'): void;
  handshakeFailed(): void;
}

/** The inbound listener: TLS or plaintext by the first byte, then HTTP. */
export async function startInboundListener(
  port: number,
  security: InboundSecurity,
  handler: http.RequestListener,
): Promise<InboundListener> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
  const sockets = new Set<net.Socket>();
  const transport = new WeakMap<net.Socket, 'tls' | 'plaintext'>();
  const raw = net.createServer((socket) => {
    track(sockets, socket);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const mode = security.mode();
      if (first[0] === TLS_HANDSHAKE) {
        if (mode === 'DISABLE') return (security.refused('tls'), socket.destroy());
        transport.set(socket, 'tls');
        const secure = new tls.TLSSocket(socket, {
          isServer: true,
          secureContext: security.secureContext(),
          requestCert: true,
          rejectUnauthorized: true,
        });
        secure.once('error', () => {
          security.handshakeFailed();
          socket.destroy();
        });
        server.emit('connection', secure);
        return;
      }
      if (mode === 'STRICT') return (security.refused('plaintext'), socket.destroy());
      transport.set(socket, 'plaintext');
      server.emit('connection', socket);
      socket.resume();
    });
    socket.on('error', () => socket.destroy());
  });
  return {
    port: await listen(raw, port),
    close: closer([raw, server], sockets),
    enforce: (mode) => {
      const refused = mode === 'STRICT' ? 'plaintext' : mode === 'DISABLE' ? 'tls' : undefined;
      for (const socket of sockets) if (refused && transport.get(socket) === refused) socket.destroy();
    },
  };
}
