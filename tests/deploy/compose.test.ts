/**
 * docker-compose.yml and envoy/ hold together. The sidecar configs in envoy/ are the render of the Istio
 * resources (k8s/istio with the canary-10 overlay): a test renders afresh and fails on any difference, so
 * a hand edit fails. What holds the deployment together is checked on top: what a sidecar's cluster names
 * exists and listens there, apps reach only their own sidecar, hops between sidecars are mTLS with the
 * certificates scripts/gen-certs.sh makes, the pods are k8s/base's. No Docker or Envoy runs here: the files
 * are read as compose and Envoy read them, and the scripts (render-envoy, gen-certs.sh, set-weights.sh,
 * envoy/admin.sh) are run for real.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
  COMPOSE,
  compareWithDir,
  DEFAULT_STAGE,
  listStages,
  loadMeshConfig,
  renderStage,
  resolveRoutes,
  sidecarName,
  virtualServiceFor,
} from '@twin/mesh';
import {
  ALLOWED_PUBLISHED,
  type Bootstrap,
  canary,
  checkAppEnv,
  checkCertMounts,
  checkClusterAddresses,
  checkDependsOn,
  checkDevCredentials,
  checkEnvoyInternals,
  checkExpose,
  checkMtls,
  checkPublishedPorts,
  checkRuntime,
  checkSidecarWiring,
  checkWeights,
  clone,
  COMPOSE_FILE,
  type ComposeService,
  endpointsOf,
  envOf,
  identity,
  identityOf,
  loadCompose,
  loadMesh,
  type Mesh,
  rbacOf,
  ROOT,
  routesOf,
  subjectAltNames,
} from './compose-mesh';
import { find, ofKind, renderOverlay, type ServiceSpec, type WorkloadSpec } from './manifests';

const GEN_CERTS = path.join(ROOT, 'scripts/gen-certs.sh');
const SET_WEIGHTS = path.join(ROOT, 'scripts/set-weights.sh');
const ADMIN = path.join(ROOT, 'envoy/admin.sh');
const RENDER_CLI = path.join(ROOT, 'packages/mesh/dist/envoy/cli.js');
const V1 = 'outbound|80|v1|backend.mesh-demo.svc.cluster.local';
const V2 = 'outbound|80|v2|backend.mesh-demo.svc.cluster.local';

let mesh: Mesh;
let certDir: string;
let generated: string[];

beforeAll(() => {
  mesh = loadMesh();
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-certs-'));
  execFileSync('bash', [GEN_CERTS, '--out', certDir], { encoding: 'utf8' });
  generated = fs.readdirSync(certDir).sort();
});

afterAll(() => fs.rmSync(certDir, { recursive: true, force: true }));

/** All the checks that need nothing but the mesh, as one list. */
function allChecks(m: Mesh, configDir?: string): string[] {
  return [
    ...checkSidecarWiring(m.compose, configDir),
    ...checkEnvoyInternals(m),
    ...checkWeights(m),
    ...checkExpose(m),
    ...checkClusterAddresses(m),
    ...checkAppEnv(m),
    ...checkMtls(m),
    ...checkCertMounts(m, generated),
    ...checkPublishedPorts(m.compose),
    ...checkDependsOn(m.compose),
    ...checkRuntime(m.compose),
  ];
}

const service = (m: Mesh, name: string): ComposeService => m.compose.services[name] as ComposeService;
/** The canary split by subset, e.g. { v1: 90, v2: 10 }. */
const canaryWeights = (m: Mesh): Record<string, number | undefined> =>
  Object.fromEntries(
    (canary(m)?.route.route?.weighted_clusters?.clusters ?? []).map((cluster) => [
      cluster.name.split('|')[2],
      cluster.weight,
    ]),
  );
