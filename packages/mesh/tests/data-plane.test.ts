import { once } from 'node:events';
import http from 'node:http';
import tls from 'node:tls';
import { text } from 'node:stream/consumers';
import { startAdmin } from '../src/admin';
import { copyPolicy, eventually, load, type Mesh, startMesh } from './support/mesh';

const BACKEND_V2 = 'outbound|80|v2|backend.mesh-demo.svc.cluster.local';
const BACKEND_V1 = 'outbound|80|v1|backend.mesh-demo.svc.cluster.local';

describe('the local data plane on the repository policy (canary-10)', () => {
  const policy = copyPolicy();
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh(policy.root);
  }, 30_000);
  afterAll(async () => {
    await mesh?.stop();
    policy.remove();
  });

  it('splits the backend calls about 90/10 between the subsets, each request to one version', async () => {
    const counts = await load(mesh.backendUrl, 400);
    expect(Object.keys(counts).sort()).toEqual(['1.0.0', '2.0.0']);
    // Binomial(400, 0.1): mean 40, standard deviation 6; these bounds fail once in a billion runs.
    expect(counts['2.0.0']).toBeGreaterThan(10);
    expect(counts['2.0.0']).toBeLessThan(80);
    expect(mesh.apps['backend-v1-0'].state.hits).toBeGreaterThan(0);
    expect(mesh.apps['backend-v1-1'].state.hits).toBeGreaterThan(0);
  }, 60_000);

  it('writes one JSON access log line per request, with Envoy fields', async () => {
    const res = await fetch(`${mesh.backendUrl}/products?limit=1`, { headers: { 'x-request-id': 'req-42' } });
    expect(res.status).toBe(200);
    await eventually(() => mesh.accessLog().some((l) => l.request_id === 'req-42' && l.proxy === 'frontend'));
    const outbound = mesh.accessLog().find((l) => l.request_id === 'req-42' && l.proxy === 'frontend')!;
    expect(outbound).toMatchObject({
      method: 'GET',
      path: '/products?limit=1',
      response_code: 200,
      response_flags: '-',
      route_name: 'reads',
      upstream_request_attempt_count: 1,
    });
    expect([BACKEND_V1, BACKEND_V2]).toContain(outbound.upstream_cluster);
    const inbound = mesh
      .accessLog()
      .find((l) => l.request_id === 'req-42' && String(l.proxy).startsWith('backend-'))!;
    expect(inbound).toMatchObject({
      upstream_cluster: 'inbound|8080||',
      downstream_peer_uri_san: 'spiffe://cluster.local/ns/mesh-demo/sa/frontend',
    });
  });
  it('answers Expect: 100-continue itself and forwards the body without it, as Envoy does by default', async () => {
    // curl sends Expect: 100-continue with any body over 1 MiB; undici refuses to send the header.
    const body = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const req = http.request(`${mesh.gatewayUrl}/api/products`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        expect: '100-continue',
      },
    });
    const continued = once(req, 'continue');
    const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
    req.flushHeaders();
    await continued;
    req.end(body);
    const [res] = await response;
    const answer = JSON.parse(await text(res)) as { path: string; method: string };
    expect(res.statusCode).toBe(200);
    expect(answer).toMatchObject({ service: 'frontend', path: '/api/products', method: 'POST' });
    expect(mesh.apps.frontend.state.lastHeaders.expect).toBeUndefined();
  });
});

