// The Istio resources the data planes read, as the YAML under k8s/istio/ writes them
// (networking.istio.io/v1, security.istio.io/v1). Only the fields the project uses are modelled;
// validation refuses any other field rather than ignoring it. Field docs follow the references at
// istio.io/latest/docs/reference/config/networking/ and .../security/.

export interface ObjectMeta {
  name: string;
  /** Defaults to `default` when absent, as Kubernetes does. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Istio's StringMatch: exactly one of exact, prefix or regex (RE2 syntax, matched whole). */
export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

/** One way a request matches a route; every field set must match (AND). */
export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  method?: StringMatch;
  /** Header name (lower case) to its match. */
  headers?: Record<string, StringMatch>;
  ignoreUriCase?: boolean;
}

export interface Destination {
  /** A Service name (`backend`) or FQDN (`backend.mesh-demo.svc.cluster.local`). */
  host: string;
  /** A subset of the host's DestinationRule. */
  subset?: string;
  port?: { number: number };
}

export interface HTTPRouteDestination {
  destination: Destination;
  /** Share of the traffic, 0-100; the weights of one route sum to 100 (one destination may omit it). */
  weight?: number;
}

export interface HTTPRetry {
  /** Retries after the first try; 0 disables retries. */
  attempts: number;
  /** Duration per try (`1.5s`); defaults to the route's timeout. */
  perTryTimeout?: string;
  /** Comma-separated Envoy retry conditions (`5xx,reset,connect-failure`) and status codes. */
  retryOn?: string;
}

/** Istio's Percent: 0.0-100.0. */
export interface Percent {
  value: number;
}

export interface HTTPFaultInjection {
  delay?: { fixedDelay: string; percentage?: Percent };
  abort?: { httpStatus: number; percentage?: Percent };
}

export interface HTTPRoute {
  name?: string;
  /** Any one matching is enough (OR); no match list matches every request. */
  match?: HTTPMatchRequest[];
  route: HTTPRouteDestination[];
  /** Whole-request timeout (`4s`); none when absent. */
  timeout?: string;
  retries?: HTTPRetry;
  fault?: HTTPFaultInjection;
}

export interface VirtualServiceSpec {
  hosts: string[];
  gateways?: string[];
  exportTo?: string[];
  /** Evaluated in order: the first route that matches takes the request. */
  http: HTTPRoute[];
}

export interface ConnectionPoolSettings {
  tcp?: {
    maxConnections?: number;
    /** TCP connect timeout (`2s`); Istio's default is 10s. */
    connectTimeout?: string;
  };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    /** 0 or absent: unlimited; 1 disables keep-alive. */
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    idleTimeout?: string;
  };
}

export interface OutlierDetection {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}

export interface TrafficPolicy {
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
}

export interface Subset {
  name: string;
  /** Pod labels that select the subset's endpoints among the host's. */
  labels: Record<string, string>;
  /** Overrides the DestinationRule's settings of the same name for this subset. */
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
}

export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  mtls?: { mode?: MtlsMode };
  /** Container port (as a string key) to its mode; needs a selector. */
  portLevelMtls?: Record<string, { mode?: MtlsMode }>;
}

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface Rule {
  from?: { source: Source }[];
  to?: { operation: Operation }[];
  when?: Condition[];
}

export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  targetRef?: unknown;
  targetRefs?: unknown[];
  /** ALLOW when absent. */
  action?: AuthorizationAction;
  provider?: { name: string };
  rules?: Rule[];
}

export interface GatewaySpec {
  selector?: Record<string, string>;
  servers: { port: { number: number; name: string; protocol: string }; hosts: string[] }[];
}

interface Resource<Kind extends string, Spec> {
  apiVersion: string;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
}

export type VirtualService = Resource<'VirtualService', VirtualServiceSpec>;
export type DestinationRule = Resource<'DestinationRule', DestinationRuleSpec>;
export type PeerAuthentication = Resource<'PeerAuthentication', PeerAuthenticationSpec>;
export type AuthorizationPolicy = Resource<'AuthorizationPolicy', AuthorizationPolicySpec>;
export type Gateway = Resource<'Gateway', GatewaySpec>;
export type IstioResource =
  VirtualService | DestinationRule | PeerAuthentication | AuthorizationPolicy | Gateway;
export type IstioKind = IstioResource['kind'];
