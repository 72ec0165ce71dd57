// The mesh's access rules, evaluated: PeerAuthentication and AuthorizationPolicies of the rendered
// k8s/overlays/canary-10 run through the mesh's evaluator of Istio's semantics (@twin/mesh)
// for the allow/deny pairs the policies intend. The evaluator is first shown to decide small
// hand-written policies right, and the pairs to fail on deliberately broken copies of the render.
import {
  type AuthorizationPolicyInput as AuthorizationPolicy,
  authorize,
  matchValue,
  mtlsMode,
  normalizePath,
  type PeerAuthenticationInput as PeerAuthentication,
  type Peer,
  principalOf,
  type Request,
  type Workload,
} from '@twin/mesh';
import { authorizationPolicies, peerAuthentications, renderedWorkloads } from '../deploy/istio-authz';
import { type K8sObject, NAMESPACE, renderOverlay } from '../deploy/manifests';

// --- the evaluator on small policies

const workload = (
  name: string,
  namespace = 'shop',
  labels: Record<string, string> = { app: name },
): Workload => ({
  name,
  namespace,
  labels,
  sidecar: true,
});
const peer = (namespace: string, sa: string): Peer => ({ mtls: true, principal: principalOf(namespace, sa) });
const PLAINTEXT: Peer = { mtls: false, ip: '10.0.0.7' };
const policy = (
  name: string,
  spec: AuthorizationPolicy['spec'],
  namespace = 'shop',
): AuthorizationPolicy => ({ metadata: { name, namespace }, spec });
const peerAuth = (
  name: string,
  spec: PeerAuthentication['spec'],
  namespace = 'shop',
): PeerAuthentication => ({ metadata: { name, namespace }, spec });

const api = workload('api');
const web = workload('web');
const request = (over: Partial<Request> = {}): Request => ({
  source: peer('shop', 'web'),
  destination: api,
  port: 8080,
  method: 'GET',
  path: '/items',
  ...over,
});
const allowed = (policies: AuthorizationPolicy[], r: Request, pas: PeerAuthentication[] = []) =>
  authorize(policies, pas, r).allowed;

