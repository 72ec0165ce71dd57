// Renders the kustomize overlays under k8s/ and checks what Kubernetes and Istio would otherwise get
// wrong silently at run time. Every check is a function from rendered objects to a list of
// problems, so the tests can prove each one on a deliberately broken copy as well.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export const repoRoot = path.resolve(__dirname, '../..');
export const NAMESPACE = 'mesh-demo';
export const SERVICES = ['backend', 'frontend', 'thumbnailer'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The canary stages: overlay name -> percentage of the backend's traffic on v1 and on v2. */
export const STAGES = {
  'canary-0': { v1: 100, v2: 0 },
  'canary-10': { v1: 90, v2: 10 },
  'canary-50': { v1: 50, v2: 50 },
  'canary-100': { v1: 0, v2: 100 },
} as const;
export type StageName = keyof typeof STAGES;

// --- the parts of the Kubernetes and Istio objects the checks read

export interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec?: unknown;
  data?: Record<string, string>;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
export interface Probe {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
}
export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}
export interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  ports?: ContainerPort[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: SecurityContext;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}
export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    serviceAccountName?: string;
    securityContext?: SecurityContext;
    containers: Container[];
    initContainers?: Container[];
    volumes?: { name: string; emptyDir?: object; persistentVolumeClaim?: object }[];
  };
}
export interface WorkloadSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template: PodTemplate;
}
export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}
export interface ServiceSpec {
  selector?: Record<string, string>;
  ports: ServicePort[];
}
export interface HttpRoute {
  name?: string;
  route: { destination: { host: string; subset?: string; port?: { number: number } }; weight?: number }[];
  timeout?: string;
  retries?: { attempts?: number; perTryTimeout?: string; retryOn?: string };
}
export interface VirtualServiceSpec {
  hosts: string[];
  gateways?: string[];
  http: HttpRoute[];
}
export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: {
    connectionPool?: { tcp?: { maxConnections?: number }; http?: { http1MaxPendingRequests?: number } };
    outlierDetection?: Record<string, unknown>;
  };
  subsets?: { name: string; labels: Record<string, string> }[];
}
export interface AuthorizationPolicySpec {
  selector?: { matchLabels: Record<string, string> };
  action?: string;
  rules?: {
    from?: { source: { principals?: string[] } }[];
    to?: { operation: { methods?: string[]; paths?: string[] } }[];
  }[];
}

export type Of<S> = K8sObject & { spec: S };
export const ofKind = <S>(objs: K8sObject[], kind: string): Of<S>[] =>
  objs.filter((o) => o.kind === kind) as Of<S>[];
export const workloads = (objs: K8sObject[]): Of<WorkloadSpec>[] =>
  objs.filter((o) =>
    ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind),
  ) as Of<WorkloadSpec>[];
export const find = <S>(
  objs: K8sObject[],
  kind: string,
  name: string,
  namespace = NAMESPACE,
): Of<S> | undefined =>
  ofKind<S>(objs, kind).find(
    (o) => o.metadata.name === name && (o.metadata.namespace ?? NAMESPACE) === namespace,
  );