describe('mutual TLS and authorization on the inbound side', () => {
  const policy = copyPolicy();
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh(policy.root);
  }, 30_000);
  afterAll(async () => {
    await mesh?.stop();
    policy.remove();
  });

  it("answers another identity 403 RBAC: access denied, and the frontend outside the backend's API too", async () => {
    const denied = await fetch(`${mesh.thumbnailerBackendUrl}/products`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toBe('RBAC: access denied');
    for (const [method, path] of [
      ['GET', '/admin'],
      ['PUT', '/products/1'],
      ['GET', '/products/../admin'],
    ])
      expect((await fetch(`${mesh.backendUrl}${path}`, { method })).status).toBe(403);
    expect((await fetch(`${mesh.backendUrl}/products`, { method: 'POST', body: '{}' })).status).toBe(200);
    const backends = ['backend-v1-0', 'backend-v1-1', 'backend-v2-0'];
    const deniedCount = backends.reduce(
      (n, b) => n + mesh.stat(b, 'http.inbound_0.0.0.0_8080.rbac.denied'),
      0,
    );
    expect(deniedCount).toBe(4);
    const line = mesh
      .accessLog()
      .find(
        (l) =>
          l.response_code === 403 &&
          l.downstream_peer_uri_san === 'spiffe://cluster.local/ns/mesh-demo/sa/thumbnailer',
      );
    expect(line?.response_code_details).toMatch(/^rbac_access_denied_matched_policy\[/);
  });

  it("reads the caller's certificate once per connection, and still decides each request by it", async () => {
    const read = jest.spyOn(tls.TLSSocket.prototype, 'getPeerCertificate');
    try {
      await load(mesh.backendUrl, 30, 1);
      read.mockClear();
      const counts = await load(mesh.backendUrl, 30, 1);
      expect(Object.keys(counts).filter((key) => key.startsWith('HTTP'))).toEqual([]);
      // One request at a time reuses one connection per pod: at most three new ones (a pod the first
      // 30 requests missed), each read once by its client and once by its server; not once a request.
      expect(read.mock.calls.length).toBeLessThanOrEqual(6);
      expect((await fetch(`${mesh.thumbnailerBackendUrl}/version`)).status).toBe(403);
    } finally {
      read.mockRestore();
    }
    const inbound = mesh.accessLog().filter((l) => String(l.proxy).startsWith('backend-'));
    expect(inbound.filter((l) => l.response_code === 200).at(-1)).toMatchObject({
      downstream_peer_uri_san: 'spiffe://cluster.local/ns/mesh-demo/sa/frontend',
    });
    expect(inbound.at(-1)).toMatchObject({
      response_code: 403,
      downstream_peer_uri_san: 'spiffe://cluster.local/ns/mesh-demo/sa/thumbnailer',
    });
  });

  it('cancels nothing once an answer is complete', async () => {
    const abort = jest.spyOn(AbortController.prototype, 'abort');
    try {
      const counts = await load(mesh.backendUrl, 10, 1);
      expect(Object.keys(counts).filter((key) => key.startsWith('HTTP'))).toEqual([]);
      expect(abort).not.toHaveBeenCalled();
    } finally {
      abort.mockRestore();
    }
  });

  it('refuses plaintext at a STRICT inbound port: the connection closes without an answer', async () => {
    const port = mesh.inboundPort('backend-v1-0');
    const hits = mesh.apps['backend-v1-0'].state.hits;
    await expect(fetch(`http://127.0.0.1:${port}/version`)).rejects.toThrow();
    expect(mesh.stat('backend-v1-0', 'listener.0.0.0.0_8080.no_filter_chain_match')).toBeGreaterThan(0);
    expect(mesh.apps['backend-v1-0'].state.hits).toBe(hits);
  });

  it('lets the ingress gateway reach the frontend over mutual TLS, with a request id', async () => {
    const res = await fetch(`${mesh.gatewayUrl}/api/products`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ service: 'frontend', path: '/api/products' });
    expect(mesh.apps.frontend.state.lastHeaders['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-envoy-upstream-service-time')).toMatch(/^\d+$/);
  });

  it('takes plaintext under PERMISSIVE, where a caller without identity then fails the policy', async () => {
    policy.edit('k8s/istio/peer-authentication.yaml', (text) =>
      text.replace('mode: STRICT', 'mode: PERMISSIVE'),
    );
    await eventually(() => mesh.plane.configStatus.version > 1, 20_000, 'the reload');
    const res = await fetch(`http://127.0.0.1:${mesh.inboundPort('backend-v1-0')}/version`);
    expect(res.status).toBe(403);
    policy.edit('k8s/istio/peer-authentication.yaml', (text) =>
      text.replace('mode: PERMISSIVE', 'mode: STRICT'),
    );
    await eventually(() => mesh.plane.configStatus.version > 2, 20_000, 'the reload');
    await expect(fetch(`http://127.0.0.1:${mesh.inboundPort('backend-v1-0')}/version`)).rejects.toThrow();
  });
});