describe('the evaluator, on hand-written policies', () => {
  it('matches values exactly, by prefix, by suffix, or by presence', () => {
    expect(matchValue('/items', '/items')).toBe(true);
    expect(matchValue('/items', '/items/1')).toBe(false);
    expect(matchValue('/items*', '/items/1')).toBe(true);
    expect(matchValue('*/1', '/items/1')).toBe(true);
    expect(matchValue('*', 'anything')).toBe(true);
    expect(matchValue('*', undefined)).toBe(false);
    expect(matchValue('*', '')).toBe(false);
  });

  it('normalizes paths as the mesh does before matching them', () => {
    expect(normalizePath('/items?x=/admin')).toBe('/items');
    expect(normalizePath('/items/../admin/./x')).toBe('/admin/x');
    expect(normalizePath('/items/%2e%2e/admin')).toBe('/admin');
    expect(normalizePath('\\admin')).toBe('/admin');
    expect(normalizePath('/items/')).toBe('/items/');
  });

  it('allows everything when no policy applies, and nothing under an allow-nothing policy', () => {
    expect(allowed([], request())).toBe(true);
    expect(allowed([policy('allow-nothing', {})], request())).toBe(false);
    expect(allowed([policy('allow-all', { rules: [{}] })], request())).toBe(true);
    // A DENY without rules matches nothing, so it denies nothing.
    expect(allowed([policy('deny-nothing', { action: 'DENY' })], request())).toBe(true);
  });

  it('evaluates DENY before ALLOW', () => {
    const policies = [
      policy('allow-all', { rules: [{}] }),
      policy('no-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }),
    ];
    expect(allowed(policies, request({ path: '/items' }))).toBe(true);
    expect(allowed(policies, request({ path: '/admin/users' }))).toBe(false);
    // Normalization closes the obvious way around a path rule.
    expect(allowed(policies, request({ path: '/items/../admin/users' }))).toBe(false);
  });

  it('evaluates CUSTOM first: its denial stands, its approval still meets DENY and ALLOW', () => {
    const policies = [
      policy('ext', {
        action: 'CUSTOM',
        provider: { name: 'opa' },
        rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }],
      }),
      policy('only-get', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }),
    ];
    const admin = request({ path: '/admin' });
    expect(authorize(policies, [], admin, { custom: () => false }).allowed).toBe(false);
    expect(authorize(policies, [], admin, { custom: () => true }).allowed).toBe(true);
    expect(authorize(policies, [], { ...admin, method: 'POST' }, { custom: () => true }).allowed).toBe(false);
    expect(() => authorize(policies, [], admin)).toThrow(/custom decision/);
  });

  it('applies a policy by namespace and selector; the root namespace reaches every namespace', () => {
    const onlyWeb = policy('web-only', { selector: { matchLabels: { app: 'web' } } });
    expect(allowed([onlyWeb], request({ destination: api }))).toBe(true);
    expect(allowed([onlyWeb], request({ destination: web }))).toBe(false);
    const elsewhere = policy('allow-nothing', {}, 'other');
    expect(allowed([elsewhere], request())).toBe(true);
    const meshWide = policy('allow-nothing', {}, 'istio-system');
    expect(allowed([meshWide], request())).toBe(false);
    const meshSelector = policy(
      'v1-nothing',
      { selector: { matchLabels: { version: 'v1' } } },
      'istio-system',
    );
    expect(allowed([meshSelector], request())).toBe(true);
    expect(
      allowed(
        [meshSelector],
        request({ destination: workload('api', 'shop', { app: 'api', version: 'v1' }) }),
      ),
    ).toBe(false);
  });

  it('matches sources by principal and namespace, which a plaintext peer does not have', () => {
    const fromWeb = [
      policy('from-web', { rules: [{ from: [{ source: { principals: [principalOf('shop', 'web')] } }] }] }),
    ];
    expect(allowed(fromWeb, request())).toBe(true);
    expect(allowed(fromWeb, request({ source: peer('shop', 'batch') }))).toBe(false);
    expect(allowed(fromWeb, request({ source: PLAINTEXT }))).toBe(false);
    const anyPrincipal = [policy('any-mtls', { rules: [{ from: [{ source: { principals: ['*'] } }] }] })];
    expect(allowed(anyPrincipal, request({ source: peer('elsewhere', 'x') }))).toBe(true);
    expect(allowed(anyPrincipal, request({ source: PLAINTEXT }))).toBe(false);
    const fromShop = [policy('ns', { rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] })];
    expect(allowed(fromShop, request({ source: peer('other', 'web') }))).toBe(false);
    // The pitfall the reference warns about: a negative match is true for a peer without identity.
    const notBatch = [
      policy('not-batch', {
        rules: [{ from: [{ source: { notPrincipals: [principalOf('shop', 'batch')] } }] }],
      }),
    ];
    expect(allowed(notBatch, request({ source: PLAINTEXT }))).toBe(true);
  });

  it('ORs the entries of from and to, ANDs the fields inside each, and requires every condition', () => {
    const rules = [
      policy('p', {
        rules: [
          {
            from: [
              { source: { principals: [principalOf('shop', 'web')] } },
              { source: { ipBlocks: ['10.1.0.0/16'] } },
            ],
            to: [
              { operation: { methods: ['GET'], paths: ['/items', '/items/*'] } },
              { operation: { methods: ['POST'], paths: ['/orders'], ports: ['8080'] } },
            ],
            when: [{ key: 'request.headers[x-tenant]', values: ['acme', 'beta*'] }],
          },
        ],
      }),
    ];
    const headers = { 'x-tenant': 'acme' };
    expect(allowed(rules, request({ headers }))).toBe(true);
    expect(allowed(rules, request({ headers: { 'x-tenant': 'betamax' }, path: '/items/3' }))).toBe(true);
    expect(allowed(rules, request({ headers: { 'x-tenant': 'other' } }))).toBe(false);
    expect(allowed(rules, request())).toBe(false);
    expect(allowed(rules, request({ headers, method: 'POST', path: '/orders' }))).toBe(true);
    expect(allowed(rules, request({ headers, method: 'POST', path: '/orders', port: 9090 }))).toBe(false);
    expect(allowed(rules, request({ headers, method: 'GET', path: '/orders' }))).toBe(false);
    expect(allowed(rules, request({ headers, source: { mtls: false, ip: '10.1.2.3' } }))).toBe(true);
    expect(allowed(rules, request({ headers, source: { mtls: false, ip: '10.2.2.3' } }))).toBe(false);
  });

  it('negates with notMethods and notPaths, and ignores AUDIT policies', () => {
    const readOnly = [
      policy('ro', {
        rules: [{ to: [{ operation: { notMethods: ['POST', 'PUT', 'DELETE'], notPaths: ['/internal*'] } }] }],
      }),
      policy('audit-all', { action: 'AUDIT', rules: [{}] }),
    ];
    expect(allowed(readOnly, request())).toBe(true);
    expect(allowed(readOnly, request({ method: 'DELETE' }))).toBe(false);
    expect(allowed(readOnly, request({ path: '/internal/x' }))).toBe(false);
  });

  it('refuses plaintext at a STRICT workload: workload, then namespace, then mesh settings, UNSET inheriting', () => {
    const strictMesh = peerAuth('default', { mtls: { mode: 'STRICT' } }, 'istio-system');
    const permissiveShop = peerAuth('default', { mtls: { mode: 'PERMISSIVE' } });
    const unsetApi = peerAuth('api', { selector: { matchLabels: { app: 'api' } }, mtls: { mode: 'UNSET' } });
    const apiMetricsPlain = peerAuth('api-metrics', {
      selector: { matchLabels: { app: 'api' } },
      portLevelMtls: { '9090': { mode: 'DISABLE' } },
    });
    expect(mtlsMode([], api, 8080)).toBe('PERMISSIVE');
    expect(mtlsMode([strictMesh], api, 8080)).toBe('STRICT');
    expect(mtlsMode([strictMesh, permissiveShop], api, 8080)).toBe('PERMISSIVE');
    expect(mtlsMode([strictMesh, unsetApi], api, 8080)).toBe('STRICT');
    expect(mtlsMode([strictMesh, apiMetricsPlain], api, 9090)).toBe('DISABLE');
    expect(mtlsMode([strictMesh, apiMetricsPlain], api, 8080)).toBe('STRICT');
    expect(allowed([], request({ source: PLAINTEXT }), [strictMesh])).toBe(false);
    expect(allowed([], request({ source: PLAINTEXT }), [strictMesh, permissiveShop])).toBe(true);
    // Without a sidecar nothing is enforced at all.
    expect(
      allowed([policy('allow-nothing', {})], request({ destination: { ...api, sidecar: false } }), [
        strictMesh,
      ]),
    ).toBe(true);
    // With mTLS disabled, even a sidecar peer arrives without an identity.
    const fromWeb = [
      policy('from-web', { rules: [{ from: [{ source: { principals: [principalOf('shop', 'web')] } }] }] }),
    ];
    expect(allowed(fromWeb, request({ port: 9090 }), [apiMetricsPlain])).toBe(false);
  });

  it('throws on what it does not model instead of guessing', () => {
    expect(() =>
      allowed([policy('gw', { targetRefs: [{ kind: 'Gateway', name: 'g' }] })], request()),
    ).toThrow(/targetRef/);
    const jwt = policy('jwt', { rules: [{ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }] });
    expect(() => allowed([jwt], request())).toThrow(/not modelled/);
    const template = policy('t', { rules: [{ to: [{ operation: { paths: ['/items/{*}'] } }] }] });
    expect(() => allowed([template], request())).toThrow(/templates/);
  });
});

