// An evaluator of Istio's request authorization, as the sidecar of the destination workload decides
// it, for the parts of PeerAuthentication and AuthorizationPolicy this project can use. It follows
// the reference (istio.io/latest/docs/reference/config/security/authorization-policy/ and
// .../peer_authentication/): PeerAuthentication first (a STRICT workload refuses a plaintext
// connection), then CUSTOM, DENY and ALLOW policies in that order. Anything it does not model
// (targetRefs, JWT conditions it cannot see, unknown condition keys) throws instead of guessing.
// The local data plane decides each inbound request with it; the tests decide rendered manifests.
import { ROOT_NAMESPACE } from './identity';
import type {
  AuthorizationPolicy,
  Condition,
  MtlsMode,
  Operation,
  PeerAuthentication,
  Rule,
  Source,
  WorkloadSelector,
} from './types';

/** What the evaluator reads of an AuthorizationPolicy: its name, namespace and spec. */
export type AuthorizationPolicyInput = Pick<AuthorizationPolicy, 'metadata' | 'spec'>;
/** What the evaluator reads of a PeerAuthentication: its name, namespace and spec. */
export type PeerAuthenticationInput = Pick<PeerAuthentication, 'metadata' | 'spec'>;

type Values = string[] | undefined;

// --- the request, as the destination sidecar sees it

export interface Workload {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** Whether an Envoy sidecar enforces policies for it. Without one, nothing is enforced. */
  sidecar: boolean;
}
/** The caller: with mTLS, its certificate names it; in plaintext, nothing does. */
export type Peer = { mtls: true; principal: string; ip?: string } | { mtls: false; ip?: string };
export interface Request {
  source: Peer;
  destination: Workload;
  /** The workload's (container) port the connection arrives on. */
  port: number;
  method: string;
  /** As sent, query string included. */
  path: string;
  host?: string;
  headers?: Record<string, string>;
  /** `<iss>/<sub>` of a validated JWT, if any. */
  requestPrincipal?: string;
}
export interface Decision {
  allowed: boolean;
  /** Why, naming the policy that decided when one did. */
  reason: string;
}
export interface EvaluateOptions {
  rootNamespace?: string;
  /** The external authorizer's answer for a request a CUSTOM policy sends to it. */
  custom?: (policy: AuthorizationPolicyInput, request: Request) => boolean;
}

// --- matching

/** Istio's string match: exact, `prefix*`, `*suffix`, or `*` for any non-empty value. */
export function matchValue(pattern: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (pattern.includes('{')) throw new Error(`path templates like ${pattern} are not modelled`);
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return value === pattern;
}
const anyMatch = (patterns: string[], value: string | undefined, fold = false) =>
  patterns.some((p) => matchValue(fold ? p.toLowerCase() : p, fold ? value?.toLowerCase() : value));

/** A list field and its `not` twin: set fields must match, `not` fields must not. */
function field(values: Values, notValues: Values, value: string | undefined, fold = false): boolean {
  if (values && !anyMatch(values, value, fold)) return false;
  if (notValues && anyMatch(notValues, value, fold)) return false;
  return true;
}