const run = (file: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync('bash', [file, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('envoy/: the render of the Istio resources', () => {
  let copy: string;
  beforeEach(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'envoy-render-'));
    for (const file of fs.readdirSync(path.join(ROOT, 'envoy')).filter((f) => f.endsWith('.yaml')))
      fs.copyFileSync(path.join(ROOT, 'envoy', file), path.join(copy, file));
  });
  afterEach(() => fs.rmSync(copy, { recursive: true, force: true }));
  const check = (dir: string) =>
    spawnSync(process.execPath, [RENDER_CLI, '--check', '--out', dir], { encoding: 'utf8', cwd: ROOT });

  it(`equals a fresh render of ${DEFAULT_STAGE}, file for file`, () => {
    expect(compareWithDir(renderStage(ROOT, DEFAULT_STAGE), path.join(ROOT, 'envoy'), 'envoy')).toEqual([]);
    expect(
      Object.values(mesh.sidecars)
        .map((s) => s.file)
        .sort(),
    ).toEqual(COMPOSE.workloads.map((w) => `envoy/${w.name}.yaml`).sort());
  });

  it('fails the check on a hand edit, a missing file or a stray one, naming each', () => {
    expect(check(copy).status).toBe(0);
    const frontend = path.join(copy, 'frontend.yaml');
    fs.writeFileSync(
      frontend,
      fs.readFileSync(frontend, 'utf8').replace('per_try_timeout: 1.5s', 'per_try_timeout: 2s'),
    );
    fs.rmSync(path.join(copy, 'thumbnailer.yaml'));
    fs.writeFileSync(path.join(copy, 'backend.yaml'), 'node: { id: x }\n');
    const result = check(copy);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${path.relative(ROOT, frontend)} differs from a fresh render`);
    expect(result.stderr).toContain('thumbnailer.yaml is missing');
    expect(result.stderr).toContain('backend.yaml is not a rendered sidecar config');
    expect(result.stderr).toContain('run `npm run -s render-envoy`');
  });

  it('says in each file that it is generated, from what, and how to render it again', () => {
    for (const { file } of Object.values(mesh.sidecars)) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      expect(text).toMatch(/^# Envoy configuration of [a-z0-9-]+-envoy in docker-compose.yml/);
      expect(text).toContain(
        `from the Istio resources of k8s/istio with the overlay k8s/overlays/${DEFAULT_STAGE}; do not edit`,
      );
      expect(text).toContain('`npm run -s render-envoy`');
    }
  });

  it('renders every stage into configs that hold together with docker-compose.yml', () => {
    for (const stage of listStages(ROOT)) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `envoy-${stage}-`));
      try {
        const out = spawnSync(process.execPath, [RENDER_CLI, '--stage', stage, '--out', dir], {
          encoding: 'utf8',
        });
        expect(out.status).toBe(0);
        const m = loadMesh({ ENVOY_CONFIG_DIR: dir });
        expect({ stage, problems: allChecks(m, dir) }).toEqual({ stage, problems: [] });
        const backend = loadMeshConfig({ root: ROOT, stage }).virtualServices.find(
          (vs) => vs.metadata.name === 'backend',
        );
        const [split] = resolveRoutes(backend!).map((r) =>
          Object.fromEntries(r.destinations.filter((d) => d.weight > 0).map((d) => [d.subset, d.weight])),
        );
        expect({ stage, weights: canaryWeights(m) }).toEqual({ stage, weights: split });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('explains the CLI and refuses bad usage with exit 2', () => {
    const help = spawnSync(process.execPath, [RENDER_CLI, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run -s render-envoy/);
    const bad = spawnSync(process.execPath, [RENDER_CLI, '--canary', 'ten'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--canary: 'ten' is not a percentage");
    const unknown = spawnSync(process.execPath, [RENDER_CLI, '--stage', 'canary-7', '--out', copy], {
      encoding: 'utf8',
    });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no overlay named canary-7');
  });
});

describe('docker-compose.yml with the Envoy configs in envoy/', () => {
  it('has a sidecar for every service, running Envoy on its own rendered config', () => {
    expect(Object.keys(mesh.sidecars).sort()).toEqual(COMPOSE.workloads.map((w) => sidecarName(w)).sort());
    expect(checkSidecarWiring(mesh.compose)).toEqual([]);
  });

  it('has Envoy configs that are whole: admin on localhost, known clusters, traces and JSON access logs', () => {
    expect(checkEnvoyInternals(mesh)).toEqual([]);
  });

  it('points every cluster at a compose service it shares a network with, on a port that service listens on', () => {
    expect(checkClusterAddresses(mesh)).toEqual([]);
    expect(checkExpose(mesh)).toEqual([]);
    expect(checkWeights(mesh)).toEqual([]);
  });

  it('keeps each app alone with its sidecar, and every URL it is given names that sidecar', () => {
    expect(checkAppEnv(mesh)).toEqual([]);
    expect(service(mesh, 'frontend').environment).toMatchObject({
      BACKEND_URL: 'http://frontend-envoy:9080',
      AWS_ENDPOINT_URL_S3: 'http://frontend-envoy:9000',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://frontend-envoy:4318',
    });
  });

  it('runs both backend versions from one image, told apart by APP_VERSION', () => {
    const v1 = service(mesh, 'backend-v1');
    const v2 = service(mesh, 'backend-v2');
    expect(v1.build).toEqual({
      context: '.',
      dockerfile: 'services/Dockerfile',
      args: { SERVICE: 'backend' },
    });
    expect(v2.build).toEqual(v1.build);
    expect(v2.image).toBe(v1.image);
    expect(v1.environment?.APP_VERSION).toBe('1.0.0');
    expect(v2.environment?.APP_VERSION).toBe('2.0.0');
    for (const name of ['frontend', 'thumbnailer']) {
      expect(service(mesh, name).build).toEqual({
        context: '.',
        dockerfile: 'services/Dockerfile',
        args: { SERVICE: name },
      });
    }
  });

  it('uses mutual TLS between sidecars, MinIO webhook included, each end checking the other', () => {
    expect(checkMtls(mesh)).toEqual([]);
  });

  it('mounts every certificate a config reads, read-only, from what scripts/gen-certs.sh writes', () => {
    expect(checkCertMounts(mesh, generated)).toEqual([]);
  });

  it(`publishes only ${ALLOWED_PUBLISHED.join(', ')}`, () => {
    expect(checkPublishedPorts(mesh.compose)).toEqual([]);
  });

  it('orders start-up with depends_on that name real services and wait on real health checks', () => {
    expect(checkDependsOn(mesh.compose)).toEqual([]);
  });

  it('limits memory and sets restart policies and health checks', () => {
    expect(checkRuntime(mesh.compose)).toEqual([]);
  });

  it('marks dev credentials as overridable defaults', () => {
    expect(checkDevCredentials(fs.readFileSync(COMPOSE_FILE, 'utf8'))).toEqual([]);
  });

  it('writes none of the traffic policy itself: no weight, retry or ejection setting in docker-compose.yml', () => {
    const settings = fs.readFileSync(COMPOSE_FILE, 'utf8').replace(/#.*$/gm, '');
    expect(settings).not.toMatch(/weight|retry|outlier|consecutive|per_?try|circuit|eject/i);
  });
});

describe('against the cluster manifests (kubectl kustomize k8s/overlays/canary-10)', () => {
  const objects = renderOverlay(DEFAULT_STAGE);

  it("splits the backend with the stage's VirtualService weights", () => {
    const vs = find<{ http: { route: { destination: { subset: string }; weight?: number }[] }[] }>(
      objects,
      'VirtualService',
      'backend',
    );
    for (const route of vs?.spec.http ?? []) {
      const weights = Object.fromEntries(
        route.route.filter((r) => r.weight).map((r) => [r.destination.subset, r.weight]),
      );
      expect(weights).toEqual(canaryWeights(mesh));
    }
    expect(Object.keys(canaryWeights(mesh)).length).toBeGreaterThan(0);
  });

  it("runs the pods of k8s/base: each workload's labels, service account, ports and Service port", () => {
    for (const workload of COMPOSE.workloads) {
      const deployment = find<WorkloadSpec>(objects, 'Deployment', workload.name);
      expect({ name: workload.name, labels: deployment?.spec.template.metadata?.labels }).toEqual({
        name: workload.name,
        labels: workload.labels,
      });
      expect(deployment?.spec.template.spec.serviceAccountName).toBe(workload.serviceAccount);
      expect(deployment?.spec.template.spec.containers[0]?.ports?.map((p) => p.containerPort)).toEqual([
        workload.appPort,
      ]);
      expect(Number(envOf(service(mesh, workload.name)).PORT)).toBe(workload.appPort);
    }
    for (const { host, port } of COMPOSE.services) {
      const svc = find<ServiceSpec>(objects, 'Service', host);
      expect({ host, ports: svc?.spec.ports.map((p) => p.port) }).toEqual({
        host,
        ports: expect.arrayContaining([port]),
      });
    }
    expect(ofKind(objects, 'ServiceAccount').map((sa) => sa.metadata.name)).toEqual(
      expect.arrayContaining([...new Set(COMPOSE.workloads.map((w) => w.serviceAccount))]),
    );
  });

  it("gives the frontend k8s's backend deadline, longer than every backend route's timeout", () => {
    const k8s = find<WorkloadSpec>(
      objects,
      'Deployment',
      'frontend',
    )?.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'BACKEND_TIMEOUT_MS')?.value;
    const compose = envOf(service(mesh, 'frontend')).BACKEND_TIMEOUT_MS;
    expect(compose).toBe(k8s);
    const config = loadMeshConfig({ root: ROOT, stage: DEFAULT_STAGE });
    const timeouts = resolveRoutes(virtualServiceFor(config, 'backend', COMPOSE.namespace)!).map(
      (r) => r.timeoutMs ?? Infinity,
    );
    expect(Number(compose)).toBeGreaterThan(Math.max(...timeouts));
  });
});

// ---------------------------------------------------------------- the checks catch breakage

describe('the checks report what breaks', () => {
  const broken = (change: (m: Mesh) => void): Mesh => {
    const copy = clone(mesh);
    change(copy);
    return copy;
  };
  const config = (m: Mesh, sidecar: string): Bootstrap =>
    (m.sidecars[sidecar] as { config: Bootstrap }).config;
  const clusterNamed = (m: Mesh, sidecar: string, name: string) =>
    config(m, sidecar).static_resources.clusters.find((c) => c.name === name);
  const listenerNamed = (m: Mesh, sidecar: string, name: string) =>
    config(m, sidecar).static_resources.listeners.find((l) => l.name === name);
  const canaryRoute = (m: Mesh) => canary(m)?.route.route;
  const MINIO = 'outbound|9000||minio.mesh-demo.svc.cluster.local';

  it('a weight that no longer adds up to 100', () => {
    const m = broken((copy) => {
      const weighted = canaryRoute(copy)?.weighted_clusters?.clusters[0];
      if (weighted) weighted.weight = 80;
    });
    expect(checkWeights(m)).toEqual([expect.stringMatching(/weights add up to 90, not 100/)]);
  });

  it('a weighted cluster name that matches no cluster', () => {
    const m = broken((copy) => {
      const weighted = canaryRoute(copy)?.weighted_clusters?.clusters[1];
      if (weighted) weighted.name = 'backend-v3';
    });
    expect(checkWeights(m)).toEqual([expect.stringMatching(/unknown cluster 'backend-v3'/)]);
    expect(checkEnvoyInternals(m)).toEqual([expect.stringMatching(/unknown cluster 'backend-v3'/)]);
  });

  it('a route to a cluster that does not exist', () => {
    const m = broken((copy) => {
      const listener = listenerNamed(copy, 'frontend-envoy', 'outbound_0.0.0.0_9000');
      const route = listener && routesOf(listener)[0]?.route;
      if (route) route.cluster = 'minio-typo';
    });
    expect(checkEnvoyInternals(m)).toEqual([
      expect.stringMatching(/outbound_0.0.0.0_9000 sends to unknown cluster 'minio-typo'/),
    ]);
  });

  it('a cluster port the target does not listen on', () => {
    const m = broken((copy) => {
      const endpoint = endpointsOf(clusterNamed(copy, 'frontend-envoy', V2) ?? { name: '' })[0];
      if (endpoint) endpoint.port_value = 8444;
    });
    expect(checkClusterAddresses(m)).toEqual([
      `frontend-envoy: cluster ${V2} points at backend-v2-envoy:8444, but backend-v2-envoy listens on 8443, 8000, 4318`,
    ]);
  });

  it('a cluster address that is no compose service, or one on another network', () => {
    const m = broken((copy) => {
      const minio = endpointsOf(clusterNamed(copy, 'frontend-envoy', MINIO) ?? { name: '' })[0];
      if (minio) minio.address = 'minio-old';
      const app = endpointsOf(clusterNamed(copy, 'backend-v1-envoy', 'inbound|8080||') ?? { name: '' })[0];
      if (app) app.address = 'thumbnailer';
    });
    expect(checkClusterAddresses(m)).toEqual([
      `frontend-envoy: cluster ${MINIO} points at 'minio-old', which is no compose service`,
      'backend-v1-envoy: cluster inbound|8080|| points at thumbnailer, on no network backend-v1-envoy is on',
    ]);
    expect(checkAppEnv(m)).toEqual(
      expect.arrayContaining([
        'backend-v1-envoy: no cluster reaches backend-v1:8080',
        'backend-v1-envoy: reaches thumbnailer past its sidecar',
      ]),
    );
  });

  it('a listener that expose does not list', () => {
    const m = broken((copy) => {
      service(copy, 'backend-v2-envoy').expose = ['8443', '4318'];
    });
    expect(checkExpose(m)).toEqual([
      expect.stringMatching(/backend-v2-envoy: listens on 8000 but does not expose it/),
    ]);
  });

  it('an app that talks past its sidecar, or shares its network', () => {
    const m = broken((copy) => {
      const env = service(copy, 'thumbnailer').environment as Record<string, string>;
      env.AWS_ENDPOINT_URL_S3 = 'http://minio:9000';
      service(copy, 'frontend').networks = ['pod-frontend', 'mesh'];
    });
    expect(checkAppEnv(m)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/frontend: should be on its pod network only/),
        expect.stringMatching(
          /thumbnailer: AWS_ENDPOINT_URL_S3=http:\/\/minio:9000 should name its own sidecar thumbnailer-envoy/,
        ),
      ]),
    );
  });

  it('an app URL that reaches the wrong service', () => {
    const m = broken((copy) => {
      (service(copy, 'frontend').environment as Record<string, string>).BACKEND_URL =
        'http://frontend-envoy:9000';
    });
    expect(checkAppEnv(m)).toEqual([
      expect.stringMatching(/BACKEND_URL=.* reaches minio, expected some of backend-v1, backend-v2/),
    ]);
  });

  it('a hop between sidecars without mTLS, or with an identity the other end does not admit', () => {
    const plain = broken((copy) => {
      const cluster = clusterNamed(copy, 'frontend-envoy', V1);
      if (cluster) delete cluster.transport_socket;
    });
    expect(checkMtls(plain)).toEqual([
      `frontend-envoy: cluster ${V1} reaches sidecar backend-v1-envoy without a client certificate`,
    ]);
    const stranger = broken((copy) => {
      const certificate = clusterNamed(copy, 'frontend-envoy', V2)?.transport_socket?.typed_config
        .common_tls_context?.tls_certificates?.[0]?.certificate_chain;
      if (certificate) certificate.filename = '/etc/envoy/certs/thumbnailer.crt';
    });
    expect(checkMtls(stranger)).toEqual([
      `frontend-envoy: cluster ${V2} presents ${identity('thumbnailer')}, which no authorization policy of backend-v2-envoy:8443 names`,
    ]);
    const impostor = broken((copy) => {
      const matcher = clusterNamed(copy, 'frontend-envoy', V1)?.transport_socket?.typed_config
        .common_tls_context?.validation_context?.match_typed_subject_alt_names?.[0]?.matcher;
      if (matcher) matcher.exact = identity('thumbnailer');
    });
    expect(checkMtls(impostor)).toEqual([
      `frontend-envoy: cluster ${V1} accepts ${identity('thumbnailer')}, but backend-v1-envoy presents ${identity('backend')}`,
    ]);
    const open = broken((copy) => {
      const chain = listenerNamed(copy, 'thumbnailer-envoy', 'inbound_0.0.0.0_8443')?.filter_chains[0];
      if (chain) delete chain.transport_socket;
    });
    expect(checkMtls(open)).toEqual(
      expect.arrayContaining([
        'thumbnailer-envoy: inbound listener inbound_0.0.0.0_8443 is not mTLS only',
        'minio: webhook thumbnailer: thumbnailer-envoy:8443 does not terminate TLS',
      ]),
    );
  });

  it("a webhook call the thumbnailer's authorization policies refuse", () => {
    const m = broken((copy) => {
      const listener = listenerNamed(copy, 'thumbnailer-envoy', 'inbound_0.0.0.0_8443');
      const rules = listener ? rbacOf(listener)[0] : undefined;
      const policies = (rules?.policies ?? {}) as Record<string, { permissions: unknown[] }>;
      for (const policy of Object.values(policies))
        policy.permissions = [{ header: { name: ':method', string_match: { exact: 'PUT' } } }];
    });
    expect(checkMtls(m)).toEqual([
      `minio: webhook thumbnailer: POST /events from ${identity('minio')} is refused by the authorization policies of thumbnailer-envoy`,
    ]);
  });

  it('a certificate the config reads that is not mounted, or not from gen-certs.sh', () => {
    const m = broken((copy) => {
      const sidecar = service(copy, 'backend-v1-envoy');
      sidecar.volumes = (sidecar.volumes ?? []).filter(
        (v) => typeof v === 'string' || !v.target.endsWith('backend.key'),
      );
    });
    expect(checkCertMounts(m, generated)).toEqual([
      'backend-v1-envoy: reads /etc/envoy/certs/backend.key, which is not mounted',
    ]);
    expect(
      checkCertMounts(
        mesh,
        generated.filter((f) => f !== 'ca.crt'),
      ),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /frontend-envoy: \/etc\/envoy\/certs\/ca.crt is not a file scripts\/gen-certs.sh writes/,
        ),
      ]),
    );
  });

  it('a published port beyond the three allowed', () => {
    const m = broken((copy) => {
      service(copy, 'dynamodb-local').ports = ['8000:8000'];
    });
    expect(checkPublishedPorts(m.compose)).toEqual([
      'dynamodb-local: publishes 8000, which must stay inside',
      'dynamodb-local: publishes 8000 on all interfaces, not 127.0.0.1',
    ]);
  });

  it('depends_on a missing service, or on health that nothing checks', () => {
    const m = broken((copy) => {
      service(copy, 'frontend').depends_on = {
        backend: { condition: 'service_started' },
        'minio-init': { condition: 'service_healthy' },
      };
    });
    expect(checkDependsOn(m.compose)).toEqual([
      "frontend: depends on 'backend', which is no service",
      'frontend: waits for minio-init to be healthy, but minio-init has no health check',
    ]);
  });

  it("a sidecar that mounts no config, or another app's", () => {
    const compose = loadCompose();
    const thumbnailer = compose.services['thumbnailer-envoy'] as ComposeService;
    thumbnailer.volumes = (thumbnailer.volumes ?? []).filter(
      (v) => typeof v === 'string' || v.target !== '/etc/envoy/envoy.yaml',
    );
    const v2 = (compose.services['backend-v2-envoy'] as ComposeService).volumes ?? [];
    for (const volume of v2)
      if (typeof volume !== 'string' && volume.target === '/etc/envoy/envoy.yaml')
        volume.source = './envoy/backend-v1.yaml';
    expect(checkSidecarWiring(compose)).toEqual([
      'backend-v2-envoy: /etc/envoy/envoy.yaml should be ./envoy/backend-v2.yaml, read-only',
      'thumbnailer-envoy: /etc/envoy/envoy.yaml is not mounted',
    ]);
  });

  it('a secret that cannot be overridden', () => {
    expect(checkDevCredentials('      MINIO_ROOT_PASSWORD: hunter22\n')).toEqual([
      "MINIO_ROOT_PASSWORD: 'hunter22' cannot be overridden from the environment",
    ]);
  });
});

// ---------------------------------------------------------------- the scripts, run for real

describe('scripts/set-weights.sh', () => {
  it.each([
    [['50', '50'], 'canary-50', /-\s+weight: 90\n\+\s+weight: 50\n/],
    [['--canary', '100'], 'canary-100', /-\s+weight: 10\n\+\s+weight: 100\n/],
  ])('--dry-run %j renders %s and would recreate only the frontend sidecar', (args, stage, change) => {
    const result = run(SET_WEIGHTS, ['--dry-run', ...args]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      `# stage ${stage} (k8s/overlays/${stage}), compared with the configs in envoy/`,
    );
    expect(result.stdout).toContain('--- envoy/frontend.yaml\n+++ envoy/stage/frontend.yaml');
    expect(result.stdout).not.toContain('backend-v1.yaml');
    expect(result.stdout).toMatch(change);
    expect(result.stdout).toContain(
      '# would run: ENVOY_CONFIG_DIR=./envoy/stage docker compose up -d --no-deps --force-recreate --wait frontend-envoy',
    );
  });

  it('changes nothing for the stage compose already runs', () => {
    const result = run(SET_WEIGHTS, ['--dry-run', '90', '10']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      '# stage canary-10 (k8s/overlays/canary-10): no sidecar config changes, nothing to recreate\n',
    );
  });

  it.each([
    [
      ['60', '40'],
      /no stage under k8s\/overlays\/ splits the backend 60\/40; the stages: canary-0 v1=100 v2=0; canary-10 v1=90 v2=10; canary-100 v1=0 v2=100; canary-50 v1=50 v2=50/,
    ],
    [['60', '50'], /must add up to 100, got 60 \+ 50 = 110/],
    [['abc', '10'], /'abc' is not a whole number from 0 to 100/],
    [['101', '0'], /'101' is not a whole number/],
    [['90'], /expected two weights/],
    [['--canary', '7'], /k8s\/overlays\/canary-7 does not exist/],
    [['--canary', '50', '50', '50'], /give --canary STAGE or V1 V2, not both/],
  ])('refuses %j', (args, message) => {
    const result = run(SET_WEIGHTS, ['--dry-run', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('explains itself with --help', () => {
    const result = run(SET_WEIGHTS, ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /ENVOY_CONFIG_DIR=.\/envoy\/stage docker compose up -d --no-deps --force-recreate --wait/,
    );
  });
});

describe('envoy/admin.sh', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ready') res.end('LIVE\n');
      else if (req.url === '/stats?filter=outlier_detection')
        res.end('cluster.backend-v2.outlier_detection.ejections_active: 1\n');
      else res.writeHead(503).end('DRAINING\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const admin = (arg: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        [ADMIN, arg],
        { env: { ...process.env, ENVOY_ADMIN_PORT: String(port) } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      );
    });

  it('prints the body of a 200 and succeeds: the sidecar health check', async () => {
    expect(await admin('ready')).toEqual({ code: 0, stdout: 'LIVE\n', stderr: '' });
    expect((await admin('stats?filter=outlier_detection')).stdout).toBe(
      'cluster.backend-v2.outlier_detection.ejections_active: 1\n',
    );
  });

  it('fails on any other status', async () => {
    const result = await admin('server_info');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\/server_info answered HTTP\/1.1 503/);
  });
});

