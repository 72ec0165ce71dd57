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
    // A short ejection, so that the return is seen within the test.
    policy.edit('k8s/istio/destination-rule-backend.yaml', (text) =>
      text
        .replace('interval: 10s', 'interval: 500ms')
        .replace('baseEjectionTime: 30s', 'baseEjectionTime: 3s'),
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
    for (let i = 0; i < 120; i++) {
      const res = await fetch(`${mesh.backendUrl}/version`);
      answers.push(res.status);
      await res.text();
      if (!ejectedAt && mesh.stat('frontend', `${v1}outlier_detection.ejections_active`) === 1)
        ejectedAt = Date.now();
    }
    // Reads are retried on another v1 pod (previous hosts), so no caller sees the failures.
    expect(answers.filter((status) => status !== 200)).toEqual([]);
    expect(failing.hits).toBe(5);
    expect(ejectedAt).toBeGreaterThan(0);
    expect(mesh.stat('frontend', `${v1}outlier_detection.ejections_active`)).toBe(1);
    expect(mesh.stat('frontend', `${v1}outlier_detection.ejections_enforced_total`)).toBe(1);
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
    // Ejected for baseEjectionTime (3 s): not back before, whatever the sweeps in between.
    expect(Date.now() - ejectedAt).toBeGreaterThanOrEqual(2000);
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
    // Each try that went to the stopped pod waited out the 1.5 s per-try timeout, then another pod answered.
    expect(stopped.hits).toBe(5);
    expect(slow).toHaveLength(5);
    expect(mesh.stat('frontend', `cluster.${BACKEND_V1}.upstream_rq_per_try_timeout`)).toBeGreaterThanOrEqual(
      5,
    );
    const counts = await load(mesh.backendUrl, 40);
    expect(counts['HTTP 503'] ?? 0).toBe(0);
    expect(stopped.hits).toBe(5);
  }, 120_000);
});
