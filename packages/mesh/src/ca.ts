// The mesh's certificate authority, as istiod's is for the cluster: a self-signed root (O=cluster.local)
// and, per workload, a short-lived certificate whose only name is its SPIFFE ID as a URI SAN, with an
// empty subject, as Istio issues them (istio.io/latest/docs/concepts/security/#pki). X.509 is
// @peculiar/x509's over Node's WebCrypto; keys are ECDSA P-256, as Istio's default for workloads.
// @peculiar/x509 resolves its ASN.1 types through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { spiffeIdOf, TRUST_DOMAIN } from './identity';

// Node's WebCrypto is the library's provider (its typings name the DOM's Crypto type, not Node's).
x509.cryptoProvider.set(webcrypto as never);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
/** Istio's default workload certificate lifetime. */
const WORKLOAD_TTL_MS = 24 * 3600 * 1000;
const ROOT_TTL_MS = 10 * 365 * 24 * 3600 * 1000;

/** A certificate and its private key, PEM-encoded, as Node's TLS options take them. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** A workload's certificate with what it names, as Envoy's admin /certs reports it. */
export interface WorkloadCertificate extends KeyPair {
  spiffeId: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

const pem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

const serial = () =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');

/** A root CA that issues workload certificates. Create it with {@link LocalCa.create}. */
export class LocalCa {
  private constructor(
    readonly root: x509.X509Certificate,
    private readonly keys: webcrypto.CryptoKeyPair,
    readonly trustDomain: string,
  ) {}

  /** A new root for `trustDomain`, valid ten years from now. */
  static async create(trustDomain = TRUST_DOMAIN): Promise<LocalCa> {
    const keys = await newKeys();
    const now = Date.now();
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `O=${trustDomain}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + ROOT_TTL_MS),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new LocalCa(root, keys, trustDomain);
  }

  /** The root certificate, PEM: the trust bundle every sidecar verifies its peers against. */
  get rootPem(): string {
    return this.root.toString('pem');
  }

  /**
   * A certificate for the workloads that run as `serviceAccount` in `namespace`, valid 24 hours:
   * URI SAN spiffe://<trust domain>/ns/<namespace>/sa/<serviceAccount>, usable by TLS clients and servers.
   */
  async issue(namespace: string, serviceAccount: string): Promise<WorkloadCertificate> {
    const keys = await newKeys();
    const spiffeId = spiffeIdOf(namespace, serviceAccount, this.trustDomain);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: '',
      issuer: this.root.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + WORKLOAD_TTL_MS),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        // With an empty subject the SAN must be critical (RFC 5280, 4.2.1.6).
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.keys.publicKey),
      ],
    });
    const key = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    return {
      certPem: cert.toString('pem'),
      keyPem: pem('PRIVATE KEY', key),
      spiffeId,
      serialNumber: cert.serialNumber,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    };
  }
}

/** The SPIFFE ID a peer certificate names (its URI SAN), as Node's TLS reports `subjectaltname`. */
export function spiffeIdOfPeer(subjectAltName: string | undefined): string | undefined {
  return subjectAltName
    ?.split(/,\s*/)
    .find((name) => name.startsWith('URI:spiffe://'))
    ?.slice('URI:'.length);
}