const where = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? '?'}/${o.metadata.name}`;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
/** Deployments of one of the project's own services (by the app label of their pods). */
export const serviceDeployments = (objs: K8sObject[], app?: ServiceName) =>
  ofKind<WorkloadSpec>(objs, 'Deployment').filter((d) => {
    const label = d.spec.template.metadata?.labels?.app;
    return (SERVICES as readonly string[]).includes(label ?? '') && (!app || label === app);
  });

// --- rendering

const rendered = new Map<string, K8sObject[]>();
/** `kubectl kustomize k8s/overlays/<stage>`, parsed; callers get their own copy. */
export function renderOverlay(stage: string): K8sObject[] {
  if (!rendered.has(stage)) {
    const out = execFileSync('kubectl', ['kustomize', path.join(repoRoot, 'k8s/overlays', stage)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const docs = YAML.parseAllDocuments(out).map((d) => d.toJS() as K8sObject | null);
    rendered.set(
      stage,
      docs.filter((d): d is K8sObject => d !== null && typeof d === 'object'),
    );
  }
  return structuredClone(rendered.get(stage) ?? []);
}

export interface SkaffoldConfig {
  apiVersion: string;
  build: {
    platforms?: string[];
    artifacts: {
      image: string;
      context?: string;
      docker?: { dockerfile?: string; buildArgs?: Record<string, string> };
    }[];
  };
  manifests?: { kustomize?: { paths?: string[] } };
  deploy?: { kubectl?: object };
  portForward?: {
    resourceType: string;
    resourceName: string;
    namespace?: string;
    port: number | string;
    localPort?: number;
  }[];
  profiles?: { name: string; manifests?: { kustomize?: { paths?: string[] } } }[];
}
export const readSkaffold = (): SkaffoldConfig =>
  YAML.parse(fs.readFileSync(path.join(repoRoot, 'skaffold.yaml'), 'utf8')) as SkaffoldConfig;

// --- checks: each returns the problems it finds (an empty list when everything holds)

/** The backend's VirtualService splits every route between subsets v1 and v2 with the stage's weights. */
export function checkCanaryWeights(objs: K8sObject[], expected: { v1: number; v2: number }): string[] {
  const vs = find<VirtualServiceSpec>(objs, 'VirtualService', 'backend');
  if (!vs) return ['no VirtualService "backend"'];
  const problems: string[] = [];
  if (!vs.spec.http?.length) problems.push('VirtualService/backend has no http routes');
  for (const [i, route] of (vs.spec.http ?? []).entries()) {
    const label = `VirtualService/backend http[${i}]${route.name ? ` (${route.name})` : ''}`;
    const weights: Record<string, number> = {};
    for (const d of route.route ?? []) {
      if (d.destination.host.split('.')[0] !== 'backend')
        problems.push(`${label}: routes to ${d.destination.host}`);
      weights[d.destination.subset ?? '(none)'] =
        (weights[d.destination.subset ?? '(none)'] ?? 0) + (d.weight ?? 0);
    }
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    if (total !== 100) problems.push(`${label}: weights sum to ${total}, not 100`);
    if (weights.v1 !== expected.v1 || weights.v2 !== expected.v2 || Object.keys(weights).length !== 2)
      problems.push(
        `${label}: split ${JSON.stringify(weights)}, expected v1 ${expected.v1} / v2 ${expected.v2}`,
      );
  }
  return problems;
}

/** Every Service selects pods; every workload's selector matches its own pod labels; the mesh labels are set. */
export function checkSelectorsAndLabels(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  const pods = workloads(objs).map((w) => ({ w, labels: w.spec.template.metadata?.labels ?? {} }));
  for (const { w, labels } of pods) {
    const sel = w.spec.selector?.matchLabels;
    if (w.kind !== 'Job' && (!sel || !matches(sel, labels)))
      problems.push(
        `${where(w)}: selector ${JSON.stringify(sel)} does not match its pod labels ${JSON.stringify(labels)}`,
      );
    if ((w.metadata.namespace ?? NAMESPACE) === NAMESPACE && (!labels.app || !labels.version))
      problems.push(`${where(w)}: pods need "app" and "version" labels (Istio telemetry, subsets)`);
  }
  for (const svc of ofKind<ServiceSpec>(objs, 'Service')) {
    const sel = svc.spec.selector;
    if (!sel) continue;
    const selected = pods.filter(
      ({ w, labels }) => w.metadata.namespace === svc.metadata.namespace && matches(sel, labels),
    );
    if (!selected.length) problems.push(`${where(svc)}: selector ${JSON.stringify(sel)} matches no pods`);
  }
  const backend = find<ServiceSpec>(objs, 'Service', 'backend');
  const behind = pods.filter(
    ({ labels }) => backend?.spec.selector && matches(backend.spec.selector, labels),
  );
  const names = behind.map(({ w }) => w.metadata.name).sort();
  if (names.join() !== 'backend-v1,backend-v2')
    problems.push(`Service/backend selects ${JSON.stringify(names)}, expected backend-v1 and backend-v2`);
  return problems;
}

/** DestinationRule subsets select pods of their host, cover every version, and the VirtualServices use only them. */
export function checkSubsets(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  const subsetsByHost = new Map<string, Set<string>>();
  for (const dr of ofKind<DestinationRuleSpec>(objs, 'DestinationRule')) {
    const host = dr.spec.host.split('.')[0] ?? '';
    const svc = find<ServiceSpec>(objs, 'Service', host, dr.metadata.namespace);
    if (!svc?.spec.selector) {
      problems.push(`${where(dr)}: host ${dr.spec.host} is no Service with a selector`);
      continue;
    }
    const svcSelector = svc.spec.selector;
    const behind = workloads(objs).filter((w) => matches(svcSelector, w.spec.template.metadata?.labels));
    const covered = new Set<string>();
    for (const subset of dr.spec.subsets ?? []) {
      subsetsByHost.set(host, (subsetsByHost.get(host) ?? new Set()).add(subset.name));
      const selected = behind.filter((w) => matches(subset.labels, w.spec.template.metadata?.labels));
      if (!selected.length)
        problems.push(`${where(dr)}: subset ${subset.name} ${JSON.stringify(subset.labels)} selects no pods`);
      selected.forEach((w) => covered.add(w.metadata.name));
    }
    if (dr.spec.subsets?.length)
      for (const w of behind)
        if (!covered.has(w.metadata.name)) problems.push(`${where(dr)}: ${where(w)} is in no subset`);
  }
  for (const vs of ofKind<VirtualServiceSpec>(objs, 'VirtualService'))
    for (const route of vs.spec.http ?? [])
      for (const { destination } of route.route ?? []) {
        const host = destination.host.split('.')[0] ?? '';
        if (!find(objs, 'Service', host, vs.metadata.namespace))
          problems.push(`${where(vs)}: destination ${destination.host} is no Service`);
        if (destination.subset && !subsetsByHost.get(host)?.has(destination.subset))
          problems.push(`${where(vs)}: subset ${destination.subset} of ${host} is in no DestinationRule`);
      }
  return problems;
}

/** The services' images are exactly the skaffold artifacts; every other image is pinned to a version. */
export function checkImages(objs: K8sObject[], artifacts: string[]): string[] {
  const problems: string[] = [];
  const used = new Set<string>();
  for (const w of workloads(objs))
    for (const c of [...w.spec.template.spec.containers, ...(w.spec.template.spec.initContainers ?? [])]) {
      const app = w.spec.template.metadata?.labels?.app ?? '';
      if ((SERVICES as readonly string[]).includes(app)) {
        used.add(c.image);
        if (c.image !== app)
          problems.push(`${where(w)}: image "${c.image}" is not the skaffold artifact "${app}"`);
      } else if (!/[:@]/.test(c.image.split('/').pop() ?? '') || c.image.endsWith(':latest'))
        problems.push(`${where(w)}: image "${c.image}" is not pinned to a version`);
    }
  for (const image of artifacts)
    if (!used.has(image)) problems.push(`skaffold artifact "${image}" is used by no Deployment`);
  for (const image of used)
    if (!artifacts.includes(image)) problems.push(`image "${image}" is built by no skaffold artifact`);
  return problems;
}

const COMMON_ENV = [
  'PORT',
  'APP_VERSION',
  'LOG_LEVEL',
  'OTEL_SERVICE_NAME',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_TRACES_EXPORTER',
  'OTEL_PROPAGATORS',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
];
/** The variables each service reads (the project contract). */
export const REQUIRED_ENV: Record<ServiceName, string[]> = {
  backend: [...COMMON_ENV, 'TABLE_NAME', 'AWS_ENDPOINT_URL_DYNAMODB', 'CREATE_TABLE'],
  frontend: [
    ...COMMON_ENV,
    'BACKEND_URL',
    'BACKEND_TIMEOUT_MS',
    'BUCKET',
    'AWS_ENDPOINT_URL_S3',
    'UPLOAD_MAX_BYTES',
    'JAEGER_UI_URL',
  ],
  thumbnailer: [...COMMON_ENV, 'BUCKET', 'AWS_ENDPOINT_URL_S3', 'THUMBNAIL_WIDTH', 'THUMBNAIL_HEIGHT'],
};
/** Variables that name another Service of the rendered system: they must resolve to it and its port. */
const SERVICE_URLS = [
  'BACKEND_URL',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
];

/** Resolves http://name[.namespace[.svc...]]:port to a Service port of the render, or says why not. */
export function resolveServiceUrl(
  objs: K8sObject[],
  url: string,
  fromNamespace = NAMESPACE,
): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  const [name = '', namespace = fromNamespace] = parsed.hostname.split('.');
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const svc = find<ServiceSpec>(objs, 'Service', name, namespace);
  if (!svc) return `"${url}" names no Service ${namespace}/${name}`;
  if (!svc.spec.ports.some((p) => p.port === port))
    return `"${url}": Service ${namespace}/${name} has no port ${port}`;
  return undefined;
}

/** Each service gets every variable it needs, its credentials from the Secret, and URLs that resolve. */
export function checkServiceEnv(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const app of SERVICES) {
    const deployments = serviceDeployments(objs, app);
    if (!deployments.length) problems.push(`no Deployment for ${app}`);
    for (const d of deployments)
      for (const c of d.spec.template.spec.containers) {
        const env = new Map((c.env ?? []).map((e) => [e.name, e]));
        for (const name of REQUIRED_ENV[app])
          if (!env.has(name)) problems.push(`${where(d)}: ${c.name} lacks ${name}`);
        for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
          const ref = env.get(name)?.valueFrom?.secretKeyRef;
          const secret = ref && find(objs, 'Secret', ref.name, d.metadata.namespace);
          if (!ref || !secret?.data?.[ref.key])
            problems.push(`${where(d)}: ${name} is not read from a rendered Secret`);
        }
        const value = (name: string) => env.get(name)?.value;
        if (!c.ports?.some((p) => String(p.containerPort) === value('PORT')))
          problems.push(`${where(d)}: PORT=${value('PORT')} is not a containerPort`);
        if (value('OTEL_SERVICE_NAME') !== app)
          problems.push(`${where(d)}: OTEL_SERVICE_NAME is not "${app}"`);
        for (const name of SERVICE_URLS) {
          const url = value(name);
          const problem = url === undefined ? undefined : resolveServiceUrl(objs, url, d.metadata.namespace);
          if (problem) problems.push(`${where(d)}: ${name} ${problem}`);
        }
        const version = d.spec.template.metadata?.labels?.version;
        if (app === 'backend' && value('APP_VERSION') !== (version === 'v2' ? '2.0.0' : '1.0.0'))
          problems.push(`${where(d)}: APP_VERSION ${value('APP_VERSION')} does not match version ${version}`);
      }
  }
  const replicas = (name: string) => find<WorkloadSpec>(objs, 'Deployment', name)?.spec.replicas;
  if (replicas('backend-v1') !== 3 || replicas('backend-v2') !== 1)
    problems.push(
      `backend-v1/backend-v2 replicas are ${replicas('backend-v1')}/${replicas('backend-v2')}, expected 3/1`,
    );
  return problems;
}

const ISTIO_PORT_NAME = /^(http|http2|https|grpc|grpc-web|tcp|tls|mongo|mysql|redis|udp)(-.*)?$/;
/** Service ports are named for Istio and lead to a port every selected container really has. */
export function checkPorts(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const svc of ofKind<ServiceSpec>(objs, 'Service')) {
    const selector = svc.spec.selector;
    const pods = selector
      ? workloads(objs).filter(
          (w) =>
            w.metadata.namespace === svc.metadata.namespace &&
            matches(selector, w.spec.template.metadata?.labels),
        )
      : [];
    for (const port of svc.spec.ports) {
      if (!port.appProtocol && !ISTIO_PORT_NAME.test(port.name ?? ''))
        problems.push(
          `${where(svc)}: port ${port.port} is named "${port.name ?? ''}", not <protocol>[-suffix]`,
        );
      const target = port.targetPort ?? port.port;
      for (const w of pods) {
        const found = w.spec.template.spec.containers
          .flatMap((c) => c.ports ?? [])
          .find((p) => (typeof target === 'number' ? p.containerPort === target : p.name === target));
        if (!found)
          problems.push(`${where(svc)}: port ${port.port} -> ${target}, which ${where(w)} does not expose`);
        else if ((found.protocol ?? 'TCP') !== (port.protocol ?? 'TCP'))
          problems.push(`${where(svc)}: port ${port.port} protocol differs from ${where(w)}`);
      }
    }
  }
  for (const app of SERVICES) {
    const svc = find<ServiceSpec>(objs, 'Service', app);
    if (!svc?.spec.ports.some((p) => p.port === 80 && p.name === 'http' && p.targetPort === 8080))
      problems.push(`Service/${app}: expected port 80 named "http" to 8080`);
  }
  return problems;
}

/** Every pod runs as a non-root UID other than Istio's 1337, read-only, without privileges. */
export function checkSecurity(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objs)) {
    const pod = w.spec.template.spec;
    for (const c of pod.containers) {
      const ctx = { ...pod.securityContext, ...c.securityContext };
      const label = `${where(w)} container ${c.name}`;
      if (ctx.runAsNonRoot !== true) problems.push(`${label}: runAsNonRoot is not true`);
      if (ctx.runAsUser === undefined || ctx.runAsUser === 0 || ctx.runAsUser === 1337)
        problems.push(`${label}: runAsUser ${ctx.runAsUser} (must be set, non-root and not Istio's 1337)`);
      if (c.securityContext?.allowPrivilegeEscalation !== false)
        problems.push(`${label}: allowPrivilegeEscalation is not false`);
      if (c.securityContext?.readOnlyRootFilesystem !== true)
        problems.push(`${label}: readOnlyRootFilesystem is not true`);
      if (!c.securityContext?.capabilities?.drop?.includes('ALL'))
        problems.push(`${label}: capabilities do not drop ALL`);
      if (c.securityContext?.capabilities?.add?.length) problems.push(`${label}: adds capabilities`);
      if (ctx.seccompProfile?.type !== 'RuntimeDefault')
        problems.push(`${label}: seccompProfile is not RuntimeDefault`);
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      const volume = tmp && pod.volumes?.find((v) => v.name === tmp.name);
      if (!volume?.emptyDir) problems.push(`${label}: no emptyDir at /tmp for the read-only root filesystem`);
      if (!c.resources?.requests || !c.resources.limits?.memory)
        problems.push(`${label}: resources are not set`);
    }
  }
  return problems;
}