// --- the rendered canary-10 overlay

const INGRESS: Peer = peer('istio-system', 'istio-ingressgateway-service-account');
const ANYONE_IN_MESH: Peer = peer('other-team', 'default');

interface Pair {
  from: string;
  source: Peer;
  to: string;
  method: string;
  path: string;
  allowed: boolean;
}

/** The intent of the policies, as (caller, workload, request) -> allowed or denied. */
function intendedPairs(objs: K8sObject[]): Pair[] {
  const sa = (app: string) => {
    const w = renderedWorkloads(objs).find((x) => x.labels.app === app);
    if (!w) throw new Error(`no workload with app=${app}`);
    return peer(w.namespace, w.serviceAccount);
  };
  const pair = (from: string, source: Peer, to: string, method: string, path: string, ok: boolean): Pair => ({
    from,
    source,
    to,
    method,
    path,
    allowed: ok,
  });
  const frontend = sa('frontend');
  const backend = sa('backend');
  const thumbnailer = sa('thumbnailer');
  const minio = sa('minio');
  const minioSetup = sa('minio-setup');
  return [
    // Users come in through the ingress gateway, to the frontend only.
    pair('ingress gateway', INGRESS, 'frontend', 'GET', '/', true),
    pair('ingress gateway', INGRESS, 'frontend', 'POST', '/api/images', true),
    pair('ingress gateway', INGRESS, 'backend', 'GET', '/products', false),
    pair('ingress gateway', INGRESS, 'thumbnailer', 'POST', '/events', false),
    pair('backend', backend, 'frontend', 'GET', '/', false),
    // The frontend calls the backend's API, and nothing else of it.
    pair('frontend', frontend, 'backend', 'GET', '/products', true),
    pair('frontend', frontend, 'backend', 'GET', '/products?limit=5', true),
    pair('frontend', frontend, 'backend', 'POST', '/products', true),
    pair('frontend', frontend, 'backend', 'GET', '/products/0b6e1c2a-0000-4000-8000-000000000000', true),
    pair('frontend', frontend, 'backend', 'DELETE', '/products/0b6e1c2a-0000-4000-8000-000000000000', true),
    pair('frontend', frontend, 'backend', 'GET', '/version', true),
    pair('frontend', frontend, 'backend', 'PUT', '/products/1', false),
    pair('frontend', frontend, 'backend', 'GET', '/admin', false),
    pair('frontend', frontend, 'backend', 'GET', '/products/../admin', false),
    pair('thumbnailer', thumbnailer, 'backend', 'GET', '/products', false),
    pair('another namespace', ANYONE_IN_MESH, 'backend', 'GET', '/products', false),
    // Only the object store posts events, and only events.
    pair('minio', minio, 'thumbnailer', 'POST', '/events', true),
    pair('minio', minio, 'thumbnailer', 'GET', '/events', false),
    pair('minio', minio, 'thumbnailer', 'POST', '/events/../admin', false),
    pair('frontend', frontend, 'thumbnailer', 'POST', '/events', false),
    pair('backend', backend, 'thumbnailer', 'POST', '/events', false),
    // Health probes do not come through the mesh (Istio rewrites them to its agent): through it, no
    // one may call them.
    pair('minio', minio, 'thumbnailer', 'GET', '/healthz', false),
    pair('frontend', frontend, 'thumbnailer', 'GET', '/healthz', false),
    pair('ingress gateway', INGRESS, 'thumbnailer', 'GET', '/healthz', false),
    pair('another namespace', ANYONE_IN_MESH, 'thumbnailer', 'GET', '/readyz', false),
    // The stores belong to their clients.
    pair('backend', backend, 'dynamodb-local', 'POST', '/', true),
    pair('frontend', frontend, 'dynamodb-local', 'POST', '/', false),
    pair('frontend', frontend, 'minio', 'PUT', '/images/uploads/x/a.jpg', true),
    pair('thumbnailer', thumbnailer, 'minio', 'GET', '/images/uploads/x/a.jpg', true),
    pair('minio-setup', minioSetup, 'minio', 'PUT', '/images', true),
    pair('backend', backend, 'minio', 'GET', '/images/uploads/x/a.jpg', false),
    // Jaeger runs outside the mesh (no sidecar): spans get there over plain OTLP.
    pair('frontend', frontend, 'jaeger', 'POST', '/v1/traces', true),
    // mTLS is STRICT: a client without a sidecar is refused everywhere in the namespace.
    ...['frontend', 'backend', 'thumbnailer', 'minio', 'dynamodb-local'].map((to) =>
      pair('plaintext client', PLAINTEXT, to, 'GET', '/', false),
    ),
    // The setup Job serves nothing: the namespace's allow-nothing policy covers it.
    pair('frontend', frontend, 'minio-setup', 'GET', '/', false),
  ];
}

