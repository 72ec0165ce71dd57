// The Kubernetes + Istio deployment: every overlay rendered with `kubectl kustomize` and checked,
// and every check shown to catch a broken copy (so a passing run means something).
import fs from 'node:fs';
import path from 'node:path';
import {
  CHECKS,
  checkAuthorization,
  checkCanaryWeights,
  checkImages,
  checkMtls,
  checkPorts,
  checkProbes,
  checkResilience,
  checkSecurity,
  checkSelectorsAndLabels,
  checkServiceEnv,
  checkSubsets,
  checkObjectStoreEvents,
  checkTracing,
  type DestinationRuleSpec,
  find,
  type K8sObject,
  readSkaffold,
  renderOverlay,
  repoRoot,
  type ServiceSpec,
  STAGES,
  type StageName,
  type VirtualServiceSpec,
  type WorkloadSpec,
  type AuthorizationPolicySpec,
} from './manifests';

const stages = Object.keys(STAGES) as StageName[];
const artifacts = () => readSkaffold().build.artifacts.map((a) => a.image);

/** The object of a render, asserting that it is there. */
function get<S>(objs: K8sObject[], kind: string, name: string, namespace?: string) {
  const found = find<S>(objs, kind, name, namespace);
  if (!found) throw new Error(`${kind}/${name} is not in the render`);
  return found;
}
const container = (objs: K8sObject[], deployment: string) => {
  const c = get<WorkloadSpec>(objs, 'Deployment', deployment).spec.template.spec.containers[0];
  if (!c) throw new Error(`${deployment} has no container`);
  return c;
};

describe.each(stages)('overlay %s', (stage) => {
  const objs = renderOverlay(stage);

  it('splits the backend traffic v1/v2 as the stage says, summing to 100 on every route', () => {
    expect(checkCanaryWeights(objs, STAGES[stage])).toEqual([]);
  });

  it.each(Object.keys(CHECKS) as (keyof typeof CHECKS)[])('passes the %s check', (name) => {
    expect(CHECKS[name](objs)).toEqual([]);
  });

  it('runs exactly the images skaffold builds, and pinned versions of everything else', () => {
    expect(checkImages(objs, artifacts())).toEqual([]);
  });
});

describe('overlays', () => {
  it('differ only in the weights of the backend VirtualService', () => {
    const withoutSplit = (stage: StageName) =>
      renderOverlay(stage).map((o) =>
        o.kind === 'VirtualService' && o.metadata.name === 'backend'
          ? {
              ...o,
              spec: {
                ...(o.spec as VirtualServiceSpec),
                http: (o.spec as VirtualServiceSpec).http.map((r) => ({
                  ...r,
                  route: r.route.map(({ destination }) => ({ destination })),
                })),
              },
            }
          : o,
      );
    const [first, ...rest] = stages.map(withoutSplit);
    for (const other of rest) expect(other).toEqual(first);
  });

  it('mark the credentials as dev-only defaults that an overlay can replace', () => {
    const env = fs.readFileSync(path.join(repoRoot, 'k8s/base/dev-credentials.env'), 'utf8');
    expect(env).toMatch(/DEV-ONLY/);
    const kustomization = fs.readFileSync(path.join(repoRoot, 'k8s/base/kustomization.yaml'), 'utf8');
    expect(kustomization).toMatch(/secretGenerator:[\s\S]*name: aws-credentials[\s\S]*dev-credentials\.env/);
  });
});

