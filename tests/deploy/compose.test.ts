/**
 * docker-compose.yml and envoy/ hold together: what a sidecar's cluster names exists and listens there, apps
 * reach only their own sidecar, hops between sidecars are mTLS with the certificates scripts/gen-certs.sh
 * makes, the canary's weights, circuit breaker and retries are Istio's. No Docker or Envoy runs here: the
 * files are read as compose and Envoy read them, and the scripts (gen-certs.sh, set-weights.sh, envoy/*.sh)
 * are run for real.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import YAML from 'yaml';
import {
  AGREED_POLICY,
  AGREED_ROUTE,
  ALLOWED_PUBLISHED,
  type Bootstrap,
  canary,
  checkAppEnv,
  checkCertMounts,
  checkCircuitBreakers,
  checkClusterAddresses,
  checkDependsOn,
  checkDevCredentials,
  checkEnvoyInternals,
  checkExpose,
  checkMtls,
  checkPublishedPorts,
  checkRoutePolicy,
  checkRuntime,
  checkSidecarWiring,
  checkWeights,
  clone,
  COMPOSE_FILE,
  type ComposeService,
  endpointsOf,
  identityOf,
  type IstioTrafficPolicy,
  loadCompose,
  loadMesh,
  type Mesh,
  renderTemplate,
  ROOT,
  routesOf,
  SPIFFE_PREFIX,
  subjectAltNames,
  weightDefaults,
} from './compose-mesh';

const GEN_CERTS = path.join(ROOT, 'scripts/gen-certs.sh');
const SET_WEIGHTS = path.join(ROOT, 'scripts/set-weights.sh');
const ADMIN = path.join(ROOT, 'envoy/admin.sh');

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
function allChecks(m: Mesh): string[] {
  return [
    ...checkSidecarWiring(m.compose),
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
    ...checkCircuitBreakers(m, () => AGREED_POLICY),
    ...checkRoutePolicy(m, AGREED_ROUTE),
  ];
}

const frontend = (m: Mesh): Bootstrap => (m.sidecars['frontend-envoy'] as { config: Bootstrap }).config;
const service = (m: Mesh, name: string): ComposeService => m.compose.services[name] as ComposeService;
const canaryWeights = (m: Mesh): Record<string, number | undefined> =>
  Object.fromEntries(
    (canary(m)?.route.route?.weighted_clusters?.clusters ?? []).map((cluster) => [
      cluster.name,
      cluster.weight,
    ]),
  );

describe('docker-compose.yml with the Envoy configs in envoy/', () => {
  it('has a sidecar for every service, started from its template by envoy/start.sh', () => {
    expect(Object.keys(mesh.sidecars).sort()).toEqual([
      'backend-v1-envoy',
      'backend-v2-envoy',
      'frontend-envoy',
      'thumbnailer-envoy',
    ]);
    expect(checkSidecarWiring(mesh.compose)).toEqual([]);
  });

  it('has Envoy configs that are whole: admin on localhost, known clusters, traces and JSON access logs', () => {
    expect(checkEnvoyInternals(mesh)).toEqual([]);
  });

  it('splits the backend 90/10 by default, in compose and in the template alike', () => {
    expect(checkWeights(mesh)).toEqual([]);
    expect(canaryWeights(mesh)).toEqual({ 'backend-v1': 90, 'backend-v2': 10 });
    const template = fs.readFileSync(path.join(ROOT, 'envoy/frontend.yaml'), 'utf8');
    const compose = fs.readFileSync(COMPOSE_FILE, 'utf8');
    expect(weightDefaults(compose)).toEqual(weightDefaults(template));
    expect(weightDefaults(template)).toEqual({ BACKEND_V1_WEIGHT: '90', BACKEND_V2_WEIGHT: '10' });
  });

  it('points every cluster at a compose service it shares a network with, on a port that service listens on', () => {
    expect(checkClusterAddresses(mesh)).toEqual([]);
    expect(checkExpose(mesh)).toEqual([]);
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
    expect(v1.build).toEqual({ context: '.', dockerfile: 'services/backend/Dockerfile' });
    expect(v2.build).toEqual(v1.build);
    expect(v2.image).toBe(v1.image);
    expect(v1.environment?.APP_VERSION).toBe('1.0.0');
    expect(v2.environment?.APP_VERSION).toBe('2.0.0');
    for (const name of ['frontend', 'thumbnailer']) {
      expect(service(mesh, name).build).toEqual({ context: '.', dockerfile: `services/${name}/Dockerfile` });
    }
  });

  it('uses mutual TLS between sidecars, MinIO webhook included, with an identity check on both ends', () => {
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

  it('gives the canary clusters the agreed Istio circuit breaker and outlier detection', () => {
    expect(checkCircuitBreakers(mesh, () => AGREED_POLICY)).toEqual([]);
  });

  it('gives the canary route the agreed timeout and bounded retries', () => {
    expect(checkRoutePolicy(mesh, AGREED_ROUTE)).toEqual([]);
  });
});

// ---------------------------------------------------------------- against the Istio side

const OVERLAY = path.join(ROOT, 'k8s/overlays/canary-10');
const istioSkip = !fs.existsSync(path.join(ROOT, 'k8s'))
  ? 'k8s/ does not exist yet'
  : !fs.existsSync(OVERLAY)
    ? 'k8s/overlays/canary-10 does not exist yet'
    : undefined;

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec: {
    host?: string;
    hosts?: string[];
    trafficPolicy?: IstioTrafficPolicy;
    subsets?: Array<{ name: string; trafficPolicy?: IstioTrafficPolicy }>;
    http?: Array<{
      name?: string;
      route?: Array<{ destination: { host: string; subset?: string }; weight?: number }>;
    }>;
  };
}

const short = (host: string | undefined) => (host ?? '').split('.')[0];

describe(`against the rendered Istio config (${istioSkip ? `skipped: ${istioSkip}` : 'kubectl kustomize k8s/overlays/canary-10'})`, () => {
  const maybe = istioSkip ? it.skip : it;
  let objects: K8sObject[] = [];

  beforeAll(() => {
    if (istioSkip) return;
    const rendered = execFileSync('kubectl', ['kustomize', OVERLAY], { encoding: 'utf8' });
    objects = YAML.parseAllDocuments(rendered)
      .map((doc) => doc.toJS() as K8sObject)
      .filter(Boolean);
  });

  maybe(
    "matches the backend DestinationRule's connection pool and outlier detection, subset by subset",
    () => {
      const rule = objects.find((o) => o.kind === 'DestinationRule' && short(o.spec.host) === 'backend');
      expect(rule).toBeDefined();
      const policyFor = (cluster: string): IstioTrafficPolicy | undefined => {
        const subset = rule?.spec.subsets?.find((s) => `backend-${s.name}` === cluster);
        return subset && { ...rule?.spec.trafficPolicy, ...subset.trafficPolicy };
      };
      expect(checkCircuitBreakers(mesh, policyFor)).toEqual([]);
    },
  );

  maybe("splits traffic with the canary-10 VirtualService's weights", () => {
    const service = objects.find(
      (o) => o.kind === 'VirtualService' && (o.spec.hosts ?? []).map(short).includes('backend'),
    );
    expect(service).toBeDefined();
    for (const route of service?.spec.http ?? []) {
      const weights = Object.fromEntries(
        (route.route ?? []).map((r) => [
          `backend-${r.destination.subset}`,
          r.weight ?? (route.route?.length === 1 ? 100 : 0),
        ]),
      );
      expect({ route: route.name, weights }).toEqual({ route: route.name, weights: canaryWeights(mesh) });
    }
  });
});

// ---------------------------------------------------------------- the checks catch breakage

describe('the checks report what breaks', () => {
  const broken = (change: (m: Mesh) => void): Mesh => {
    const copy = clone(mesh);
    change(copy);
    return copy;
  };
  const clusterNamed = (m: Mesh, sidecar: string, name: string) =>
    m.sidecars[sidecar]?.config.static_resources.clusters.find((c) => c.name === name);
  const canaryRoute = (m: Mesh) => canary(m)?.route.route;

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
      const listener = frontend(copy).static_resources.listeners.find((l) => l.name === 'outbound_minio');
      const route = listener && routesOf(listener)[0]?.route;
      if (route) route.cluster = 'minio-typo';
    });
    expect(checkEnvoyInternals(m)).toEqual([
      expect.stringMatching(/outbound_minio sends to unknown cluster 'minio-typo'/),
    ]);
  });

  it('a cluster port the target does not listen on', () => {
    const m = broken((copy) => {
      const endpoint = endpointsOf(clusterNamed(copy, 'frontend-envoy', 'backend-v2') ?? { name: '' })[0];
      if (endpoint) endpoint.port_value = 8444;
    });
    expect(checkClusterAddresses(m)).toEqual([
      expect.stringMatching(
        /cluster backend-v2 points at backend-v2-envoy:8444, but backend-v2-envoy listens on 8443, 8000, 4318/,
      ),
    ]);
  });

  it('a cluster address that is no compose service, or one on another network', () => {
    const m = broken((copy) => {
      const minio = endpointsOf(clusterNamed(copy, 'frontend-envoy', 'minio') ?? { name: '' })[0];
      if (minio) minio.address = 'minio-old';
      const dynamo = endpointsOf(clusterNamed(copy, 'backend-v1-envoy', 'local_app') ?? { name: '' })[0];
      if (dynamo) dynamo.address = 'thumbnailer';
    });
    expect(checkClusterAddresses(m)).toEqual([
      expect.stringMatching(
        /frontend-envoy: cluster minio points at 'minio-old', which is no compose service/,
      ),
      expect.stringMatching(/backend-v1-envoy: cluster local_app points at thumbnailer, on no network/),
    ]);
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
      expect.stringMatching(/BACKEND_URL=.* reaches minio, expected backend-v1, backend-v2/),
    ]);
  });

  it("outlier detection or circuit breaker values that are not Istio's", () => {
    const m = broken((copy) => {
      const cluster = clusterNamed(copy, 'frontend-envoy', 'backend-v1');
      if (cluster?.outlier_detection) cluster.outlier_detection.consecutive_5xx = 3;
      const thresholds = clusterNamed(copy, 'frontend-envoy', 'backend-v2')?.circuit_breakers
        ?.thresholds?.[0];
      if (thresholds) thresholds.max_pending_requests = 1024;
    });
    expect(checkCircuitBreakers(m, () => AGREED_POLICY)).toEqual([
      "frontend-envoy: cluster backend-v1 consecutive_5xx is 3, Istio's would be 5",
      "frontend-envoy: cluster backend-v2 max_pending_requests is 1024, Istio's would be 50",
    ]);
    const withoutGateway: IstioTrafficPolicy = {
      ...AGREED_POLICY,
      outlierDetection: { ...AGREED_POLICY.outlierDetection, consecutiveGatewayErrors: undefined },
    };
    expect(checkCircuitBreakers(mesh, () => withoutGateway)).toContain(
      "frontend-envoy: cluster backend-v1 enforcing_consecutive_gateway_failure is 100, Istio's would be 0",
    );
  });

  it('a single-host subset that could never be ejected', () => {
    const m = broken((copy) => {
      const cluster = clusterNamed(copy, 'frontend-envoy', 'backend-v2');
      if (cluster?.outlier_detection) delete cluster.outlier_detection.always_eject_one_host;
    });
    expect(checkCircuitBreakers(m, () => AGREED_POLICY)).toEqual([
      expect.stringMatching(/backend-v2 .* needs always_eject_one_host/),
    ]);
  });

  it("retries or a timeout that are not the VirtualService's", () => {
    const m = broken((copy) => {
      const route = canaryRoute(copy);
      if (route?.retry_policy) route.retry_policy.num_retries = 5;
      if (route) route.timeout = '15s';
    });
    expect(checkRoutePolicy(m, AGREED_ROUTE)).toEqual([
      expect.stringMatching(/timeout is 15s, not 5s/),
      expect.stringMatching(/num_retries is 5, not 2/),
    ]);
  });

  it('a hop between sidecars without mTLS, or with an identity the other end refuses', () => {
    const plain = broken((copy) => {
      const cluster = clusterNamed(copy, 'frontend-envoy', 'backend-v1');
      if (cluster) delete cluster.transport_socket;
    });
    expect(checkMtls(plain)).toEqual([
      expect.stringMatching(
        /cluster backend-v1 reaches sidecar backend-v1-envoy without a client certificate/,
      ),
    ]);
    const stranger = broken((copy) => {
      const certificate = clusterNamed(copy, 'frontend-envoy', 'backend-v2')?.transport_socket?.typed_config
        .common_tls_context?.tls_certificates?.[0]?.certificate_chain;
      if (certificate) certificate.filename = '/etc/envoy/certs/thumbnailer.crt';
    });
    expect(checkMtls(stranger)).toEqual([
      expect.stringMatching(
        new RegExp(`presents ${SPIFFE_PREFIX}thumbnailer, which backend-v2-envoy:8443 does not accept`),
      ),
    ]);
    const open = broken((copy) => {
      const listener =
        copy.sidecars['thumbnailer-envoy']?.config.static_resources.listeners[0]?.filter_chains[0];
      if (listener) delete listener.transport_socket;
    });
    expect(checkMtls(open)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/thumbnailer-envoy: inbound listener inbound_mtls is not mTLS/),
        expect.stringMatching(/minio: webhook thumbnailer: thumbnailer-envoy:8443 does not terminate TLS/),
      ]),
    );
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

  it('a sidecar whose template is not mounted from envoy/', () => {
    const compose = loadCompose();
    const sidecar = compose.services['thumbnailer-envoy'] as ComposeService;
    sidecar.volumes = (sidecar.volumes ?? []).filter(
      (v) => typeof v === 'string' || v.target !== '/etc/envoy/thumbnailer.yaml',
    );
    expect(checkSidecarWiring(compose)).toEqual([
      'thumbnailer-envoy: /etc/envoy/thumbnailer.yaml is not mounted',
    ]);
  });

  it('a secret that cannot be overridden', () => {
    expect(checkDevCredentials('      MINIO_ROOT_PASSWORD: hunter22\n')).toEqual([
      "MINIO_ROOT_PASSWORD: 'hunter22' cannot be overridden from the environment",
    ]);
  });
});

// ---------------------------------------------------------------- the scripts, run for real

const run = (file: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync('bash', [file, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('scripts/set-weights.sh', () => {
  it.each([
    [50, 50],
    [0, 100],
  ])('--dry-run %i %i renders a frontend config that passes every check', (v1, v2) => {
    const result = run(SET_WEIGHTS, ['--dry-run', String(v1), String(v2)]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const m = clone(mesh);
    (m.sidecars['frontend-envoy'] as { config: Bootstrap }).config = YAML.parse(result.stdout) as Bootstrap;
    expect(canaryWeights(m)).toEqual({ 'backend-v1': v1, 'backend-v2': v2 });
    expect(allChecks(m)).toEqual([]);
  });

  it('has the same effect as starting compose with the weights in the environment', () => {
    const m = loadMesh({ BACKEND_V1_WEIGHT: '50', BACKEND_V2_WEIGHT: '50' });
    expect(canaryWeights(m)).toEqual({ 'backend-v1': 50, 'backend-v2': 50 });
    expect(allChecks(m)).toEqual([]);
  });

  it.each([
    [['60', '50'], /must add up to 100, got 60 \+ 50 = 110/],
    [['abc', '10'], /'abc' is not a whole number from 0 to 100/],
    [['101', '0'], /'101' is not a whole number/],
    [['90'], /expected two weights/],
  ])('refuses %j', (args, message) => {
    const result = run(SET_WEIGHTS, ['--dry-run', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('explains itself with --help', () => {
    const result = run(SET_WEIGHTS, ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/docker compose up -d --no-deps --wait frontend-envoy/);
  });
});

describe('envoy/start.sh', () => {
  it('renders each template with its defaults exactly as the config validator reads it', () => {
    for (const template of ['envoy/frontend.yaml', 'envoy/backend.yaml', 'envoy/thumbnailer.yaml']) {
      const text = fs.readFileSync(path.join(ROOT, template), 'utf8');
      const withDefaults = text.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, '$1');
      expect(renderTemplate(template, {})).toBe(
        withDefaults.endsWith('\n') ? withDefaults : `${withDefaults}\n`,
      );
    }
  });

  it('gives each backend sidecar its own name and app', () => {
    for (const version of ['v1', 'v2']) {
      const { config } = mesh.sidecars[`backend-${version}-envoy`] as { config: Bootstrap };
      expect(config.node?.id).toBe(`backend-${version}-envoy`);
      const local = config.static_resources.clusters.find((c) => c.name === 'local_app');
      expect(endpointsOf(local ?? { name: '' })).toEqual([
        { address: `backend-${version}`, port_value: 8080 },
      ]);
    }
  });

  it('refuses a value that could change the YAML around it', () => {
    const result = spawnSync(
      'sh',
      [path.join(ROOT, 'envoy/start.sh'), '--render', path.join(ROOT, 'envoy/frontend.yaml')],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, BACKEND_V1_WEIGHT: '90\n  evil: true' },
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /BACKEND_V1_WEIGHT='90\n {2}evil: true' has characters a config value may not contain/,
    );
    expect(result.stdout).toBe('');
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
  const identities = {
    frontend: ['frontend-envoy'],
    backend: ['backend-v1-envoy', 'backend-v2-envoy'],
    thumbnailer: ['thumbnailer-envoy'],
    minio: ['minio'],
  };

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

  it('puts the SPIFFE identity and the DNS names peers dial in each certificate, for client and server use', () => {
    for (const [id, names] of Object.entries(identities)) {
      const file = path.join(certDir, `${id}.crt`);
      expect(subjectAltNames(file)).toEqual([
        `URI:${SPIFFE_PREFIX}${id}`,
        ...names.map((name) => `DNS:${name}`),
      ]);
      const usage = execFileSync('openssl', ['x509', '-in', file, '-noout', '-ext', 'extendedKeyUsage'], {
        encoding: 'utf8',
      });
      expect(usage).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    }
  });

  it('makes certificates that fit what the Envoy configs check: SNI names and SAN identities', () => {
    const sansOf = (identity: string | undefined) =>
      subjectAltNames(path.join(certDir, `${(identity ?? '').replace(SPIFFE_PREFIX, '')}.crt`));
    for (const { config } of Object.values(mesh.sidecars)) {
      for (const cluster of config.static_resources.clusters) {
        const context = cluster.transport_socket?.typed_config;
        if (!context) continue;
        const target = endpointsOf(cluster)[0]?.address as string;
        const listener = mesh.sidecars[target]?.config.static_resources.listeners.find(
          (l) => l.name === 'inbound_mtls',
        );
        const served = sansOf(identityOf(listener?.filter_chains[0]?.transport_socket?.typed_config));
        expect(served).toContain(`DNS:${context.sni}`);
        for (const san of context.common_tls_context?.validation_context?.match_typed_subject_alt_names ??
          []) {
          expect(served).toContain(`URI:${san.matcher?.exact}`);
        }
      }
    }
    const webhook = new URL(
      String(service(mesh, 'minio').environment?.MINIO_NOTIFY_WEBHOOK_ENDPOINT_thumbnailer),
    );
    expect(sansOf(`${SPIFFE_PREFIX}thumbnailer`)).toContain(`DNS:${webhook.hostname}`);
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
      expect(peers).toEqual([`URI:${SPIFFE_PREFIX}frontend, DNS:frontend-envoy`]);
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
