// VirtualService `http` routes as Envoy routes, the way istiod translates them
// (pilot/pkg/networking/core/route/route.go: BuildHTTPRoutesForVirtualService, TranslateRoute,
// TranslateRouteMatch, setTimeout, TranslateFault; route/retry/retry.go: ConvertPolicy):
// - one Envoy route per `match` entry, named `<route>` or `<route>.<match name>`, in order; a route
//   without `match` is the catch-all and ends the list;
// - one destination: `cluster`; several: `weighted_clusters`, leaving out those of weight 0;
// - `timeout` as the route's timeout, 0s (none) when the route has none;
// - `retries` through the model's resolveRetries (Istio's default policy when absent, none at
//   attempts 0), always with the previous-hosts predicate and 5 host selection attempts;
// - `fault` as the per-route config of the fault filter, percentages as parts per million.
// Deprecated fields istiod still writes (max_grpc_timeout) are left out: they only concern gRPC.
import { formatDuration } from '../duration';
import {
  DEFAULT_RETRY_POLICY,
  resolveRoutes,
  type ResolvedDestination,
  type ResolvedFault,
  type ResolvedRetryPolicy,
} from '../policy';
import type { HTTPMatchRequest, StringMatch, VirtualService } from '../types';
import { FAULT_FILTER, type EnvoyObject, typed } from './envoy';

/** Envoy's StringMatcher for an Istio StringMatch. */
export function stringMatcher(match: StringMatch): EnvoyObject {
  if ('exact' in match) return { exact: match.exact };
  if ('prefix' in match) return { prefix: match.prefix };
  return { safe_regex: { regex: match.regex } };
}

/** Istio: a header regex of `*` means "present", not a regular expression. */
const headerMatcher = (name: string, match: StringMatch): EnvoyObject =>
  'regex' in match && match.regex === '*'
    ? { name, present_match: true }
    : { name, string_match: stringMatcher(match) };

/** An HTTPMatchRequest as Envoy's RouteMatch; none matches every request (prefix `/`). */
export function routeMatch(match: HTTPMatchRequest | undefined): EnvoyObject {
  const out: EnvoyObject = { prefix: '/' };
  if (!match) return out;
  const uri = match.uri;
  if (uri) {
    delete out.prefix;
    if ('exact' in uri) out.path = uri.exact;
    else if ('prefix' in uri) out.prefix = uri.prefix;
    else out.safe_regex = { regex: uri.regex };
  }
  if (match.ignoreUriCase) out.case_sensitive = false;
  const headers = Object.entries(match.headers ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, m]) => headerMatcher(name, m));
  if (match.method) headers.push(headerMatcher(':method', match.method));
  if (headers.length) out.headers = headers;
  return out;
}

/** A resolved retry policy as Envoy's RetryPolicy. */
export function retryPolicy(retries: ResolvedRetryPolicy): EnvoyObject {
  return {
    retry_on: retries.retryOn.join(','),
    num_retries: retries.numRetries,
    ...(retries.perTryTimeoutMs === undefined
      ? {}
      : { per_try_timeout: formatDuration(retries.perTryTimeoutMs) }),
    retry_host_predicate: [
      typed(
        'envoy.retry_host_predicates.previous_hosts',
        'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
      ),
    ],
    host_selection_retry_max_attempts: 5,
    ...(retries.retriableStatusCodes.length ? { retriable_status_codes: retries.retriableStatusCodes } : {}),
  };
}

/** Istio's Percent (0-100, fractional) as Envoy's FractionalPercent in parts per million. */
const perMillion = (percent: number): EnvoyObject => ({
  numerator: Math.round(percent * 10_000),
  denominator: 'MILLION',
});

/** A resolved fault as the fault filter's per-route config. */
export function faultConfig(fault: ResolvedFault): EnvoyObject {
  return {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
    ...(fault.delay && {
      delay: {
        fixed_delay: formatDuration(fault.delay.delayMs),
        percentage: perMillion(fault.delay.percent),
      },
    }),
    ...(fault.abort && {
      abort: { http_status: fault.abort.httpStatus, percentage: perMillion(fault.abort.percent) },
    }),
  };
}

/** Names the Envoy cluster a route destination leads to. */
export type ClusterOf = (destination: ResolvedDestination) => string;

/** Istio's span name for a route: `<host>:<port><path>` for one cluster, `<virtual service>:<port><path>` for a split. */
function operation(match: EnvoyObject, target: string, port: number): string {
  const path =
    typeof match.path === 'string'
      ? match.path
      : typeof match.prefix === 'string'
        ? `${match.prefix}*`
        : ((match.safe_regex as { regex: string } | undefined)?.regex ?? '/*');
  return `${target}:${port}${path}`;
}

/**
 * The Envoy routes of a VirtualService's `http` list, in order.
 * @param port the Service port the VirtualService is reached on (e.g. 80), for span names.
 * @param clusterOf the cluster of a destination (Istio's `outbound|<port>|<subset>|<fqdn>`).
 * @returns the routes, and whether any carries a fault (the listener then needs the fault filter).
 */
export function virtualServiceRoutes(
  vs: VirtualService,
  port: number,
  clusterOf: ClusterOf,
): { routes: EnvoyObject[]; faults: boolean } {
  const routes: EnvoyObject[] = [];
  let faults = false;
  for (const route of resolveRoutes(vs)) {
    const matches: (HTTPMatchRequest | undefined)[] = route.match.length ? route.match : [undefined];
    const live =
      route.destinations.length === 1 ? route.destinations : route.destinations.filter((d) => d.weight > 0);
    const single = live.length === 1 && route.destinations.length === 1;
    const target = single ? clusterOf(live[0]!).split('|')[3]! : vs.metadata.name;
    for (const m of matches) {
      const match = routeMatch(m);
      routes.push({
        name: m?.name ? `${route.name}.${m.name}` : route.name,
        match,
        route: {
          ...(single
            ? { cluster: clusterOf(live[0]!) }
            : {
                weighted_clusters: { clusters: live.map((d) => ({ name: clusterOf(d), weight: d.weight })) },
              }),
          timeout: formatDuration(route.timeoutMs ?? 0),
          ...(route.retries && { retry_policy: retryPolicy(route.retries) }),
        },
        decorator: { operation: operation(match, target, port) },
        ...(route.fault && { typed_per_filter_config: { [FAULT_FILTER]: faultConfig(route.fault) } }),
      });
    }
    if (route.fault) faults = true;
    // A route without match takes every request: nothing after it is reachable (Istio stops there).
    if (!route.match.length) break;
  }
  return { routes, faults };
}

/** Istio's route for a host no VirtualService routes: everything to its cluster, default retries, no timeout. */
export function defaultRoute(cluster: string, operationName: string): EnvoyObject {
  return {
    name: 'default',
    match: { prefix: '/' },
    route: { cluster, timeout: '0s', retry_policy: retryPolicy(DEFAULT_RETRY_POLICY) },
    decorator: { operation: operationName },
  };
}
