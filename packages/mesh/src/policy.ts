// The resources resolved into what a proxy executes, with Istio's defaults and its translation to
// Envoy made explicit, so the local data plane and the Envoy renderer read the same numbers:
// - retries: pilot/pkg/networking/core/route/retry (no `retries`: 2 retries on
//   connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes with 503; attempts 0:
//   none; numbers in retryOn are retriable status codes), always with the previous-hosts predicate;
// - cluster traffic policy: a subset's connectionPool/outlierDetection replaces the rule's, setting by
//   setting; connection pool limits default to "unlimited" (2^32-1) and connectTimeout to 10s;
// - outlier detection (applyOutlierDetection): consecutive5xxErrors unset keeps Envoy's 5, set to 0
//   turns it off; consecutiveGatewayErrors is enforced only when set above 0; interval 10s,
//   baseEjectionTime 30s, maxEjectionPercent 10 and max_ejection_time 300s are Envoy's defaults.
import { parseDuration } from './duration';
import type { MeshConfig } from './load';
import type {
  ConnectionPoolSettings,
  DestinationRule,
  HTTPMatchRequest,
  HTTPRetry,
  OutlierDetection,
  TrafficPolicy,
  VirtualService,
} from './types';
import { shortHost } from './validate';

/** Istio's "no limit" for the circuit breaker thresholds it sets. */
export const UNLIMITED = 2 ** 32 - 1;
const ms = (duration: string | undefined): number | undefined =>
  duration === undefined ? undefined : parseDuration(duration);

export interface ResolvedRetryPolicy {
  /** Retries after the first try (Envoy's num_retries). */
  numRetries: number;
  /** Per try, in ms; undefined: the route's timeout bounds each try. */
  perTryTimeoutMs?: number;
  /** Envoy retry conditions, e.g. ['5xx', 'reset', 'connect-failure']. */
  retryOn: string[];
  /** Status codes for `retriable-status-codes`. */
  retriableStatusCodes: number[];
}

/** Istio's retry policy when a route says nothing about retries. */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  numRetries: 2,
  retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
  retriableStatusCodes: [503],
};

/** A route's `retries` as Envoy's retry policy; undefined when retries are off (attempts 0). */
export function resolveRetries(retries: HTTPRetry | undefined): ResolvedRetryPolicy | undefined {
  if (!retries) return DEFAULT_RETRY_POLICY;
  if (retries.attempts <= 0) return undefined;
  const parts = retries.retryOn?.split(',').map((p) => p.trim()) ?? [];
  const codes = parts.filter((p) => /^\d+$/.test(p)).map(Number);
  const conditions = parts.filter((p) => !/^\d+$/.test(p));
  if (codes.length && !conditions.includes('retriable-status-codes'))
    conditions.push('retriable-status-codes');
  return {
    numRetries: retries.attempts,
    perTryTimeoutMs: ms(retries.perTryTimeout),
    ...(retries.retryOn
      ? { retryOn: conditions, retriableStatusCodes: codes }
      : {
          retryOn: DEFAULT_RETRY_POLICY.retryOn,
          retriableStatusCodes: DEFAULT_RETRY_POLICY.retriableStatusCodes,
        }),
  };
}

export interface ResolvedDestination {
  /** Short service name, e.g. `backend`. */
  host: string;
  subset?: string;
  port?: number;
  /** 0-100; the weights of a route sum to 100. */
  weight: number;
}

export interface ResolvedFault {
  delay?: { delayMs: number; percent: number };
  abort?: { httpStatus: number; percent: number };
}

/** One `http` route of a VirtualService, ready to execute. */
export interface ResolvedRoute {
  /** The route's name, or `<virtual service>-<index>`. */
  name: string;
  /** Any one matching is enough; empty matches every request. */
  match: HTTPMatchRequest[];
  destinations: ResolvedDestination[];
  /** Whole-request timeout in ms; undefined: none (Istio's default). */
  timeoutMs?: number;
  /** undefined: no retries. */
  retries?: ResolvedRetryPolicy;
  fault?: ResolvedFault;
}

/** The routes of a VirtualService in evaluation order. */
export function resolveRoutes(vs: VirtualService): ResolvedRoute[] {
  return vs.spec.http.map((route, i) => ({
    name: route.name ?? `${vs.metadata.name}-${i}`,
    match: route.match ?? [],
    destinations: route.route.map(({ destination, weight }) => ({
      host: shortHost(destination.host),
      subset: destination.subset,
      port: destination.port?.number,
      weight: route.route.length === 1 ? (weight ?? 100) : (weight ?? 0),
    })),
    timeoutMs: ms(route.timeout),
    retries: resolveRetries(route.retries),
    fault: route.fault && {
      delay: route.fault.delay && {
        delayMs: ms(route.fault.delay.fixedDelay) ?? 0,
        // Istio: without a percentage nothing is delayed or aborted.
        percent: route.fault.delay.percentage?.value ?? 0,
      },
      abort: route.fault.abort && {
        httpStatus: route.fault.abort.httpStatus,
        percent: route.fault.abort.percentage?.value ?? 0,
      },
    },
  }));
}

const namespaceOf = (resource: { metadata: { namespace?: string } }) =>
  resource.metadata.namespace ?? 'default';

/**
 * The VirtualService that routes calls from inside the mesh to `host` (one without `gateways`, or
 * naming `mesh`), in the caller's namespace.
 */