// Each check is run on a copy of a valid render with one thing broken: it must notice.
describe('the checks catch a broken render', () => {
  const fresh = () => renderOverlay('canary-10');
  const backendVs = (objs: K8sObject[]) => get<VirtualServiceSpec>(objs, 'VirtualService', 'backend');

  it('a weight that is off, or a split that does not sum to 100', () => {
    const objs = fresh();
    const route = backendVs(objs).spec.http[0]?.route[1];
    if (route) route.weight = 20;
    expect(checkCanaryWeights(objs, STAGES['canary-10']).join('\n')).toMatch(/sum to 110/);
    expect(checkCanaryWeights(fresh(), STAGES['canary-50'])).not.toEqual([]);
  });

  it('a pod label that no subset or selector matches any more', () => {
    const objs = fresh();
    const v2 = get<WorkloadSpec>(objs, 'Deployment', 'backend-v2');
    if (v2.spec.template.metadata?.labels) v2.spec.template.metadata.labels.version = 'v3';
    expect(checkSubsets(objs).join('\n')).toMatch(/subset v2 .* selects no pods/);
    expect(checkSelectorsAndLabels(objs).join('\n')).toMatch(/does not match its pod labels/);
  });

  it('a Service whose label selector finds nothing', () => {
    const objs = fresh();
    const svc = get<ServiceSpec>(objs, 'Service', 'thumbnailer');
    svc.spec.selector = { app: 'thumbnail' };
    expect(checkSelectorsAndLabels(objs).join('\n')).toMatch(/Service\/mesh-demo\/thumbnailer: selector/);
  });

  it('a subset the VirtualService uses but no DestinationRule defines', () => {
    const objs = fresh();
    const dr = get<DestinationRuleSpec>(objs, 'DestinationRule', 'backend');
    dr.spec.subsets = dr.spec.subsets?.filter((s) => s.name !== 'v2');
    expect(checkSubsets(objs).join('\n')).toMatch(/subset v2 of backend is in no DestinationRule/);
  });

  it('a Service port that leads nowhere, or that Istio cannot classify', () => {
    const objs = fresh();
    const port = get<ServiceSpec>(objs, 'Service', 'backend').spec.ports[0];
    if (port) port.targetPort = 8081;
    expect(checkPorts(objs).join('\n')).toMatch(
      /-> 8081, which Deployment\/mesh-demo\/backend-v1 does not expose/,
    );
    const renamed = fresh();
    const minioPort = get<ServiceSpec>(renamed, 'Service', 'minio').spec.ports[0];
    if (minioPort) minioPort.name = 's3';
    expect(checkPorts(renamed).join('\n')).toMatch(/named "s3"/);
  });

  it('a probe on the wrong path or port', () => {
    const objs = fresh();
    const c = container(objs, 'frontend');
    if (c.readinessProbe?.httpGet) c.readinessProbe.httpGet.path = '/ready';
    if (c.livenessProbe?.httpGet) c.livenessProbe.httpGet.port = 9090;
    const problems = checkProbes(objs).join('\n');
    expect(problems).toMatch(/readiness probe path is not \/readyz/);
    expect(problems).toMatch(/liveness probe port 9090/);
  });

  it("a container running as Istio's UID, or writable, or with privileges", () => {
    const objs = fresh();
    const c = container(objs, 'thumbnailer');
    c.securityContext = {
      ...c.securityContext,
      runAsUser: 1337,
      readOnlyRootFilesystem: false,
      capabilities: {},
    };
    const problems = checkSecurity(objs).join('\n');
    expect(problems).toMatch(/runAsUser 1337/);
    expect(problems).toMatch(/readOnlyRootFilesystem is not true/);
    expect(problems).toMatch(/do not drop ALL/);
  });

  it('a missing variable, a URL to no Service, a version that does not match', () => {
    const objs = fresh();
    const frontend = container(objs, 'frontend');
    frontend.env = frontend.env?.filter((e) => e.name !== 'BUCKET');
    const backendUrl = frontend.env?.find((e) => e.name === 'BACKEND_URL');
    if (backendUrl) backendUrl.value = 'http://backend:8080';
    const v2Version = container(objs, 'backend-v2').env?.find((e) => e.name === 'APP_VERSION');
    if (v2Version) v2Version.value = '1.0.0';
    const problems = checkServiceEnv(objs).join('\n');
    expect(problems).toMatch(/frontend lacks BUCKET/);
    expect(problems).toMatch(
      /BACKEND_URL "http:\/\/backend:8080": Service mesh-demo\/backend has no port 8080/,
    );
    expect(problems).toMatch(/backend-v2: APP_VERSION 1.0.0 does not match version v2/);
  });

  it('an image skaffold does not build', () => {
    const objs = fresh();
    container(objs, 'backend-v1').image = 'backend-service';
    expect(checkImages(objs, artifacts()).join('\n')).toMatch(
      /"backend-service" is not the skaffold artifact "backend"/,
    );
  });

  it('the deprecated consecutiveErrors, or unbounded retries', () => {
    const objs = fresh();
    const od = get<DestinationRuleSpec>(objs, 'DestinationRule', 'backend').spec.trafficPolicy
      ?.outlierDetection;
    if (od) {
      delete od.consecutive5xxErrors;
      od.consecutiveErrors = 5;
    }
    const retries = backendVs(objs).spec.http[0]?.retries;
    if (retries) retries.attempts = 10;
    const problems = checkResilience(objs).join('\n');
    expect(problems).toMatch(/deprecated consecutiveErrors/);
    expect(problems).toMatch(/retries are not bounded/);
  });

  it('mTLS that is not STRICT', () => {
    const objs = fresh();
    const pa = get<{ mtls: { mode: string } }>(objs, 'PeerAuthentication', 'default');
    pa.spec.mtls.mode = 'PERMISSIVE';
    expect(checkMtls(objs)).not.toEqual([]);
  });

  it('a caller the backend should not admit, or no default deny', () => {
    const objs = fresh();
    const policy = get<AuthorizationPolicySpec>(objs, 'AuthorizationPolicy', 'backend-from-frontend');
    policy.spec.rules?.[0]?.from?.[0]?.source.principals?.push('cluster.local/ns/mesh-demo/sa/thumbnailer');
    const withoutDeny = objs.filter((o) => o.metadata.name !== 'allow-nothing');
    const problems = checkAuthorization(withoutDeny).join('\n');
    expect(problems).toMatch(/backend: callers are/);
    expect(problems).toMatch(/no allow-nothing/);
  });

  it('a bucket subscription to a webhook target MinIO does not have', () => {
    const objs = fresh();
    const region = container(objs, 'minio').env?.find((e) => e.name === 'MINIO_SITE_REGION');
    if (region) region.value = 'eu-west-1';
    expect(checkObjectStoreEvents(objs).join('\n')).toMatch(/minio-setup subscribes .*, MinIO offers/);
  });

  it('tracing to a collector that is not deployed', () => {
    const objs = fresh().filter((o) => !(o.kind === 'Service' && o.metadata.name === 'jaeger-collector'));
    expect(checkTracing(objs).join('\n')).toMatch(/names no Service istio-system\/jaeger-collector/);
  });

  it('an app whose span exports would go through its own sidecar', () => {
    const objs = fresh();
    const deployment = find<WorkloadSpec>(objs, 'Deployment', 'backend-v2');
    delete deployment?.spec.template.metadata?.annotations?.['traffic.sidecar.istio.io/excludeOutboundPorts'];
    expect(checkTracing(objs)).toEqual([
      'Deployment/mesh-demo/backend-v2: exports spans to port 4318 through its sidecar (not in excludeOutboundPorts)',
    ]);
  });
});

