import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { combineRuns, isSteady, type LoadResult, warmUntilSteady } from '../src/load';

describe('isSteady', () => {
  it('is true when the last two runs are within the tolerance of each other', () => {
    expect(isSteady([100, 190, 200], 0.05)).toBe(true);
    expect(isSteady([100, 200, 190], 0.05)).toBe(true);
    expect(isSteady([100, 200, 189], 0.05)).toBe(false);
  });

  it('is never true after one run, or when nothing was answered', () => {
    expect(isSteady([100], 0.5)).toBe(false);
    expect(isSteady([0, 0], 0.05)).toBe(false);
  });
});

describe('combineRuns', () => {
  const run = (rps: number, p50: number): LoadResult => ({
    url: 'http://127.0.0.1:1/',
    rps,
    latency: { p50, p90: p50 * 2, p99: p50 * 3, mean: p50 },
    requests: rps * 3,
    non2xx: 1,
    errors: 0,
    durationSec: 3,
    cpuMsPerRequest: { service: p50 / 10 },
  });

  it('reports the medians of the rounds, their lowest and highest, and every failure', () => {
    const combined = combineRuns('target', [run(96, 12), run(201, 8), run(180, 9)]);
    expect(combined.rps).toBe(180);
    expect(combined.latency.p50).toBe(9);
    expect(combined.spread).toEqual({ rps: { min: 96, max: 201 }, p50: { min: 8, max: 12 } });
    expect(combined.failures).toBe(3);
    expect(combined.cpuMsPerRequest).toEqual({ service: 0.9 });
  });
});

describe('warmUntilSteady', () => {
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('loads the target in short runs, at most maxRuns of them, and says whether it settled', async () => {
    const warmUp = await warmUntilSteady(url, { connections: 2 }, { seconds: 1, maxRuns: 3, tolerance: 1 });
    // A tolerance of 100% holds for any two runs that were answered at all.
    expect(warmUp.rps).toHaveLength(2);
    expect(warmUp.steady).toBe(true);
    expect(warmUp.rps.every((rps) => rps > 0)).toBe(true);
    const single = await warmUntilSteady(url, { connections: 2 }, { seconds: 1, maxRuns: 1, tolerance: 1 });
    expect(single).toEqual({ rps: [expect.any(Number)], requests: expect.any(Number), steady: false });
    expect(single.requests).toBeGreaterThan(0);
  }, 30_000);
});