describe('scripts/gen-certs.sh', () => {
  // Per service account: the sidecars that present it, which peers dial by name; MinIO's webhook is a client.
  const identities: Record<string, string[]> = { minio: ['minio'] };
  for (const workload of COMPOSE.workloads)
    (identities[workload.serviceAccount] ??= []).push(sidecarName(workload));

  it('writes a CA and one certificate per identity that openssl verifies against it', () => {
    expect(generated).toEqual(
      ['ca.crt', 'ca.key', ...Object.keys(identities).flatMap((id) => [`${id}.crt`, `${id}.key`])].sort(),
    );
    for (const id of Object.keys(identities)) {
      const verify = execFileSync(
        'openssl',
        ['verify', '-CAfile', path.join(certDir, 'ca.crt'), path.join(certDir, `${id}.crt`)],
        {
          encoding: 'utf8',
        },
      );
      expect(verify.trim()).toBe(`${path.join(certDir, `${id}.crt`)}: OK`);
    }
    expect(fs.statSync(path.join(certDir, 'ca.key')).mode & 0o777).toBe(0o600);
  });

  it("puts Istio's SPIFFE ID and the DNS names peers dial in each certificate, for client and server use", () => {
    for (const [id, names] of Object.entries(identities)) {
      const file = path.join(certDir, `${id}.crt`);
      expect(subjectAltNames(file)).toEqual([`URI:${identity(id)}`, ...names.map((name) => `DNS:${name}`)]);
      expect(identity(id)).toBe(`spiffe://cluster.local/ns/mesh-demo/sa/${id}`);
      const usage = execFileSync('openssl', ['x509', '-in', file, '-noout', '-ext', 'extendedKeyUsage'], {
        encoding: 'utf8',
      });
      expect(usage).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    }
  });

  it('makes the identities the rendered configs expect of peers and the authorization policies name', () => {
    const issued = Object.keys(identities).flatMap((id) => subjectAltNames(path.join(certDir, `${id}.crt`)));
    const text = Object.values(mesh.sidecars)
      .map(({ file }) => fs.readFileSync(path.join(ROOT, file), 'utf8'))
      .join('\n');
    const expected = [...new Set(text.match(/spiffe:\/\/[a-z0-9./-]+/g))];
    expect(expected.length).toBeGreaterThanOrEqual(3);
    for (const id of expected) expect(issued).toContain(`URI:${id}`);
    // Each sidecar's certificate is the one its peers expect of it.
    for (const { config } of Object.values(mesh.sidecars)) {
      for (const cluster of config.static_resources.clusters) {
        const context = cluster.transport_socket?.typed_config;
        if (!context) continue;
        const target = endpointsOf(cluster)[0]?.address as string;
        const inbound = mesh.sidecars[target]?.config.static_resources.listeners.find((l) =>
          l.name.startsWith('inbound_'),
        );
        const presented = identityOf(inbound?.filter_chains[0]?.transport_socket?.typed_config);
        for (const san of context.common_tls_context?.validation_context?.match_typed_subject_alt_names ?? [])
          expect(presented).toBe(san.matcher?.exact);
      }
    }
    const webhook = new URL(
      String(service(mesh, 'minio').environment?.MINIO_NOTIFY_WEBHOOK_ENDPOINT_thumbnailer),
    );
    expect(subjectAltNames(path.join(certDir, 'thumbnailer.crt'))).toContain(`DNS:${webhook.hostname}`);
  });

  it('makes certificates that complete a mutual TLS handshake, and a client without one is refused', async () => {
    const read = (name: string) => fs.readFileSync(path.join(certDir, name));
    const server = tls.createServer({
      key: read('backend.key'),
      cert: read('backend.crt'),
      ca: read('ca.crt'),
      requestCert: true,
      rejectUnauthorized: true,
    });
    const peers: string[] = [];
    server.on('secureConnection', (socket) => {
      peers.push(String(socket.getPeerCertificate().subjectaltname));
      socket.end('hello');
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const connect = (options: tls.ConnectionOptions) =>
      new Promise<string>((resolve) => {
        let data = '';
        const socket = tls.connect({
          host: '127.0.0.1',
          port,
          servername: 'backend-v1-envoy',
          ca: read('ca.crt'),
          ...options,
        });
        socket.on('data', (chunk) => (data += chunk));
        socket.on('error', (err) => resolve(`error: ${err.message}`));
        socket.on('close', () => resolve(data));
      });
    try {
      expect(await connect({ key: read('frontend.key'), cert: read('frontend.crt') })).toBe('hello');
      expect(peers).toEqual([`URI:${identity('frontend')}, DNS:frontend-envoy`]);
      expect(await connect({})).toMatch(/^error: .*(certificate required|alert|ECONNRESET|socket hang up)/i);
      expect(peers).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('keeps existing certificates unless --force, and explains itself', () => {
    const before = fs.readFileSync(path.join(certDir, 'frontend.crt'), 'utf8');
    const again = run(GEN_CERTS, ['--out', certDir]);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already in .* \(use --force to replace them\)/);
    expect(fs.readFileSync(path.join(certDir, 'frontend.crt'), 'utf8')).toBe(before);

    const forced = run(GEN_CERTS, ['--out', certDir, '--force', '--days', '30']);
    expect(forced.status).toBe(0);
    expect(fs.readFileSync(path.join(certDir, 'frontend.crt'), 'utf8')).not.toBe(before);

    expect(run(GEN_CERTS, ['--help']).stdout).toMatch(/^Usage: scripts\/gen-certs.sh/);
    const wrong = run(GEN_CERTS, ['--bogus']);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/unknown argument '--bogus'/);
  });
});
