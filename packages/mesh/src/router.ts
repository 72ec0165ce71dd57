// The router of an outbound listener (and of the ingress gateway), following Envoy's router filter
// as istiod configures it (www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter,
// .../intro/arch_overview/http/http_routing#retry-semantics):
// - the VirtualService's routes in order, the first that matches; none: 404 NR;
// - fault injection first (abort: the given status, FI; delay: DI);
// - a weighted route picks its cluster once per request, and every retry stays in that cluster;
// - the circuit breaker: past maxConnections requests in flight and a full pending queue, 503 with
//   `x-envoy-overloaded: true` (UO), never retried;
// - each try goes to a host the load balancer picks, passing over hosts already tried (Istio's
//   previous_hosts predicate); its per-try timeout and the route's timeout (from the end of the
//   request, over every try) answer 504 UT;
// - retries on the route's retryOn conditions (5xx and gateway-error also on resets and per-try
//   timeouts, connect-failure on connection failures, retriable-4xx on 409, retriable-status-codes),
//   at most numRetries, with Envoy's fully jittered backoff (25 ms base, 250 ms cap), within the
//   cluster's max_retries; the last answer goes back, flagged URX when retries ran out;
// - no healthy host: 503 UH; a connection that cannot be made: 503 UF.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { type AccessLogEntry, formatAccessLog, RESPONSE_FLAGS, type ResponseFlag } from './access-log';
import { forwardableHeaders, localReply, readRequestBody, type RequestBody } from './http-util';
import type { UpstreamResult } from './outlier-detector';
import type { ResolvedDestination, ResolvedRetryPolicy, ResolvedRoute } from './policy';
import { selectRoute } from './route-match';
import type { Stats } from './stats';
import type { ProxyTracer } from './tracing';
import { OverflowError, type UpstreamCluster, type UpstreamHost } from './upstream';

/** What the router of one listener routes with: the routes, in order, and the clusters they name. */
export interface RouteTable {
  /** inbound: the sidecar's own app behind it (a server span); outbound: a service it calls (a client span). */
  direction: 'inbound' | 'outbound';
  /** The VirtualService host the listener serves, for span names: `backend.mesh-demo.svc.cluster.local:80`. */
  authority: string;
  routes: ResolvedRoute[];
  cluster(destination: ResolvedDestination): UpstreamCluster | undefined;
  /** Inbound: Istio's RBAC filter, deciding before routing; a denial is 403 `RBAC: access denied`. */
  authorize?(req: IncomingMessage): { allowed: boolean; reason: string; peer?: string };
}

/** The proxy a router belongs to. */
export interface RouterContext {
  proxy: string;
  stats: Stats;
  /** `http.<prefix>.` for the listener's HTTP statistics. */
  httpPrefix: string;
  tracer: ProxyTracer;
  accessLog: (line: string) => void;
  random?: () => number;
}

const BASE_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 250;

/** Envoy's JitteredBackOffStrategy: a random wait below min(25 ms * (2^n - 1), 250 ms) before retry n. */
export const retryBackoffMs = (retry: number, random = Math.random): number =>
  Math.floor(random() * Math.min(BASE_BACKOFF_MS * (2 ** retry - 1), MAX_BACKOFF_MS));

/** Picks a destination by weight (0-100); once per request. */
export function pickDestination(
  destinations: ResolvedDestination[],
  random = Math.random,
): ResolvedDestination {
  let roll = random() * destinations.reduce((sum, d) => sum + d.weight, 0);
  for (const destination of destinations) {
    roll -= destination.weight;
    if (roll < 0) return destination;
  }
  return destinations[destinations.length - 1]!;
}

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
]);

type TryOutcome =
  | { kind: 'response'; response: Dispatcher.ResponseData; host: UpstreamHost }
  | {
      kind: 'failure';
      result: Exclude<UpstreamResult, { status: number }>;
      host: UpstreamHost;
      reason: string;
    };

