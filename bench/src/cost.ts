import type { Resources, Workload } from './footprint';
import type { Prices } from './prices';

/** Istio's own pods, which a mesh adds to the cluster (requests from Istio's Helm chart defaults). */
export interface ControlPlane {
  /** Once per cluster: istiod, the ingress gateway. */
  perCluster: Array<{ name: string } & Resources>;
  /** Once per node: the istio-cni DaemonSet. */
  perNode: Array<{ name: string } & Resources>;
}

export const ISTIO_CONTROL_PLANE: ControlPlane = {
  perCluster: [
    { name: 'istiod', cpuMillis: 500, memoryMib: 2048 },
    { name: 'istio-ingressgateway', cpuMillis: 100, memoryMib: 128 },
  ],
  perNode: [{ name: 'istio-cni-node', cpuMillis: 100, memoryMib: 100 }],
};

export interface LambdaUse {
  function: string;
  memoryMb: number;
  /** A warm invocation's duration (ms), e.g. the median measured. */
  durationMs: number;
  /** The init phase of a cold start (ms), billed since August 2025 for on-demand functions. */
  initMs: number;
  /** Share of invocations that are cold starts (0..1). */
  coldStartFraction: number;
  /** Called through API Gateway (REST), which bills per call. */
  apiGateway: boolean;
  /** What the function itself writes to its log per invocation (bytes); Lambda adds its own lines. */
  logBytesPerInvocation: number;
}

export interface LambdaCost {
  function: string;
  /** Lambda bills duration in 1 ms steps. */
  billedMs: number;
  /** Duration and the cold starts' share of init, per request. */
  gbSecondsPerRequest: number;
  /** Bytes per invocation into CloudWatch Logs: the function's own lines and Lambda's START/END/REPORT. */
  logBytesPerInvocation: number;
  /** USD per million requests, split into its parts. */
  perMillion: {
    compute: number;
    init: number;
    requests: number;
    apiGateway: number;
    logs: number;
    total: number;
  };
}

/**
 * The lines Lambda itself writes for every invocation (START, END, REPORT, as CloudWatch Logs shows
 * them), in bytes: each invocation pays their ingestion whatever the function logs.
 */
export function platformLogBytes(memoryMb: number): number {
  const id = '3f1c2a9e-6b7d-4e21-9c0a-5d8f7e6b4a21';
  return Buffer.byteLength(
    `START RequestId: ${id} Version: $LATEST\n` +
      `END RequestId: ${id}\n` +
      `REPORT RequestId: ${id}\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: ${memoryMb} MB\t` +
      'Max Memory Used: 80 MB\t\n',
  );
}

/**
 * Lambda's bill per million requests: duration rounded up to 1 ms at the memory size, the init of
 * the share of cold starts (billed like duration since 1 August 2025), the request charge, API
 * Gateway's per-call charge, and CloudWatch Logs ingestion of every invocation's lines.
 */
export function lambdaCost(use: LambdaUse, prices: Prices): LambdaCost {
  const billedMs = Math.max(1, Math.ceil(use.durationMs));
  const billedInitMs = Math.ceil(use.initMs);
  const gb = use.memoryMb / 1024;
  const durationGbSeconds = (gb * billedMs) / 1000;
  const initGbSeconds = (gb * use.coldStartFraction * billedInitMs) / 1000;
  const logBytesPerInvocation = use.logBytesPerInvocation + platformLogBytes(use.memoryMb);
  const compute = durationGbSeconds * prices.lambdaPerGbSecond * 1e6;
  const init = initGbSeconds * prices.lambdaPerGbSecond * 1e6;
  const requests = prices.lambdaPerMillionRequests;
  const apiGateway = use.apiGateway ? prices.apiGatewayRestPerMillion : 0;
  const logs = ((logBytesPerInvocation * 1e6) / 1e9) * prices.cloudWatchLogsPerGb;
  return {
    function: use.function,
    billedMs,
    gbSecondsPerRequest: durationGbSeconds + initGbSeconds,
    logBytesPerInvocation,
    perMillion: {
      compute,
      init,
      requests,
      apiGateway,
      logs,
      total: compute + init + requests + apiGateway + logs,
    },
  };
}

/**
 * The Network Load Balancer in front of the ingress gateway, per month at an average request rate:
 * its hourly charge plus capacity units for the bytes it carries (1 GB an hour per unit; with
 * keep-alive clients, bytes and not connections are the dimension that counts).
 */
export function loadBalancerMonthly(rps: number, bytesPerRequest: number, prices: Prices): number {
  const gbPerHour = (rps * 3600 * bytesPerRequest) / 1e9;
  return (prices.loadBalancerHourly + gbPerHour * prices.loadBalancerPerLcuHour) * prices.hoursPerMonth;
}

/** The load balancer's capacity-unit charge per million requests of `bytesPerRequest`, USD. */
export function loadBalancerPerMillion(bytesPerRequest: number, prices: Prices): number {
  return ((bytesPerRequest * 1e6) / 1e9) * prices.loadBalancerPerLcuHour;
}

