import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { LocalCa, spiffeIdOfPeer } from '../src/ca';

/** A TLS server that requires a client certificate of the CA and reports the peer's SPIFFE ID. */
async function mtlsServer(ca: LocalCa, serviceAccount: string) {
  const pair = await ca.issue('mesh-demo', serviceAccount);
  const server = tls.createServer(
    { cert: pair.certPem, key: pair.keyPem, ca: ca.rootPem, requestCert: true, rejectUnauthorized: true },
    (socket) => socket.end(spiffeIdOfPeer(socket.getPeerCertificate().subjectaltname) ?? 'anonymous'),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** One TLS connection: what the server sent, whom its certificate names, and how the connection ended. */
function call(
  port: number,
  options: tls.ConnectionOptions,
): Promise<{ data: string; serverId?: string; error?: string }> {
  return new Promise((resolve) => {
    let serverId: string | undefined;
    let error: string | undefined;
    const socket = tls.connect({
      port,
      host: '127.0.0.1',
      ...options,
      checkServerIdentity: (_host, cert) => {
        serverId = spiffeIdOfPeer(cert.subjectaltname);
        return undefined;
      },
    });
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ data, serverId, error }));
  });
}

describe('the local CA', () => {
  let ca: LocalCa;
  beforeAll(async () => {
    ca = await LocalCa.create();
  });

  it('issues workload certificates as Istio does: an empty subject and the SPIFFE ID as URI SAN', async () => {
    const issued = await ca.issue('mesh-demo', 'frontend');
    // Read back by Node's own X.509 parser, not the library that wrote it.
    const cert = new X509Certificate(issued.certPem);
    expect(issued.spiffeId).toBe('spiffe://cluster.local/ns/mesh-demo/sa/frontend');
    // Empty: Node 20 reads it as undefined, Node 24 as ''.
    expect(cert.subject ?? '').toBe('');
    expect(cert.issuer).toBe('O=cluster.local');
    expect(cert.subjectAltName).toBe('URI:spiffe://cluster.local/ns/mesh-demo/sa/frontend');
    expect(cert.ca).toBe(false);
    expect(cert.verify(new X509Certificate(ca.rootPem).publicKey)).toBe(true);
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBeGreaterThan(23 * 3600 * 1000);
  });

  it('lets two workloads authenticate each other over mutual TLS, each seeing the other identity', async () => {
    const { server, port } = await mtlsServer(ca, 'backend');
    try {
      const client = await ca.issue('mesh-demo', 'frontend');
      const answer = await call(port, { cert: client.certPem, key: client.keyPem, ca: ca.rootPem });
      expect(answer).toEqual({
        data: 'spiffe://cluster.local/ns/mesh-demo/sa/frontend',
        serverId: 'spiffe://cluster.local/ns/mesh-demo/sa/backend',
      });
    } finally {
      server.close();
    }
  });

  it('refuses a client without a certificate, and one from another CA: the server never answers', async () => {
    const { server, port } = await mtlsServer(ca, 'backend');
    try {
      // With TLS 1.3 the client learns of the refusal after its side of the handshake: an alert,
      // or a connection closed without a byte.
      const anonymous = await call(port, { ca: ca.rootPem });
      expect(anonymous.data).toBe('');
      expect(anonymous.error).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|alert/i);
      const other = await LocalCa.create();
      const stranger = await other.issue('mesh-demo', 'frontend');
      const foreign = await call(port, { cert: stranger.certPem, key: stranger.keyPem, ca: ca.rootPem });
      expect(foreign.data).toBe('');
    } finally {
      server.close();
    }
  });
});
