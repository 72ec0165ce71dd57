import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  averageRate,
  breakEvenRequests,
  costCurve,
  ISTIO_CONTROL_PLANE,
  lambdaCost,
  loadBalancerMonthly,
  loadBalancerPerMillion,
  meshCost,
  nodesFor,
  platformLogBytes,
} from '../src/cost';
import { DEFAULT_PRICES, loadPrices, type Prices, readPricesFile } from '../src/prices';
import type { Workload } from '../src/footprint';

const prices: Prices = { ...DEFAULT_PRICES };

describe('lambdaCost', () => {
  it('bills the duration rounded up to 1 ms at the memory size, plus requests and API Gateway', () => {
    const cost = lambdaCost(
      {
        function: 'ProductsFunction',
        memoryMb: 256,
        durationMs: 1.2,
        initMs: 0,
        coldStartFraction: 0,
        apiGateway: true,
        logBytesPerInvocation: 0,
      },
      prices,
    );
    expect(cost.billedMs).toBe(2);
    // 0.25 GB x 0.002 s = 0.0005 GB-s per request; a million of them at $0.0000166667.
    expect(cost.gbSecondsPerRequest).toBeCloseTo(0.0005, 12);
    expect(cost.perMillion.compute).toBeCloseTo(0.00833335, 8);
    expect(cost.perMillion.requests).toBe(0.2);
    expect(cost.perMillion.apiGateway).toBe(3.5);
    // Lambda's own START/END/REPORT lines reach CloudWatch Logs even when the function logs nothing.
    expect(cost.logBytesPerInvocation).toBe(platformLogBytes(256));
    expect(cost.perMillion.logs).toBeCloseTo((platformLogBytes(256) / 1000) * 0.5, 10);
    expect(cost.perMillion.total).toBeCloseTo(0.00833335 + 0.2 + 3.5 + cost.perMillion.logs, 8);
  });

  it('adds the init of the share of invocations that are cold starts', () => {
    const warm = lambdaCost(
      {
        function: 'f',
        memoryMb: 1024,
        durationMs: 100,
        initMs: 300,
        coldStartFraction: 0,
        apiGateway: false,
        logBytesPerInvocation: 0,
      },
      prices,
    );
    const someCold = lambdaCost(
      {
        function: 'f',
        memoryMb: 1024,
        durationMs: 100,
        initMs: 300,
        coldStartFraction: 0.01,
        apiGateway: false,
        logBytesPerInvocation: 0,
      },
      prices,
    );
    expect(warm.gbSecondsPerRequest).toBeCloseTo(0.1, 12);
    expect(someCold.gbSecondsPerRequest).toBeCloseTo(0.1 + 0.003, 12);
    expect(someCold.perMillion.apiGateway).toBe(0);
    // The INIT phase is its own line: 1% of a million invocations x 0.3 s x 1 GB.
    expect(warm.perMillion.init).toBe(0);
    expect(someCold.perMillion.init).toBeCloseTo(0.003 * 1e6 * 0.0000166667, 8);
    expect(someCold.perMillion.compute).toBeCloseTo(warm.perMillion.compute, 10);
  });

  it('bills at least 1 ms', () => {
    const cost = lambdaCost(
      {
        function: 'f',
        memoryMb: 128,
        durationMs: 0.2,
        initMs: 0,
        coldStartFraction: 0,
        apiGateway: false,
        logBytesPerInvocation: 0,
      },
      prices,
    );
    expect(cost.billedMs).toBe(1);
  });
});

describe('nodesFor', () => {
  const node = { ...prices, nodeVcpu: 2, nodeMemoryGib: 8, nodeAllocatable: 0.9 };

  it('takes as many nodes as the scarcer resource needs, at least one', () => {
    expect(nodesFor({ cpuMillis: 0, memoryMib: 0 }, { cpuMillis: 0, memoryMib: 0 }, node)).toBe(1);
    // 1800m allocatable per node: 1801m needs two.
    expect(nodesFor({ cpuMillis: 1800, memoryMib: 100 }, { cpuMillis: 0, memoryMib: 0 }, node)).toBe(1);
    expect(nodesFor({ cpuMillis: 1801, memoryMib: 100 }, { cpuMillis: 0, memoryMib: 0 }, node)).toBe(2);
    // 7372.8 MiB allocatable per node: memory decides here.
    expect(nodesFor({ cpuMillis: 100, memoryMib: 15000 }, { cpuMillis: 0, memoryMib: 0 }, node)).toBe(3);
  });

  it('leaves room for the per-node pods on every node', () => {
    expect(nodesFor({ cpuMillis: 1750, memoryMib: 0 }, { cpuMillis: 100, memoryMib: 0 }, node)).toBe(2);
    expect(() => nodesFor({ cpuMillis: 1, memoryMib: 0 }, { cpuMillis: 1800, memoryMib: 0 }, node)).toThrow(
      'per-node pods do not fit',
    );
  });
});