function ipv4(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}
function inBlock(block: string, ip: string | undefined): boolean {
  const [base = '', bits = '32'] = block.split('/');
  const [a, b] = [ipv4(base), ip === undefined ? undefined : ipv4(ip)];
  if (a === undefined) throw new Error(`only IPv4 blocks are modelled, not ${block}`);
  if (b === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(b / size);
}
function ipField(blocks: Values, notBlocks: Values, ip: string | undefined): boolean {
  if (blocks && !blocks.some((block) => inBlock(block, ip))) return false;
  if (notBlocks && notBlocks.some((block) => inBlock(block, ip))) return false;
  return true;
}

/** The peer's principal, and the namespace in it; both absent in plaintext. */
function identity(peer: Peer): { principal?: string; namespace?: string } {
  if (!peer.mtls) return {};
  return { principal: peer.principal, namespace: /\/ns\/([^/]+)\//.exec(peer.principal)?.[1] };
}

function matchSource(source: Source, request: Request): boolean {
  const { principal, namespace } = identity(request.source);
  return (
    field(source.principals, source.notPrincipals, principal) &&
    field(source.namespaces, source.notNamespaces, namespace) &&
    field(source.requestPrincipals, source.notRequestPrincipals, request.requestPrincipal) &&
    ipField(source.ipBlocks, source.notIpBlocks, request.source.ip) &&
    ipField(source.remoteIpBlocks, source.notRemoteIpBlocks, request.source.ip)
  );
}

/**
 * The path as policies see it: without the query, after the mesh's default (BASE) normalization,
 * RFC 3986 dot segments resolved and backslashes turned into slashes.
 */
export function normalizePath(raw: string): string {
  const path = raw.split(/[?#]/)[0]!.replace(/\\/g, '/');
  const out: string[] = [];
  for (const segment of path.split('/').slice(1)) {
    if (segment === '.' || segment === '%2e' || segment === '%2E') continue;
    if (segment === '..' || /^(%2e|\.){2}$/i.test(segment)) out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}`;
}

function matchOperation(operation: Operation, request: Request): boolean {
  const path = normalizePath(request.path);
  return (
    field(operation.hosts, operation.notHosts, request.host, true) &&
    field(operation.ports, operation.notPorts, String(request.port)) &&
    field(operation.methods, operation.notMethods, request.method) &&
    field(operation.paths, operation.notPaths, path)
  );
}

function conditionValue(key: string, request: Request): string | undefined {
  const { principal, namespace } = identity(request.source);
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) return request.headers?.[header[1]!.toLowerCase()];
  switch (key) {
    case 'source.principal':
      return principal;
    case 'source.namespace':
      return namespace;
    case 'source.ip':
    case 'remote.ip':
      return request.source.ip;
    case 'destination.port':
      return String(request.port);
    case 'request.auth.principal':
      return request.requestPrincipal;
    default:
      throw new Error(`condition key ${key} is not modelled`);
  }
}

function matchCondition({ key, values, notValues }: Condition, request: Request): boolean {
  if (!values && !notValues) throw new Error(`condition ${key} has neither values nor notValues`);
  const value = conditionValue(key, request);
  const ip = key === 'source.ip' || key === 'remote.ip';
  return ip ? ipField(values, notValues, value) : field(values, notValues, value);
}

/** A rule matches when one of its sources, one of its operations and all of its conditions do. */
export function matchRule(rule: Rule, request: Request): boolean {
  const from = rule.from ?? [];
  const to = rule.to ?? [];
  return (
    (from.length === 0 || from.some(({ source }) => matchSource(source ?? {}, request))) &&
    (to.length === 0 || to.some(({ operation }) => matchOperation(operation ?? {}, request))) &&
    (rule.when ?? []).every((condition) => matchCondition(condition, request))
  );
}

/** A policy matches when one of its rules does; without rules it matches nothing. */
const matchPolicy = (policy: AuthorizationPolicyInput, request: Request) =>
  (policy.spec.rules ?? []).some((rule) => matchRule(rule, request));

const selects = (selector: WorkloadSelector | undefined, workload: Workload) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => workload.labels[k] === v);

/** The policies that apply to a workload: its namespace's and the root namespace's, by selector. */
export function policiesFor(
  policies: AuthorizationPolicyInput[],
  workload: Workload,
  rootNamespace = ROOT_NAMESPACE,
): AuthorizationPolicyInput[] {
  return policies.filter((policy) => {
    const namespace = policy.metadata.namespace ?? 'default';
    if (policy.spec.targetRef || policy.spec.targetRefs) {
      throw new Error(`${policy.metadata.name}: targetRef policies (waypoints, gateways) are not modelled`);
    }
    if (namespace !== workload.namespace && namespace !== rootNamespace) return false;
    return selects(policy.spec.selector, workload);
  });
}

/**
 * The mTLS mode of a workload's port: a port-level setting of a workload policy, then the workload
 * policy, then the namespace's, then the mesh's (root namespace); UNSET inherits; PERMISSIVE by default.
 */
export function mtlsMode(
  peerAuthentications: PeerAuthenticationInput[],
  workload: Workload,
  port: number,
  rootNamespace = ROOT_NAMESPACE,
): Exclude<MtlsMode, 'UNSET'> {
  const inNamespace = (pa: PeerAuthenticationInput, namespace: string) =>
    (pa.metadata.namespace ?? 'default') === namespace;
  const workloadLevel = peerAuthentications.filter(
    (pa) => inNamespace(pa, workload.namespace) && pa.spec.selector && selects(pa.spec.selector, workload),
  );
  const namespaceLevel = peerAuthentications.filter(
    (pa) => inNamespace(pa, workload.namespace) && !pa.spec.selector,
  );
  const meshLevel = peerAuthentications.filter((pa) => inNamespace(pa, rootNamespace) && !pa.spec.selector);
  const candidates: Array<MtlsMode | undefined> = [
    ...workloadLevel.map((pa) => pa.spec.portLevelMtls?.[String(port)]?.mode),
    ...workloadLevel.map((pa) => pa.spec.mtls?.mode),
    ...namespaceLevel.map((pa) => pa.spec.mtls?.mode),
    ...meshLevel.map((pa) => pa.spec.mtls?.mode),
  ];
  const mode = candidates.find((m) => m !== undefined && m !== 'UNSET');
  return (mode as Exclude<MtlsMode, 'UNSET'> | undefined) ?? 'PERMISSIVE';
}

const named = (policy: AuthorizationPolicyInput) =>
  `${policy.spec.action ?? 'ALLOW'} ${policy.metadata.namespace ?? 'default'}/${policy.metadata.name}`;

/** Whether the destination's sidecar lets the request through, and why. */
export function authorize(
  policies: AuthorizationPolicyInput[],
  peerAuthentications: PeerAuthenticationInput[],
  request: Request,
  { rootNamespace = ROOT_NAMESPACE, custom }: EvaluateOptions = {},
): Decision {
  const { destination } = request;
  if (!destination.sidecar) return { allowed: true, reason: 'no sidecar: nothing is enforced' };
  const mode = mtlsMode(peerAuthentications, destination, request.port, rootNamespace);
  if (mode === 'STRICT' && !request.source.mtls) {
    return { allowed: false, reason: 'plaintext connection refused (mTLS STRICT)' };
  }
  // With mTLS disabled the connection is plaintext whatever the client could present.
  const effective: Request =
    mode === 'DISABLE' ? { ...request, source: { mtls: false, ip: request.source.ip } } : request;
  const applicable = policiesFor(policies, destination, rootNamespace);
  const byAction = (action: string) => applicable.filter((p) => (p.spec.action ?? 'ALLOW') === action);

  for (const policy of byAction('CUSTOM')) {
    if (!matchPolicy(policy, effective)) continue;
    if (!custom)
      throw new Error(`${named(policy)} delegates to ${policy.spec.provider?.name}: give a custom decision`);
    if (!custom(policy, effective))
      return { allowed: false, reason: `denied by the provider of ${named(policy)}` };
  }
  const deny = byAction('DENY').find((policy) => matchPolicy(policy, effective));
  if (deny) return { allowed: false, reason: `matched ${named(deny)}` };
  const allows = byAction('ALLOW');
  if (allows.length === 0) return { allowed: true, reason: 'no ALLOW policy applies' };
  const allow = allows.find((policy) => matchPolicy(policy, effective));
  if (allow) return { allowed: true, reason: `matched ${named(allow)}` };
  return { allowed: false, reason: `matched none of ${allows.map(named).join(', ')}` };
}
