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