/** Resolves a probe's port (number or container port name) to a number. */
const probePort = (c: Container, port: number | string | undefined) =>
  typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
/** Liveness on /healthz and readiness on /readyz, at the port the service listens on. */
export function checkProbes(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const d of serviceDeployments(objs))
    for (const c of d.spec.template.spec.containers) {
      const listen = Number(c.env?.find((e) => e.name === 'PORT')?.value);
      for (const [kind, probe, wanted] of [
        ['liveness', c.livenessProbe, '/healthz'],
        ['readiness', c.readinessProbe, '/readyz'],
      ] as const) {
        if (probe?.httpGet?.path !== wanted)
          problems.push(`${where(d)}: ${kind} probe path is not ${wanted}`);
        const port = probePort(c, probe?.httpGet?.port);
        if (port !== listen || !c.ports?.some((p) => p.containerPort === port))
          problems.push(
            `${where(d)}: ${kind} probe port ${probe?.httpGet?.port} is not the container port ${listen}`,
          );
      }
    }
  return problems;
}

const seconds = (duration: string | undefined) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration ?? '');
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1);
};
/** The backend's circuit breaker and its bounded timeouts and retries. */
export function checkResilience(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  const dr = find<DestinationRuleSpec>(objs, 'DestinationRule', 'backend');
  const policy = dr?.spec.trafficPolicy;
  if (!policy?.connectionPool?.tcp?.maxConnections)
    problems.push('DestinationRule/backend: no tcp.maxConnections');
  if (!policy?.connectionPool?.http?.http1MaxPendingRequests)
    problems.push('DestinationRule/backend: no http.http1MaxPendingRequests');
  const od = policy?.outlierDetection ?? {};
  if ('consecutiveErrors' in od)
    problems.push('DestinationRule/backend: uses the deprecated consecutiveErrors');
  if (!od.consecutive5xxErrors && !od.consecutiveGatewayErrors)
    problems.push('DestinationRule/backend: no consecutive5xxErrors or consecutiveGatewayErrors');
  for (const field of ['interval', 'baseEjectionTime', 'maxEjectionPercent'])
    if (od[field] === undefined)
      problems.push(`DestinationRule/backend: outlierDetection.${field} is not set`);
  const vs = find<VirtualServiceSpec>(objs, 'VirtualService', 'backend');
  for (const [i, route] of (vs?.spec.http ?? []).entries()) {
    const r = route.retries;
    const label = `VirtualService/backend http[${i}]`;
    if (!(seconds(route.timeout) > 0)) problems.push(`${label}: no timeout`);
    if (!r?.retryOn || !r.attempts || r.attempts > 3)
      problems.push(`${label}: retries are not bounded (1-3 attempts, retryOn)`);
    if (!(seconds(r?.perTryTimeout) > 0) || seconds(r?.perTryTimeout) > seconds(route.timeout))
      problems.push(`${label}: perTryTimeout is missing or longer than the route timeout`);
  }
  return problems;
}