/** Whether the route's retry policy retries this outcome (Envoy's RetryStateImpl). */
export function wouldRetry(
  policy: ResolvedRetryPolicy,
  outcome: { status: number; overloaded?: boolean } | { failure: 'connect-failure' | 'timeout' | 'reset' },
): boolean {
  const on = new Set(policy.retryOn);
  if ('failure' in outcome) {
    if (on.has('5xx') || on.has('gateway-error') || on.has('reset')) return true;
    return outcome.failure === 'connect-failure' && on.has('connect-failure');
  }
  const { status } = outcome;
  if (outcome.overloaded) return false;
  if (on.has('5xx') && status >= 500) return true;
  if (on.has('gateway-error') && (status === 502 || status === 503 || status === 504)) return true;
  if (on.has('retriable-4xx') && status === 409) return true;
  return on.has('retriable-status-codes') && policy.retriableStatusCodes.includes(status);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** One try against one host, bounded by its own timeout and the request's. */
async function tryHost(
  host: UpstreamHost,
  req: IncomingMessage,
  headers: Record<string, string>,
  body: RequestBody,
  perTryMs: number | undefined,
  overall: AbortSignal,
): Promise<TryOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer =
    perTryMs === undefined ? undefined : setTimeout(() => ((timedOut = true), controller.abort()), perTryMs);
  const onOverall = () => controller.abort();
  overall.addEventListener('abort', onOverall, { once: true });
  host.active += 1;
  try {
    const response = await host.client.request({
      method: req.method as Dispatcher.HttpMethod,
      path: req.url ?? '/',
      headers,
      body: body.buffer ?? body.stream,
      signal: controller.signal,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    // The timers go on covering the answer's body; the caller clears them when it is done.
    response.body.once('close', () => {
      clearTimeout(timer);
      overall.removeEventListener('abort', onOverall);
      host.active -= 1;
    });
    if (timer) response.body.once('error', () => clearTimeout(timer));
    return { kind: 'response', response, host };
  } catch (err) {
    clearTimeout(timer);
    overall.removeEventListener('abort', onOverall);
    host.active -= 1;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (timedOut || overall.aborted)
      return { kind: 'failure', result: { localOrigin: 'timeout' }, host, reason: 'timeout' };
    if (
      CONNECT_FAILURES.has(code) ||
      /^ERR_(SSL|TLS)/.test(code) ||
      /peer certificate/.test((err as Error).message)
    )
      return {
        kind: 'failure',
        result: { localOrigin: 'connect-failure' },
        host,
        reason: 'connection_failure',
      };
    return { kind: 'failure', result: { localOrigin: 'reset' }, host, reason: 'remote_reset' };
  }
}

/**
 * Routes one request received by an outbound listener (or the gateway) and answers it, writing one
 * access log line. Never throws: every failure becomes the reply Envoy would make.
 */
export async function routeRequest(
  ctx: RouterContext,
  table: RouteTable,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const random = ctx.random ?? Math.random;
  const started = performance.now();
  const incoming = forwardableHeaders(req.headers);
  incoming['x-request-id'] ??= randomUUID();
  incoming['x-forwarded-proto'] ??= 'http';
  const log: AccessLogEntry = {
    proxy: ctx.proxy,
    startTime: new Date(),
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    authority: req.headers.host,
    status: 0,
    flags: [],
    details: 'via_upstream',
    bytesReceived: 0,
    bytesSent: 0,
    durationMs: 0,
    requestId: incoming['x-request-id'],
    downstreamRemoteAddress: req.socket.remoteAddress,
    userAgent: req.headers['user-agent'],
  };
  const span = ctx.tracer.start(table.direction, `${table.authority}/*`, incoming, {
    'http.method': log.method,
    'http.url': `http://${table.authority}${log.path}`,
    'guid:x-request-id': log.requestId!,
    upstream_cluster: '-',
  });
  log.traceparent = span.traceparent;
  const finish = (status: number, flags: ResponseFlag[] = [], details?: string) => {
    log.status = status;
    log.flags.push(...flags);
    if (details) log.details = details;
    log.durationMs = performance.now() - started;
    ctx.stats.countResponse(`${ctx.httpPrefix}downstream_rq`, status || 500);
    span.end(status, {
      response_flags: log.flags.join(',') || '-',
      upstream_cluster: log.upstreamCluster ?? '-',
    });
    ctx.accessLog(formatAccessLog(log));
  };
  const reply = (
    status: number,
    body: string,
    flags: ResponseFlag[],
    details: string,
    headers: Record<string, string> = {},
  ) => {
    log.bytesSent = localReply(res, status, body, headers);
    finish(status, flags, details);
  };

  const decision = table.authorize?.(req);
  log.downstreamPeer = decision?.peer;
  if (decision && !decision.allowed) {
    ctx.stats.inc(`${ctx.httpPrefix}rbac.denied`);
    req.resume();
    return reply(403, 'RBAC: access denied', [], `rbac_access_denied_matched_policy[${decision.reason}]`);
  }
  if (decision) ctx.stats.inc(`${ctx.httpPrefix}rbac.allowed`);

  const route = selectRoute(table.routes, { method: log.method, url: log.path, headers: req.headers });
  if (!route) {
    req.resume();
    return reply(404, '', [RESPONSE_FLAGS.noRouteFound], 'route_not_found');
  }
  log.routeName = route.name;

  const fault = route.fault;
  if (fault?.delay && random() * 100 < fault.delay.percent) {
    log.flags.push(RESPONSE_FLAGS.delayInjected);
    await new Promise((resolve) => setTimeout(resolve, fault.delay!.delayMs));
  }
  if (fault?.abort && random() * 100 < fault.abort.percent) {
    req.resume();
    return reply(
      fault.abort.httpStatus,
      'fault filter abort',
      [RESPONSE_FLAGS.faultInjected],
      'fault_filter_abort',
    );
  }

  const destination = pickDestination(route.destinations, random);
  const cluster = table.cluster(destination);
  if (!cluster) {
    req.resume();
    return reply(503, 'no healthy upstream', [RESPONSE_FLAGS.noHealthyUpstream], 'cluster_not_found');
  }
  log.upstreamCluster = cluster.policy.name;
  const stat = (name: string) => ctx.stats.inc(`${cluster.statPrefix}${name}`);
  // Envoy's answer when the route's timeout (or a per-try timeout, on the last try) runs out: 504 UT.
  const upstreamTimeout = (details: string, flags: ResponseFlag[] = []) => {
    stat('upstream_rq_timeout');
    return reply(504, 'upstream request timeout', [...flags, RESPONSE_FLAGS.upstreamRequestTimeout], details);
  };

  let body: RequestBody;
  try {
    body = await readRequestBody(req);
  } catch {
    return finish(0, [RESPONSE_FLAGS.downstreamConnectionTermination], 'downstream_remote_disconnect');
  }
  log.bytesReceived = body.buffer?.length ?? 0;

  // The route's timeout runs from the end of the request over every try, backoff included.
  const overall = new AbortController();
  const routeTimer =
    route.timeoutMs === undefined ? undefined : setTimeout(() => overall.abort(), route.timeoutMs);
  // 'close' also follows a response that finished: only a client gone before that cancels the tries.
  const clientGone = () => {
    if (!res.writableFinished) overall.abort();
  };
  res.once('close', clientGone);

  let release: () => void;
  try {
    release = await cluster.breaker.acquire(overall.signal);
  } catch (err) {
    clearTimeout(routeTimer);
    if (err instanceof OverflowError) {
      stat('upstream_rq_pending_overflow');
      return reply(
        503,
        'upstream connect error or disconnect/reset before headers. reset reason: overflow',
        [RESPONSE_FLAGS.upstreamOverflow],
        'upstream_reset_before_response_started{overflow}',
        { 'x-envoy-overloaded': 'true' },
      );
    }
    return upstreamTimeout('response_timeout');
  }
  ctx.stats.set(`${cluster.statPrefix}upstream_rq_pending_active`, cluster.breaker.pendingCount);

  const retries = route.retries;
  const canRetry = retries !== undefined && body.buffer !== undefined;
  const tried = new Set<UpstreamHost>();
  const upstreamStart = performance.now();
  let attempt = 0;
  let retrying = false;
  try {
    for (;;) {
      const host = cluster.pickHost(tried);
      if (!host) {
        return reply(503, 'no healthy upstream', [RESPONSE_FLAGS.noHealthyUpstream], 'no_healthy_upstream');
      }
      tried.add(host);
      attempt += 1;
      log.attempts = attempt;
      log.upstreamHost = host.endpoint.address;
      const outcome = await tryHost(host, req, span.headers, body, retries?.perTryTimeoutMs, overall.signal);
      if (retrying) cluster.activeRetries -= 1;
      retrying = false;
      if (outcome.kind === 'failure') cluster.report(host, outcome.result);
      else cluster.report(host, { status: outcome.response.statusCode });

      if (res.destroyed) {
        if (outcome.kind === 'response') outcome.response.body.destroy();
        return finish(0, [RESPONSE_FLAGS.downstreamConnectionTermination], 'downstream_remote_disconnect');
      }
      if (overall.signal.aborted && routeTimer && !res.destroyed) {
        if (outcome.kind === 'response') outcome.response.body.destroy();
        return upstreamTimeout('response_timeout');
      }
      if (outcome.kind === 'failure' && outcome.result.localOrigin === 'timeout')
        stat('upstream_rq_per_try_timeout');
      if (outcome.kind === 'failure' && outcome.result.localOrigin === 'connect-failure')
        stat('upstream_cx_connect_fail');

      const verdict =
        outcome.kind === 'response'
          ? {
              status: outcome.response.statusCode,
              overloaded: outcome.response.headers['x-envoy-overloaded'] !== undefined,
            }
          : { failure: outcome.result.localOrigin };
      const retryable = canRetry && wouldRetry(retries, verdict);
      if (
        retryable &&
        attempt <= retries.numRetries &&
        cluster.activeRetries < cluster.policy.connectionPool.maxRetries
      ) {
        if (outcome.kind === 'response') outcome.response.body.destroy();
        stat('upstream_rq_retry');
        cluster.activeRetries += 1;
        retrying = true;
        await sleep(retryBackoffMs(attempt, random), overall.signal);
        continue;
      }
      if (retryable && attempt <= retries.numRetries) stat('upstream_rq_retry_overflow');
      const exhausted = retryable && attempt > retries.numRetries;
      if (exhausted) stat('upstream_rq_retry_limit_exceeded');
      if (!retryable && attempt > 1) stat('upstream_rq_retry_success');
      const flags: ResponseFlag[] = exhausted ? [RESPONSE_FLAGS.upstreamRetryLimitExceeded] : [];

      if (outcome.kind === 'failure') {
        if (outcome.result.localOrigin === 'timeout') {
          return upstreamTimeout('upstream_per_try_timeout', flags);
        }
        const failure =
          outcome.result.localOrigin === 'connect-failure'
            ? RESPONSE_FLAGS.upstreamConnectionFailure
            : RESPONSE_FLAGS.upstreamRemoteReset;
        return reply(
          503,
          `upstream connect error or disconnect/reset before headers. reset reason: ${outcome.reason.replace('_', ' ')}`,
          [...flags, failure],
          `upstream_reset_before_response_started{${outcome.reason}}`,
        );
      }

      const { response } = outcome;
      ctx.stats.countResponse(`${cluster.statPrefix}upstream_rq`, response.statusCode);
      log.upstreamServiceTimeMs = performance.now() - upstreamStart;
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(response.headers))
        if (value !== undefined && !['connection', 'keep-alive', 'transfer-encoding'].includes(name))
          headers[name] = value;
      headers['x-envoy-upstream-service-time'] = String(Math.round(log.upstreamServiceTimeMs));
      res.writeHead(response.statusCode, headers);
      await new Promise<void>((resolve) => {
        response.body.on('data', (chunk: Buffer) => {
          log.bytesSent += chunk.length;
          if (!res.write(chunk)) response.body.pause();
        });
        res.on('drain', () => response.body.resume());
        response.body.once('end', () => {
          res.end();
          resolve();
        });
        response.body.once('error', () => {
          // The answer broke off after it started: the client sees the connection reset, as with Envoy.
          flags.push(
            overall.signal.aborted
              ? RESPONSE_FLAGS.upstreamRequestTimeout
              : RESPONSE_FLAGS.upstreamRemoteReset,
          );
          res.destroy();
          resolve();
        });
      });
      return finish(response.statusCode, flags);
    }
  } finally {
    if (retrying) cluster.activeRetries -= 1;
    clearTimeout(routeTimer);
    res.off('close', clientGone);
    release();
    ctx.stats.set(`${cluster.statPrefix}upstream_rq_pending_active`, cluster.breaker.pendingCount);
  }
}