/** The pairs whose decision differs from the intent, with the evaluator's reason. */
function checkIntendedAccess(objs: K8sObject[], pairs = intendedPairs(objs)): string[] {
  const workloads = renderedWorkloads(objs);
  const policies = authorizationPolicies(objs);
  const pas = peerAuthentications(objs);
  return pairs.flatMap(({ from, source, to, method, path, allowed: expected }) => {
    const destination = workloads.find((w) => w.labels.app === to);
    if (!destination) return [`no workload with app=${to}`];
    const decision = authorize(policies, pas, {
      source,
      destination,
      port: destination.ports[0] ?? 80,
      method,
      path,
    });
    return decision.allowed === expected
      ? []
      : [
          `${from} -> ${to} ${method} ${path}: ${decision.allowed ? 'allowed' : 'denied'} (${decision.reason}), intended ${expected ? 'allowed' : 'denied'}`,
        ];
  });
}

describe(`the mesh's access rules in k8s/overlays/canary-10`, () => {
  const objs = renderOverlay('canary-10');

  it('reads every AuthorizationPolicy and PeerAuthentication of the render', () => {
    expect(
      authorizationPolicies(objs)
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual([
      'allow-nothing',
      'backend-from-frontend',
      'dynamodb-local-from-backend',
      'frontend-from-ingress',
      'minio-from-clients',
      'thumbnailer-from-minio',
    ]);
    expect(peerAuthentications(objs)).toHaveLength(1);
  });

  it('enforces mTLS STRICT on every port of every workload in the namespace, all with sidecars', () => {
    const pas = peerAuthentications(objs);
    const mine = renderedWorkloads(objs).filter((w) => w.namespace === NAMESPACE);
    expect(mine.length).toBeGreaterThanOrEqual(6);
    for (const w of mine) {
      expect({ workload: w.name, sidecar: w.sidecar }).toEqual({ workload: w.name, sidecar: true });
      for (const port of w.ports)
        expect({ workload: w.name, port, mode: mtlsMode(pas, w, port) }).toEqual({
          workload: w.name,
          port,
          mode: 'STRICT',
        });
      // Probes reach the app through the sidecar's agent only while Istio rewrites them.
      expect(w.annotations['sidecar.istio.io/rewriteAppHTTPProbers']).not.toBe('false');
    }
  });

  it('decides every intended pair as intended', () => {
    expect(checkIntendedAccess(objs)).toEqual([]);
  });

  describe('and the check fails on a broken copy', () => {
    const broken = (change: (objs: K8sObject[]) => void) => {
      const copy = structuredClone(objs);
      change(copy);
      return checkIntendedAccess(copy);
    };
    const policyNamed = (copy: K8sObject[], name: string) =>
      copy.find(
        (o) => o.kind === 'AuthorizationPolicy' && o.metadata.name === name,
      ) as unknown as AuthorizationPolicy;

    it('the thumbnailer policy without its operation: anyone with the minio identity reaches /healthz', () => {
      const problems = broken(
        (copy) => delete policyNamed(copy, 'thumbnailer-from-minio').spec.rules![0]!.to,
      );
      expect(problems).toEqual(
        expect.arrayContaining([expect.stringMatching(/^minio -> thumbnailer GET \/healthz: allowed/)]),
      );
    });

    it('the backend open to the whole namespace: the thumbnailer gets in', () => {
      const problems = broken((copy) => {
        policyNamed(copy, 'backend-from-frontend').spec.rules![0]!.from = [
          { source: { namespaces: [NAMESPACE] } },
        ];
      });
      expect(problems).toEqual(
        expect.arrayContaining([expect.stringMatching(/^thumbnailer -> backend GET \/products: allowed/)]),
      );
    });

    it('mTLS PERMISSIVE and no allow-nothing: the setup Job is reachable by anyone', () => {
      const problems = broken((copy) => {
        (copy.find((o) => o.kind === 'PeerAuthentication') as unknown as PeerAuthentication).spec.mtls = {
          mode: 'PERMISSIVE',
        };
        copy.splice(
          copy.findIndex((o) => o.kind === 'AuthorizationPolicy' && o.metadata.name === 'allow-nothing'),
          1,
        );
      });
      expect(problems).toEqual(
        expect.arrayContaining([expect.stringMatching(/^frontend -> minio-setup GET \/: allowed/)]),
      );
      expect(problems.filter((p) => p.startsWith('plaintext client'))).toEqual([]);
    });

    it('a DENY for the frontend on the backend: its reads are refused', () => {
      const problems = broken((copy) =>
        copy.push({
          apiVersion: 'security.istio.io/v1',
          kind: 'AuthorizationPolicy',
          metadata: { name: 'deny-frontend', namespace: NAMESPACE },
          spec: {
            action: 'DENY',
            rules: [{ from: [{ source: { principals: [principalOf(NAMESPACE, 'frontend')] } }] }],
          },
        }),
      );
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^frontend -> backend GET \/products: denied \(matched DENY/),
        ]),
      );
    });
  });
});