describe('meshCost', () => {
  const workload = (name: string, app: string, replicas: number, sidecar: boolean): Workload => ({
    kind: 'Deployment',
    namespace: 'mesh-demo',
    name,
    app,
    replicas,
    perPod: { cpuMillis: 50, memoryMib: 128 },
    sidecar: sidecar ? { cpuMillis: 100, memoryMib: 128 } : undefined,
  });
  const workloads = [
    workload('backend-v1', 'backend', 3, true),
    workload('backend-v2', 'backend', 1, true),
    workload('frontend', 'frontend', 1, true),
    workload('minio', 'minio', 1, true),
  ];

  it("counts the listed apps with their sidecars, and Istio's control plane", () => {
    const cost = meshCost(workloads, ['frontend', 'backend'], prices);
    expect(cost.workloads.map((w) => [w.name, w.counted])).toEqual([
      ['backend-v1', true],
      ['backend-v2', true],
      ['frontend', true],
      ['minio', false],
    ]);
    // 5 pods: apps 250m / 640 MiB, sidecars 500m / 640 MiB.
    expect(cost.sidecars).toEqual({ cpuMillis: 500, memoryMib: 640 });
    expect(cost.sidecarShare).toEqual({ cpu: 2, memory: 1 });
    // + istiod 500m/2048, gateway 100m/128, and istio-cni 100m/100 on the one node.
    expect(cost.withMesh.requested).toEqual({ cpuMillis: 1450, memoryMib: 3556 });
    expect(cost.withMesh.nodes).toBe(1);
    expect(cost.withoutMesh.requested).toEqual({ cpuMillis: 250, memoryMib: 640 });
    expect(cost.withMesh.monthly).toBeCloseTo((0.096 + 0.1) * 730, 6);
    // Prorated by the scarcer resource: CPU, 1450 of 1800 millicores.
    expect(cost.withMesh.nodeShare).toBeCloseTo(1450 / 1800, 10);
    expect(cost.meshMonthly).toBeCloseTo(((1450 - 250) / 1800) * 0.096 * 730, 6);
  });

  it('grows by whole nodes when the requests outgrow one', () => {
    const many = [workload('backend', 'backend', 20, true)];
    const cost = meshCost(many, ['backend'], prices, ISTIO_CONTROL_PLANE);
    // 20 x 150m + 600m control plane = 3600m, plus 100m of istio-cni per node: 3 nodes of 1800m.
    expect(cost.withMesh.nodes).toBe(3);
    expect(cost.withoutMesh.nodes).toBe(1);
  });
});

describe('break-even and the cost curve', () => {
  it('finds the monthly volume at which Lambda costs what the cluster costs', () => {
    expect(breakEvenRequests(143.08, 3.7)).toBeCloseTo(38_670_270.27, 0);
    expect(breakEvenRequests(100, 0)).toBe(Infinity);
    expect(averageRate(2_628_000, prices)).toBeCloseTo(1, 10);
  });

  it('draws Lambda as a line through zero and the cluster flat', () => {
    const curve = costCurve(10e6, 2, 4, 30);
    expect(curve).toEqual([
      { requests: 0, lambda: 0, mesh: 30 },
      { requests: 5e6, lambda: 20, mesh: 30 },
      { requests: 10e6, lambda: 40, mesh: 30 },
    ]);
  });
});

describe('CloudWatch Logs and the load balancer', () => {
  it("ingests the function's own log bytes plus Lambda's lines, per GB", () => {
    expect(platformLogBytes(256)).toBeGreaterThan(150);
    expect(platformLogBytes(1024) - platformLogBytes(256)).toBe(1);
    const cost = lambdaCost(
      {
        function: 'f',
        memoryMb: 256,
        durationMs: 1,
        initMs: 0,
        coldStartFraction: 0,
        apiGateway: false,
        logBytesPerInvocation: 1000,
      },
      prices,
    );
    expect(cost.logBytesPerInvocation).toBe(1000 + platformLogBytes(256));
    // A million invocations of ~1.2 KB is ~1.2 GB at $0.50.
    expect(cost.perMillion.logs).toBeCloseTo(((1000 + platformLogBytes(256)) / 1000) * 0.5, 10);
  });

  it('bills the load balancer per hour, plus capacity units for the bytes it carries', () => {
    expect(loadBalancerMonthly(0, 2500, prices)).toBeCloseTo(0.0225 * 730, 10);
    // 100 req/s of 2500 bytes is 0.9 GB an hour: 0.9 capacity units.
    expect(loadBalancerMonthly(100, 2500, prices)).toBeCloseTo((0.0225 + 0.9 * 0.006) * 730, 10);
    expect(loadBalancerPerMillion(2500, prices)).toBeCloseTo(2.5 * 0.006, 10);
  });
});

describe('the prices file', () => {
  it('gives every price a value, a unit and its source, and a date', () => {
    const { prices: read, sources } = readPricesFile();
    expect(read.asOf).toMatch(/^\d{4}-\d{2}$/);
    for (const [field, source] of Object.entries(sources)) {
      expect({ field, value: read[field as keyof Prices] }).toEqual({ field, value: source.value });
      expect(source.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(source.unit).not.toBe('');
    }
    expect(Object.keys(sources)).toEqual(
      expect.arrayContaining(['cloudWatchLogsPerGb', 'loadBalancerHourly', 'loadBalancerPerLcuHour']),
    );
  });

  it('refuses a price without its source', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prices-'));
    const file = path.join(dir, 'prices.json');
    const data = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'prices.json'), 'utf8'));
    delete data.prices.nodeHourly.source;
    fs.writeFileSync(file, JSON.stringify(data));
    expect(() => readPricesFile(file)).toThrow(
      'prices.nodeHourly needs a numeric value, a unit and an https source',
    );
    fs.rmSync(dir, { recursive: true });
  });

  it('lets a --prices file override fields by name, and refuses unknown or mistyped ones', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prices-'));
    const write = (content: unknown) => {
      const file = path.join(dir, `${Math.random()}.json`);
      fs.writeFileSync(file, JSON.stringify(content));
      return file;
    };
    expect(loadPrices(write({ nodeHourly: 0.2 })).nodeHourly).toBe(0.2);
    expect(loadPrices(undefined)).toBe(DEFAULT_PRICES);
    expect(() => loadPrices(write({ nodeHourlyy: 0.2 }))).toThrow('--prices: unknown field nodeHourlyy');
    expect(() => loadPrices(write({ nodeHourly: '0.2' }))).toThrow('--prices: nodeHourly must be a number');
    fs.rmSync(dir, { recursive: true });
  });
});