/** mTLS is mandatory for the whole namespace. */
export function checkMtls(objs: K8sObject[]): string[] {
  const strict = ofKind<{ mtls?: { mode?: string }; selector?: object }>(objs, 'PeerAuthentication').filter(
    (pa) => pa.metadata.namespace === NAMESPACE && !pa.spec.selector && pa.spec.mtls?.mode === 'STRICT',
  );
  return strict.length ? [] : [`no namespace-wide PeerAuthentication with mode STRICT in ${NAMESPACE}`];
}

const principal = (namespace: string, sa: string) => `cluster.local/ns/${namespace}/sa/${sa}`;
const INGRESS = principal('istio-system', 'istio-ingressgateway-service-account');
/** Deny by default, then one ALLOW policy per workload naming exactly the callers it needs. */
export function checkAuthorization(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  const policies = ofKind<AuthorizationPolicySpec>(objs, 'AuthorizationPolicy').filter(
    (p) => p.metadata.namespace === NAMESPACE,
  );
  const denyAll = policies.filter(
    (p) => !p.spec.selector && !p.spec.rules?.length && (p.spec.action ?? 'ALLOW') === 'ALLOW',
  );
  if (!denyAll.length) problems.push('no allow-nothing AuthorizationPolicy (spec: {}) for the namespace');
  const serviceAccountOf = (app: string) =>
    workloads(objs).find((w) => w.spec.template.metadata?.labels?.app === app)?.spec.template.spec
      .serviceAccountName;
  const expected: Record<string, { callers: string[]; methods?: string[]; paths?: string[] }> = {
    frontend: { callers: [INGRESS] },
    backend: { callers: [principal(NAMESPACE, serviceAccountOf('frontend') ?? '?')] },
    thumbnailer: {
      callers: [principal(NAMESPACE, serviceAccountOf('minio') ?? '?')],
      methods: ['POST'],
      paths: ['/events'],
    },
  };
  for (const [app, want] of Object.entries(expected)) {
    const mine = policies.filter((p) => p.spec.selector?.matchLabels.app === app);
    const rules = mine.flatMap((p) => p.spec.rules ?? []);
    if (!mine.length || mine.some((p) => (p.spec.action ?? 'ALLOW') !== 'ALLOW'))
      problems.push(`${app}: expected ALLOW policies selecting app=${app}`);
    const callers = new Set(rules.flatMap((r) => (r.from ?? []).flatMap((f) => f.source.principals ?? [])));
    if ([...callers].sort().join() !== [...want.callers].sort().join() || rules.some((r) => !r.from?.length))
      problems.push(
        `${app}: callers are ${JSON.stringify([...callers])}, expected only ${JSON.stringify(want.callers)}`,
      );
    if (want.methods || want.paths) {
      const ops = rules.flatMap((r) => (r.to ?? []).map((t) => t.operation));
      if (
        !ops.length ||
        ops.some((o) => o.methods?.join() !== want.methods?.join() || o.paths?.join() !== want.paths?.join())
      )
        problems.push(
          `${app}: operations ${JSON.stringify(ops)}, expected ${JSON.stringify(want.methods)} on ${JSON.stringify(want.paths)}`,
        );
    }
  }
  // Every principal a policy names is the ServiceAccount of a workload of the render.
  const accounts = new Set(
    workloads(objs).map((w) =>
      principal(w.metadata.namespace ?? NAMESPACE, w.spec.template.spec.serviceAccountName ?? 'default'),
    ),
  );
  for (const p of policies)
    for (const r of p.spec.rules ?? [])
      for (const f of r.from ?? [])
        for (const name of f.source.principals ?? [])
          if (name !== INGRESS && !accounts.has(name))
            problems.push(`${where(p)}: principal ${name} is no workload's ServiceAccount`);
  for (const w of workloads(objs).filter((w) => (w.metadata.namespace ?? NAMESPACE) === NAMESPACE)) {
    const sa = w.spec.template.spec.serviceAccountName;
    if (!sa || !find(objs, 'ServiceAccount', sa))
      problems.push(`${where(w)}: runs as no ServiceAccount of its own`);
  }
  return problems;
}

