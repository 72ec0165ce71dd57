// What Envoy sidecars would add to the mesh's figures, modelled from Istio's published performance
// figures: this machine runs no Envoy, and the local data plane's Node sidecars are not Envoy.

/** One of Istio's published figures, with the version it was measured on and where it is published. */
export interface IstioFigure {
  istioVersion: string;
  conditions: string;
  source: string;
}

/** Istio 1.24: one sidecar proxy (2 worker threads) at 1000 HTTP req/s of 1 KB payloads. */
export const SIDECAR_RESOURCES: IstioFigure & { vcpuPer1000Rps: number; memoryMb: number } = {
  istioVersion: '1.24',
  conditions: 'one sidecar with 2 worker threads, 1000 HTTP requests per second, 1 KB payloads',
  vcpuPer1000Rps: 0.2,
  memoryMb: 60,
  source: 'https://istio.io/v1.24/docs/ops/deployment/performance-and-scalability/',
};

/**
 * Istio 1.20: what the client's and the server's sidecar of one hop add to the latency, as the page
 * states it in "Latency for Istio 1.20": "the two proxies add about 0.228 ms and 0.298 ms to the 90th
 * and 99th percentile latency", default configuration (telemetry v2), Istio's benchmarks (fortio).
 */
export const HOP_LATENCY: IstioFigure & { p90Ms: number; p99Ms: number } = {
  istioVersion: '1.20',
  conditions:
    '"Latency for Istio 1.20": client sidecar -> server sidecar over the baseline without sidecars, default ' +
    'configuration (telemetry v2), http/1.1, 1 kB payload, 1000 req/s over 2 to 64 client connections, ' +
    '2 proxy workers, mutual TLS',
  p90Ms: 0.228,
  p99Ms: 0.298,
  source: 'https://istio.io/v1.20/docs/ops/deployment/performance-and-scalability/',
};

/**
 * A request's path through the mesh: the hops between two proxies (the ingress gateway counts as
 * the caller's proxy of the first hop), and how many times a proxy handles the request (a sidecar
 * that takes it in and sends it on handles it twice).
 */
export interface MeshPath {
  name: string;
  hops: number;
  proxyPasses: number;
}

/**
 * GET /api/products in the cluster: load balancer -> ingress gateway -> frontend's sidecar ->
 * frontend -> frontend's sidecar -> backend's sidecar -> backend. DynamoDB is outside the mesh.
 */
export const PRODUCTS_PATH: MeshPath = { name: 'GET /api/products', hops: 2, proxyPasses: 4 };

export interface EnvoyEstimate {
  path: MeshPath;
  /** Request rate the estimate is for, req/s. */
  rps: number;
  /** vCPU the proxies spend on the path's requests at that rate. */
  vcpu: number;
  /** Added to the path's latency percentiles, ms. */
  addedP90Ms: number;
  addedP99Ms: number;
}

/** Envoy's CPU and latency on a path at a request rate, from Istio's figures (linear in the rate). */
export function envoyEstimate(path: MeshPath, rps: number): EnvoyEstimate {
  return {
    path,
    rps,
    vcpu: (path.proxyPasses * SIDECAR_RESOURCES.vcpuPer1000Rps * rps) / 1000,
    addedP90Ms: path.hops * HOP_LATENCY.p90Ms,
    addedP99Ms: path.hops * HOP_LATENCY.p99Ms,
  };
}

/** The request rate at which the proxies on a path use up `cpuMillis` of CPU (e.g. their requests), req/s. */
export function rateForCpu(path: MeshPath, cpuMillis: number): number {
  return (cpuMillis / 1000 / (path.proxyPasses * SIDECAR_RESOURCES.vcpuPer1000Rps)) * 1000;
}