export function virtualServiceFor(
  config: MeshConfig,
  host: string,
  namespace: string,
): VirtualService | undefined {
  return config.virtualServices.find(
    (vs) =>
      namespaceOf(vs) === namespace &&
      (!vs.spec.gateways?.length || vs.spec.gateways.includes('mesh')) &&
      vs.spec.hosts.some((h) => h === '*' || shortHost(h) === shortHost(host)),
  );
}

/** The DestinationRule for `host` in `namespace`, if any. */
export const destinationRuleFor = (
  config: MeshConfig,
  host: string,
  namespace: string,
): DestinationRule | undefined =>
  config.destinationRules.find(
    (dr) => namespaceOf(dr) === namespace && shortHost(dr.spec.host) === shortHost(host),
  );

export interface ResolvedConnectionPool {
  maxConnections: number;
  connectTimeoutMs: number;
  /** Requests waiting for a connection beyond which Envoy answers 503 with x-envoy-overloaded. */
  http1MaxPendingRequests: number;
  /** Requests in flight at once to the cluster (Envoy applies it to HTTP/2 upstreams only). */
  http2MaxRequests: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
  /** Retries in flight at once to the cluster. */
  maxRetries: number;
  /** Idle time in ms after which an upstream connection is closed; undefined: Envoy's default (1 h). */
  idleTimeoutMs?: number;
}

export interface ResolvedOutlierDetection {
  /** 0: not enforced. */
  consecutive5xxErrors: number;
  /** 0: not enforced. */
  consecutiveGatewayErrors: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  /** Envoy's max_ejection_time: the base time times ejections never exceeds it. */
  maxEjectionTimeMs: number;
  maxEjectionPercent: number;
  /**
   * Below this share of healthy hosts Envoy would route to all of them (its panic threshold); Istio
   * sets it from minHealthPercent, 0 by default, which turns panic routing off.
   */
  minHealthPercent: number;
}

/** One upstream cluster as Istio names and configures it: a host, or one subset of it. */
export interface ClusterPolicy {
  /** Istio's cluster name, `outbound|<port>|<subset>|<host>.<namespace>.svc.cluster.local`. */
  name: string;
  host: string;
  subset?: string;
  /** Pod labels that select the cluster's endpoints, besides the Service's own (`app`). */
  labels: Record<string, string>;
  connectionPool: ResolvedConnectionPool;
  /** undefined: no outlier detection for this cluster. */
  outlierDetection?: ResolvedOutlierDetection;
}

/** Istio's outbound cluster name. */
export const clusterName = (host: string, namespace: string, port: number, subset = ''): string =>
  `outbound|${port}|${subset}|${shortHost(host)}.${namespace}.svc.cluster.local`;

/** A DestinationRule's `connectionPool` with Istio's defaults for what it leaves unset (none: all defaults). */
export function resolveConnectionPool(pool: ConnectionPoolSettings | undefined): ResolvedConnectionPool {
  // Istio leaves a 0 as "not set" (its FIXME on telling unset from zero).
  const or = (value: number | undefined, fallback: number) => (value ? value : fallback);
  return {
    maxConnections: or(pool?.tcp?.maxConnections, UNLIMITED),
    connectTimeoutMs: ms(pool?.tcp?.connectTimeout) ?? 10_000,
    http1MaxPendingRequests: or(pool?.http?.http1MaxPendingRequests, UNLIMITED),
    http2MaxRequests: or(pool?.http?.http2MaxRequests, UNLIMITED),
    maxRequestsPerConnection: pool?.http?.maxRequestsPerConnection ?? 0,
    maxRetries: or(pool?.http?.maxRetries, UNLIMITED),
    idleTimeoutMs: ms(pool?.http?.idleTimeout),
  };
}

function resolveOutlier(od: OutlierDetection | undefined): ResolvedOutlierDetection | undefined {
  if (!od) return undefined;
  const baseEjectionTimeMs = ms(od.baseEjectionTime) ?? 30_000;
  return {
    consecutive5xxErrors: od.consecutive5xxErrors ?? 5,
    consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? 0,
    intervalMs: ms(od.interval) ?? 10_000,
    baseEjectionTimeMs,
    maxEjectionTimeMs: Math.max(300_000, baseEjectionTimeMs),
    maxEjectionPercent: od.maxEjectionPercent || 10,
    minHealthPercent: od.minHealthPercent ?? 0,
  };
}

/**
 * The cluster a route destination leads to, with the DestinationRule's traffic policy (the subset's
 * settings replacing the rule's).
 * @throws Error when `subset` is given and no DestinationRule of the host defines it.
 */
export function clusterPolicy(
  config: MeshConfig,
  host: string,
  namespace: string,
  port: number,
  subset?: string,
): ClusterPolicy {
  const dr = destinationRuleFor(config, host, namespace);
  const found = subset === undefined ? undefined : dr?.spec.subsets?.find((s) => s.name === subset);
  if (subset !== undefined && !found)
    throw new Error(`no DestinationRule defines subset ${subset} of ${host}`);
  const policy: TrafficPolicy = { ...dr?.spec.trafficPolicy, ...found?.trafficPolicy };
  return {
    name: clusterName(host, namespace, port, subset),
    host: shortHost(host),
    subset,
    labels: found?.labels ?? {},
    connectionPool: resolveConnectionPool(policy.connectionPool),
    outlierDetection: resolveOutlier(policy.outlierDetection),
  };
}