export interface ClusterCost {
  /** Requested by the counted workloads (apps, sidecars, control plane as applicable). */
  requested: Resources;
  /** Whole nodes: what the smallest cluster for these requests bills. */
  nodes: number;
  monthly: number;
  /** The share of nodes the requests take (by the scarcer of CPU and memory): their part of a larger cluster. */
  nodeShare: number;
  proratedMonthly: number;
}

export interface MeshCost {
  /** The counted workloads with their sidecars and Istio's control plane. */
  withMesh: ClusterCost;
  /** The same workloads without Istio: no sidecars, no control plane. */
  withoutMesh: ClusterCost;
  /** What the sidecars request (all replicas). */
  sidecars: Resources;
  /** Sidecar requests as a share of the apps' own requests. */
  sidecarShare: { cpu: number; memory: number };
  /** What Istio's requests (sidecars, control plane) take of node capacity, per month (prorated). */
  meshMonthly: number;
  workloads: Array<Workload & { counted: boolean }>;
}

function add(a: Resources, b: Resources, times = 1): Resources {
  return { cpuMillis: a.cpuMillis + b.cpuMillis * times, memoryMib: a.memoryMib + b.memoryMib * times };
}

/** The smallest number of nodes whose allocatable CPU and memory hold the requests (per-node pods included). */
export function nodesFor(requested: Resources, perNode: Resources, prices: Prices): number {
  const cpu = prices.nodeVcpu * 1000 * prices.nodeAllocatable;
  const memory = prices.nodeMemoryGib * 1024 * prices.nodeAllocatable;
  if (perNode.cpuMillis >= cpu || perNode.memoryMib >= memory)
    throw new Error('per-node pods do not fit a node');
  return Math.max(
    1,
    Math.ceil(requested.cpuMillis / (cpu - perNode.cpuMillis)),
    Math.ceil(requested.memoryMib / (memory - perNode.memoryMib)),
  );
}

function clusterCost(requested: Resources, perNode: Resources, prices: Prices): ClusterCost {
  const nodes = nodesFor(requested, perNode, prices);
  const total = add(requested, perNode, nodes);
  const nodeShare = Math.max(
    total.cpuMillis / (prices.nodeVcpu * 1000 * prices.nodeAllocatable),
    total.memoryMib / (prices.nodeMemoryGib * 1024 * prices.nodeAllocatable),
  );
  return {
    requested: total,
    nodes,
    monthly: (nodes * prices.nodeHourly + prices.clusterHourly) * prices.hoursPerMonth,
    nodeShare,
    proratedMonthly: nodeShare * prices.nodeHourly * prices.hoursPerMonth,
  };
}

/**
 * Monthly cost of running `apps` (workloads whose `app` label is listed) on on-demand nodes sized by
 * their resource requests, with and without the mesh. Backing services that the serverless twin gets
 * as managed services (DynamoDB, S3) and dev tooling (Jaeger) are left out on both sides.
 */
export function meshCost(
  workloads: Workload[],
  apps: string[],
  prices: Prices,
  controlPlane: ControlPlane = ISTIO_CONTROL_PLANE,
): MeshCost {
  const marked = workloads.map((w) => ({ ...w, counted: w.app !== undefined && apps.includes(w.app) }));
  const counted = marked.filter((w) => w.counted);
  const zero: Resources = { cpuMillis: 0, memoryMib: 0 };
  const appRequests = counted.reduce((sum, w) => add(sum, w.perPod, w.replicas), zero);
  const sidecars = counted.reduce((sum, w) => (w.sidecar ? add(sum, w.sidecar, w.replicas) : sum), zero);
  const perCluster = controlPlane.perCluster.reduce((sum, part) => add(sum, part), zero);
  const perNode = controlPlane.perNode.reduce((sum, part) => add(sum, part), zero);
  const withMesh = clusterCost(add(add(appRequests, sidecars), perCluster), perNode, prices);
  const withoutMesh = clusterCost(appRequests, zero, prices);
  return {
    withMesh,
    withoutMesh,
    sidecars,
    sidecarShare: {
      cpu: appRequests.cpuMillis ? sidecars.cpuMillis / appRequests.cpuMillis : 0,
      memory: appRequests.memoryMib ? sidecars.memoryMib / appRequests.memoryMib : 0,
    },
    meshMonthly: withMesh.proratedMonthly - withoutMesh.proratedMonthly,
    workloads: marked,
  };
}

/** Requests a month at which the Lambda bill equals a fixed monthly cost. */
export function breakEvenRequests(fixedMonthly: number, lambdaPerMillion: number): number {
  if (lambdaPerMillion <= 0) return Infinity;
  return (fixedMonthly / lambdaPerMillion) * 1e6;
}

/** Average requests per second that a monthly volume amounts to. */
export function averageRate(requestsPerMonth: number, prices: Prices): number {
  return requestsPerMonth / (prices.hoursPerMonth * 3600);
}

/** Points of monthly cost against monthly requests, for the cost chart. */
export function costCurve(
  maxRequests: number,
  steps: number,
  lambdaPerMillion: number,
  fixedMonthly: number,
): Array<{ requests: number; lambda: number; mesh: number }> {
  return Array.from({ length: steps + 1 }, (_, i) => {
    const requests = (maxRequests * i) / steps;
    return { requests, lambda: (requests / 1e6) * lambdaPerMillion, mesh: fixedMonthly };
  });
}
