import { measureAtRate, measureInterleaved, type RateRuns, type TargetRuns } from '../load';
import { BACKEND_POD, BENCH_MESH, outboundListener } from '../mesh';
import type { ScenarioContext } from './context';

/** One request, straight to the backend's app and through a sidecar pair to the same app. */
export interface SidecarPath {
  /** e.g. GET /products */
  request: string;
  /** At the fixed rate: latency percentiles of each round, their medians and spread. */
  atRate: { direct: RateRuns; sidecars: RateRuns };
  /** As fast as answers come, at `settings.connections` connections. */
  throughput: { direct: TargetRuns; sidecars: TargetRuns };
}

export interface SidecarsResult {
  /** The fixed rate the latencies were measured at, req/s. */
  rate: number;
  /** The layout: stage and backend pods, as npm start's --canary and --replicas name them. */
  mesh: { stage: string; pod: string };
  paths: SidecarPath[];
}

/**
 * The requests measured: the products list, which the backend answers from DynamoDB, and its
 * version, which it answers from memory, so that what the sidecars cost shows against a cheap answer.
 */
const REQUESTS = ['/products', '/version'];

/** The most connections a fixed-rate run opens: enough that a slow answer delays no later request. */
const RATE_CONNECTIONS = 50;

/**
 * A request through a sidecar pair of the local data plane (the caller's outbound listener, mutual TLS
 * to the callee's inbound listener, its authorization, on to the app) against the same request
 * straight to the app: latency at a fixed rate (200 req/s) and throughput, both interleaved.
 * The caller is the frontend's sidecar, whose identity the backend's AuthorizationPolicy admits.
 */
export async function sidecarsScenario(ctx: ScenarioContext): Promise<SidecarsResult> {
  const { settings, log } = ctx;
  const stack = await ctx.stack('mesh');
  const direct = stack.url(BACKEND_POD);
  const pair = await outboundListener(stack.url('mesh'), 'frontend', 'backend');
  const pids = {
    ...stack.pids(BACKEND_POD),
    'data plane': stack.pids('mesh').mesh as number,
    'load generator': process.pid,
  };
  const targets = REQUESTS.flatMap((path) => [
    { name: `direct GET ${path}`, url: `${direct}${path}`, pids },
    { name: `sidecar pair GET ${path}`, url: `${pair}${path}`, pids },
  ]);
  log(`  ${settings.rounds} rounds x ${settings.duration} s per target, ${settings.connections} connections`);
  const throughput = await measureInterleaved(targets, settings, log);
  const rate = settings.sidecarRate;
  log(`  ${settings.rounds} rounds x ${settings.duration} s per target at ${rate} req/s`);
  const atRate = await measureAtRate(
    targets,
    { rate, duration: settings.duration, connections: RATE_CONNECTIONS, rounds: settings.rounds },
    log,
  );
  return {
    rate,
    mesh: { stage: BENCH_MESH.stage, pod: BACKEND_POD },
    paths: REQUESTS.map((path) => ({
      request: `GET ${path}`,
      atRate: { direct: atRate(`direct GET ${path}`), sidecars: atRate(`sidecar pair GET ${path}`) },
      throughput: {
        direct: throughput(`direct GET ${path}`),
        sidecars: throughput(`sidecar pair GET ${path}`),
      },
    })),
  };
}