describe('skaffold.yaml', () => {
  const skaffold = readSkaffold();

  it('uses a schema version the project validates against', () => {
    expect(['skaffold/v4beta13', 'skaffold/v4beta14']).toContain(skaffold.apiVersion);
  });

  it('builds the three service images from the repository root with the one recipe, for amd64 and arm64', () => {
    expect(skaffold.build.artifacts).toEqual(
      ['backend', 'frontend', 'thumbnailer'].map((name) =>
        expect.objectContaining({
          image: name,
          context: '.',
          docker: expect.objectContaining({
            dockerfile: 'services/Dockerfile',
            buildArgs: { SERVICE: name },
          }),
        }),
      ),
    );
    for (const a of skaffold.build.artifacts)
      expect(fs.existsSync(path.join(repoRoot, a.context ?? '.', a.docker?.dockerfile ?? 'Dockerfile'))).toBe(
        true,
      );
    expect(skaffold.build.platforms).toEqual(expect.arrayContaining(['linux/amd64', 'linux/arm64']));
  });

  it('renders the first canary stage by default and each stage as a profile, deployed with kubectl', () => {
    expect(skaffold.manifests?.kustomize?.paths).toEqual(['k8s/overlays/canary-10']);
    expect(skaffold.deploy?.kubectl).toBeDefined();
    const profiles = Object.fromEntries(
      (skaffold.profiles ?? []).map((p) => [p.name, p.manifests?.kustomize?.paths]),
    );
    expect(profiles).toEqual(Object.fromEntries(stages.map((s) => [s, [`k8s/overlays/${s}`]])));
    const overlays = fs.readdirSync(path.join(repoRoot, 'k8s/overlays')).sort();
    expect(overlays).toEqual([...stages].sort());
  });

  it('port-forwards the frontend to 8080 and the Jaeger UI to 16686, to Services that exist', () => {
    const objs = renderOverlay('canary-10');
    const forwards = skaffold.portForward ?? [];
    expect(forwards.map((f) => [f.resourceName, f.localPort])).toEqual([
      ['frontend', 8080],
      ['jaeger', 16686],
    ]);
    for (const f of forwards) {
      expect(f.resourceType.toLowerCase()).toBe('service');
      const svc = get<ServiceSpec>(objs, 'Service', f.resourceName, f.namespace);
      expect(svc.spec.ports.map((p) => p.port)).toContain(Number(f.port));
    }
  });
});