/** The namespace injects sidecars and enforces a Pod Security level. */
export function checkNamespace(objs: K8sObject[]): string[] {
  const ns = objs.find((o) => o.kind === 'Namespace' && o.metadata.name === NAMESPACE);
  const labels = ns?.metadata.labels ?? {};
  const problems: string[] = [];
  if (labels['istio-injection'] !== 'enabled')
    problems.push(`Namespace ${NAMESPACE}: istio-injection is not enabled`);
  if (labels['pod-security.kubernetes.io/enforce'] !== 'baseline')
    problems.push(`Namespace ${NAMESPACE}: Pod Security enforce level is not baseline`);
  return problems;
}

const envOf = (w: Of<WorkloadSpec> | undefined) =>
  new Map((w?.spec.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
/** MinIO posts uploads/ events to the thumbnailer; the setup Job subscribes the bucket to that very target. */
export function checkObjectStoreEvents(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  const minio = envOf(find<WorkloadSpec>(objs, 'Deployment', 'minio'));
  const job = find<WorkloadSpec>(objs, 'Job', 'minio-setup');
  const setup = envOf(job);
  const targets = [...minio.keys()].filter((k) => k.startsWith('MINIO_NOTIFY_WEBHOOK_ENABLE_'));
  if (targets.length !== 1) return [`MinIO: expected one webhook target, found ${targets.length}`];
  const id = targets[0]?.slice('MINIO_NOTIFY_WEBHOOK_ENABLE_'.length) ?? '';
  const endpoint = minio.get(`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${id}`) ?? '';
  const problem = resolveServiceUrl(objs, endpoint);
  if (problem) problems.push(`MinIO webhook endpoint ${problem}`);
  if (!endpoint.startsWith('http://thumbnailer.') || !endpoint.endsWith('/events'))
    problems.push(`MinIO webhook endpoint ${endpoint} is not the thumbnailer's /events`);
  const arn = `arn:minio:sqs:${minio.get('MINIO_SITE_REGION') ?? ''}:${id}:webhook`;
  if (setup.get('WEBHOOK_ARN') !== arn)
    problems.push(`minio-setup subscribes ${setup.get('WEBHOOK_ARN')}, MinIO offers ${arn}`);
  if (setup.get('BUCKET') !== 'images') problems.push('minio-setup does not create the bucket "images"');
  const minioUrl = resolveServiceUrl(objs, setup.get('MINIO_URL') ?? '');
  if (minioUrl) problems.push(`minio-setup: MINIO_URL ${minioUrl}`);
  if (job?.spec.template.metadata?.annotations?.['sidecar.istio.io/nativeSidecar'] !== 'true')
    problems.push('minio-setup: its sidecar must be a native sidecar, or the Job never completes');
  return problems;
}

/** Reads `extensionProviders` of the IstioOperator file that istioctl installs the mesh with. */
export function meshTracingProviders(): { name: string; service: string; port: number }[] {
  const operator = YAML.parse(fs.readFileSync(path.join(repoRoot, 'istio/mesh-config.yaml'), 'utf8')) as {
    spec?: {
      meshConfig?: {
        extensionProviders?: { name: string; opentelemetry?: { service: string; port: number } }[];
      };
    };
  };
  return (operator.spec?.meshConfig?.extensionProviders ?? []).flatMap((p) =>
    p.opentelemetry ? [{ name: p.name, ...p.opentelemetry }] : [],
  );
}

/** The Telemetry resource names a provider of the mesh config, whose collector is a Service of the render. */
export function checkTracing(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  const providers = meshTracingProviders();
  const telemetry = ofKind<{
    tracing?: { providers?: { name: string }[]; randomSamplingPercentage?: number }[];
  }>(objs, 'Telemetry');
  if (!telemetry.length) problems.push('no Telemetry resource');
  for (const t of telemetry)
    for (const tracing of t.spec.tracing ?? []) {
      if (tracing.randomSamplingPercentage === undefined)
        problems.push(`${where(t)}: no sampling percentage`);
      for (const { name } of tracing.providers ?? []) {
        const provider = providers.find((p) => p.name === name);
        if (!provider) problems.push(`${where(t)}: provider ${name} is not in istio/mesh-config.yaml`);
        else {
          const [svc = '', ns = ''] = provider.service.split('.');
          const problem = resolveServiceUrl(objs, `http://${svc}.${ns}:${provider.port}`);
          if (problem) problems.push(`mesh config provider ${name}: ${problem}`);
        }
      }
    }
  // The apps' own exports must bypass their sidecar, or each export batch becomes a trace of its own.
  for (const d of serviceDeployments(objs)) {
    const endpoint = d.spec.template.spec.containers[0]?.env?.find(
      (e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT',
    )?.value;
    if (!endpoint) continue;
    const excluded = (
      d.spec.template.metadata?.annotations?.['traffic.sidecar.istio.io/excludeOutboundPorts'] ?? ''
    )
      .split(',')
      .map((port) => port.trim());
    const port = new URL(endpoint).port || '80';
    if (!excluded.includes(port))
      problems.push(
        `${where(d)}: exports spans to port ${port} through its sidecar (not in excludeOutboundPorts)`,
      );
  }
  return problems;
}

/** All checks that must hold for every stage, by name. */
export const CHECKS = {
  selectorsAndLabels: checkSelectorsAndLabels,
  subsets: checkSubsets,
  serviceEnv: checkServiceEnv,
  ports: checkPorts,
  security: checkSecurity,
  probes: checkProbes,
  resilience: checkResilience,
  mtls: checkMtls,
  authorization: checkAuthorization,
  namespace: checkNamespace,
  objectStoreEvents: checkObjectStoreEvents,
  tracing: checkTracing,
} as const;