describe('retries and outlier detection', () => {
  const policy = copyPolicy();
  let mesh: Mesh;
  beforeAll(async () => {
    // A short ejection, so that the return is seen within the test, yet long enough that a busy
    // machine's slow requests do not see the pod come back while the test still expects it out.
    policy.edit('k8s/istio/destination-rule-backend.yaml', (text) =>
      text
        .replace('interval: 10s', 'interval: 500ms')
        .replace('baseEjectionTime: 30s', 'baseEjectionTime: 10s'),
    );
    mesh = await startMesh(policy.root);
  }, 30_000);
  afterAll(async () => {
    await mesh?.stop();
    policy.remove();
  });
  beforeEach(() => {
    for (const app of Object.values(mesh.apps))
      Object.assign(app.state, { hits: 0, status: 200, hang: false, delayMs: 0 });
  });

  it('keeps the retries of a request in the subset its weight picked; a one-pod subset is never ejected', async () => {
    mesh.apps['backend-v2-0'].state.status = 503;
    const counts = await load(mesh.backendUrl, 200);
    const failed = counts['HTTP 503'] ?? 0;
    expect(failed).toBeGreaterThan(0);
    expect(counts['1.0.0']! + failed).toBe(200);
    // Every request routed to v2 was tried three times there (two retries), never on v1.
    expect(mesh.apps['backend-v2-0'].state.hits).toBe(3 * failed);
    expect(mesh.apps['backend-v1-0'].state.hits + mesh.apps['backend-v1-1'].state.hits).toBe(counts['1.0.0']);
    const v2 = `cluster.${BACKEND_V2}.`;
    expect(mesh.stat('frontend', `${v2}upstream_rq_retry`)).toBe(2 * failed);
    expect(mesh.stat('frontend', `${v2}outlier_detection.ejections_active`)).toBe(0);
    expect(mesh.stat('frontend', `${v2}outlier_detection.ejections_overflow`)).toBeGreaterThan(0);
    const line = mesh.accessLog().find((l) => l.proxy === 'frontend' && l.response_code === 503)!;
    expect(line).toMatchObject({
      response_flags: 'URX',
      upstream_request_attempt_count: 3,
      upstream_cluster: BACKEND_V2,
    });
  }, 60_000);

  it('ejects a failing v1 pod on its 5th consecutive error, retries hide it, and it returns after baseEjectionTime', async () => {
    const v1 = `cluster.${BACKEND_V1}.`;
    const failing = mesh.apps['backend-v1-0'].state;
    failing.status = 503;
    const answers: number[] = [];
    let ejectedAt = 0;
    let hitsAtEjection = 0;
    for (let i = 0; i < 200 && !ejectedAt; i++) {
      const res = await fetch(`${mesh.backendUrl}/version`);
      answers.push(res.status);
      await res.text();
      if (mesh.stat('frontend', `${v1}outlier_detection.ejections_active`) === 1) {
        ejectedAt = Date.now();
        hitsAtEjection = failing.hits;
      }
    }
    // Reads are retried on another v1 pod (previous hosts), so no caller sees the failures.
    expect(answers.filter((status) => status !== 200)).toEqual([]);
    expect(ejectedAt).toBeGreaterThan(0);
    expect(hitsAtEjection).toBe(5);
    expect(mesh.stat('frontend', `${v1}outlier_detection.ejections_enforced_total`)).toBe(1);
    // While ejected, the pod gets no traffic: more hits only once it has returned.
    await load(mesh.backendUrl, 20, 1);
    const stillEjected = mesh.stat('frontend', `${v1}outlier_detection.ejections_active`) === 1;
    expect({ stillEjected, hits: failing.hits }).toEqual(
      stillEjected ? { stillEjected, hits: 5 } : { stillEjected, hits: expect.any(Number) },
    );
    const frontend = mesh.plane.proxy('frontend')!;
    expect(
      frontend
        .activeClusters()
        .find((c) => c.policy.name === BACKEND_V1)!
        .healthyHosts(),
    ).toHaveLength(1);

    failing.status = 200;
    await eventually(
      () => mesh.stat('frontend', `${v1}outlier_detection.ejections_active`) === 0,
      30_000,
      'the return',
    );
    // Ejected for baseEjectionTime (10 s): not back before, whatever the sweeps in between.
    expect(Date.now() - ejectedAt).toBeGreaterThanOrEqual(9000);
    await load(mesh.backendUrl, 60, 1);
    expect(failing.hits).toBeGreaterThan(5);
  }, 90_000);

  it('ejects a pod that stopped answering after its per-try timeouts; then every request is answered by the others', async () => {
    const stopped = mesh.apps['backend-v1-1'].state;
    stopped.hang = true;
    const slow: number[] = [];
    let ejected = false;
    for (let i = 0; i < 200 && !ejected; i++) {
      const t0 = performance.now();
      const res = await fetch(`${mesh.backendUrl}/version`);
      expect(res.status).toBe(200);
      await res.text();
      if (performance.now() - t0 >= 1400) slow.push(i);
      ejected = mesh.stat('frontend', `cluster.${BACKEND_V1}.outlier_detection.ejections_active`) === 1;
    }
    expect(ejected).toBe(true);
    // Each try that went to the stopped pod waited out the 1.5 s per-try timeout, then another pod
    // answered (a busy machine may make other requests slow too, never fewer).
    expect(stopped.hits).toBe(5);
    expect(slow.length).toBeGreaterThanOrEqual(5);
    expect(mesh.stat('frontend', `cluster.${BACKEND_V1}.upstream_rq_per_try_timeout`)).toBeGreaterThanOrEqual(
      5,
    );
    const counts = await load(mesh.backendUrl, 40);
    expect(counts['HTTP 503'] ?? 0).toBe(0);
    expect(stopped.hits).toBe(5);
  }, 120_000);
});

describe('circuit breaking, faults and live configuration', () => {
  const policy = copyPolicy();
  let mesh: Mesh;
  let admin: Awaited<ReturnType<typeof startAdmin>>;
  let adminUrl: string;
  beforeAll(async () => {
    policy.edit('k8s/istio/destination-rule-backend.yaml', (text) =>
      text
        .replace('maxConnections: 100', 'maxConnections: 1')
        .replace('http1MaxPendingRequests: 50', 'http1MaxPendingRequests: 1'),
    );
    mesh = await startMesh(policy.root, 'canary-100');
    admin = await startAdmin(mesh.plane, 0);
    adminUrl = `http://127.0.0.1:${admin.port}`;
  }, 30_000);
  afterAll(async () => {
    await admin?.close();
    await mesh?.stop();
    policy.remove();
  });

  it('answers past the pool and its queue at once with 503 and x-envoy-overloaded, not retried', async () => {
    const v2 = mesh.apps['backend-v2-0'].state;
    // Under the per-try timeout (1.5 s): the one in flight and the one queued both get answered.
    v2.delayMs = 1000;
    const answers = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(`${mesh.backendUrl}/version`);
        return {
          status: res.status,
          overloaded: res.headers.get('x-envoy-overloaded'),
          body: await res.text(),
        };
      }),
    );
    v2.delayMs = 0;
    const overflowed = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(overflowed.length).toBeGreaterThan(0);
    for (const a of overflowed)
      expect(a).toMatchObject({ overloaded: 'true', body: expect.stringContaining('overflow') });
    expect(mesh.stat('frontend', `cluster.${BACKEND_V2}.upstream_rq_pending_overflow`)).toBe(
      overflowed.length,
    );
    expect(mesh.stat('frontend', `cluster.${BACKEND_V2}.upstream_rq_retry`)).toBe(0);
    expect(mesh.accessLog().filter((l) => l.response_flags === 'UO')).toHaveLength(overflowed.length);
  }, 30_000);

  it('follows an edit of the selected overlay, refuses a broken one and keeps the last good configuration', async () => {
    expect(await load(mesh.backendUrl, 20, 1)).toEqual({ '2.0.0': 20 });
    const version = mesh.plane.configStatus.version;
    policy.edit('k8s/overlays/canary-100/backend-weights.yaml', (text) =>
      text
        .replace(/(route\/0\/weight\n\s+value: )\d+/g, '$1100')
        .replace(/(route\/1\/weight\n\s+value: )\d+/g, '$10'),
    );
    await eventually(() => mesh.plane.configStatus.version > version, 20_000, 'the reload');
    expect(await load(mesh.backendUrl, 20, 1)).toEqual({ '1.0.0': 20 });

    const good = mesh.plane.configStatus.version;
    policy.edit('k8s/istio/virtual-service-backend.yaml', (text) =>
      text.replace('timeout: 4s', 'timeout: soon'),
    );
    await eventually(() => mesh.plane.configStatus.refused !== undefined, 20_000, 'the refusal');
    expect(mesh.plane.configStatus.version).toBe(good);
    expect(mesh.plane.configStatus.refused!.problems).toEqual([
      {
        file: 'k8s/istio/virtual-service-backend.yaml',
        field: 'spec.http[0].timeout',
        message:
          'must be a duration of at least 1ms, e.g. "1.5s", "30s", "250ms" (after the patch k8s/overlays/canary-100/backend-weights.yaml)',
      },
    ]);
    expect(mesh.lines).toContainEqual(
      expect.stringMatching(
        /^mesh: {3}k8s\/istio\/virtual-service-backend\.yaml: spec\.http\[0\]\.timeout: must be a duration/,
      ),
    );
    expect(await load(mesh.backendUrl, 10, 1)).toEqual({ '1.0.0': 10 });
    policy.edit('k8s/istio/virtual-service-backend.yaml', (text) =>
      text.replace('timeout: soon', 'timeout: 4s'),
    );
    await eventually(() => mesh.plane.configStatus.version > good, 20_000, 'the reload');
  }, 60_000);

  it('changes stage through the admin endpoint, and says why it refuses one', async () => {
    const moved = await fetch(`${adminUrl}/stage`, { method: 'POST', body: '50' });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({ stage: 'canary-50' });
    const counts = await load(mesh.backendUrl, 100, 1);
    expect(counts['1.0.0']).toBeGreaterThan(20);
    expect(counts['2.0.0']).toBeGreaterThan(20);
    const refused = await fetch(`${adminUrl}/stage?stage=canary-7`, { method: 'POST' });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      stage: 'canary-50',
      refused: { stage: 'canary-7', problems: [{ file: 'k8s/overlays/canary-7/kustomization.yaml' }] },
    });
    expect((await fetch(`${adminUrl}/stage`, { method: 'POST' })).status).toBe(400);
  });

  it("shows each proxy's statistics, clusters and certificate as Envoy's admin does", async () => {
    const stats = await (
      await fetch(`${adminUrl}/proxies/frontend/stats?filter=upstream_rq_pending_overflow`)
    ).text();
    expect(stats).toMatch(
      new RegExp(
        `^cluster\\.${BACKEND_V2.replace(/\|/g, '\\|').replace(/\./g, '\\.')}\\.upstream_rq_pending_overflow: \\d+$`,
        'm',
      ),
    );
    const clusters = await (await fetch(`${adminUrl}/proxies/frontend/clusters`)).text();
    expect(clusters).toMatch(
      new RegExp(`${BACKEND_V1.replace(/\|/g, '\\|')}::127\\.0\\.0\\.1:\\d+::hostname::backend-v1-0`),
    );
    expect(clusters).toContain(`${BACKEND_V1}::default_priority::max_connections::1`);
    const certs = (await (await fetch(`${adminUrl}/proxies/frontend/certs`)).json()) as {
      certificates: { cert_chain: { subject_alt_names: { uri: string }[] }[] }[];
    };
    expect(certs.certificates[0]!.cert_chain[0]!.subject_alt_names).toEqual([
      { uri: 'spiffe://cluster.local/ns/mesh-demo/sa/frontend' },
    ]);
    expect((await fetch(`${adminUrl}/proxies/nobody/stats`)).status).toBe(404);
    const bad = await fetch(`${adminUrl}/proxies/frontend/stats?filter=(`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'filter' });
  });

  it('injects the faults a route declares: an abort with its status, a delay', async () => {
    policy.edit('k8s/istio/virtual-service-backend.yaml', (text) =>
      text.replace(
        '      timeout: 4s\n      retries:\n        attempts: 2\n        perTryTimeout: 1.5s',
        '      fault:\n        abort:\n          httpStatus: 418\n          percentage:\n            value: 100\n      timeout: 4s\n      retries:\n        attempts: 2\n        perTryTimeout: 1.5s',
      ),
    );
    const version = mesh.plane.configStatus.version;
    await eventually(() => mesh.plane.configStatus.version > version, 20_000, 'the reload');
    const res = await fetch(`${mesh.backendUrl}/version`);
    expect(res.status).toBe(418);
    expect(await res.text()).toBe('fault filter abort');
    expect(mesh.accessLog().at(-1)).toMatchObject({ response_code: 418, response_flags: 'FI' });
    // Writes take the other route, which has no fault.
    expect((await fetch(`${mesh.backendUrl}/products`, { method: 'POST', body: '{}' })).status).toBe(200);
  }, 30_000);
});
