import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  combineRateRuns,
  combineRuns,
  isSteady,
  type LoadResult,
  measureInterleaved,
  type RateResult,
  rotated,
  runAtRate,
  warmUntilSteady,
} from '../src/load';
import { summary } from './fixtures';

describe('isSteady', () => {
  it('is true when the last three runs are within the tolerance of each other', () => {
    expect(isSteady([100, 195, 190, 200], 0.05)).toBe(true);
    expect(isSteady([100, 200, 195, 190], 0.05)).toBe(true);
    expect(isSteady([100, 200, 195, 189], 0.05)).toBe(false);
    // Two runs on one plateau are not enough: the third still climbs.
    expect(isSteady([100, 230, 231, 360], 0.05)).toBe(false);
  });

  it('is never true after fewer than three runs, or when nothing was answered', () => {
    expect(isSteady([100, 100], 0.5)).toBe(false);
    expect(isSteady([0, 0, 0], 0.05)).toBe(false);
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

  it('loads the target in short runs, at least minRuns and at most maxRuns of them, and says whether it settled', async () => {
    const warmUp = await warmUntilSteady(
      url,
      { connections: 2 },
      { seconds: 1, minRuns: 4, maxRuns: 6, tolerance: 1 },
    );
    // A tolerance of 100% holds for any runs that were answered at all: steady as soon as allowed.
    expect(warmUp.rps).toHaveLength(4);
    expect(warmUp.steady).toBe(true);
    expect(warmUp.rps.every((rps) => rps > 0)).toBe(true);
    const single = await warmUntilSteady(
      url,
      { connections: 2 },
      { seconds: 1, minRuns: 1, maxRuns: 1, tolerance: 1 },
    );
    expect(single).toEqual({
      rps: [expect.any(Number)],
      requests: expect.any(Number),
      steady: false,
      beforeRounds: [],
    });
    expect(single.requests).toBeGreaterThan(0);
  }, 30_000);
});

describe('rotated', () => {
  it('starts at the given index and wraps around, leaving the list as it was', () => {
    const list = ['a', 'b', 'c'] as const;
    expect(rotated(list, 0)).toEqual(['a', 'b', 'c']);
    expect(rotated(list, 1)).toEqual(['b', 'c', 'a']);
    expect(rotated(list, 5)).toEqual(['c', 'a', 'b']);
    expect(list).toEqual(['a', 'b', 'c']);
  });
});

describe('measureInterleaved', () => {
  let server: http.Server;
  let base: string;
  const received = new Map<string, number>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      received.set(req.url ?? '', (received.get(req.url ?? '') ?? 0) + 1);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('loads each target unmeasured before each of its rounds, and counts those requests with its warm-up', async () => {
    const connections = 2;
    const runs = await measureInterleaved(
      [
        { name: 'a', url: `${base}/a` },
        { name: 'b', url: `${base}/b` },
      ],
      {
        connections,
        duration: 1,
        rounds: 2,
        warmup: { seconds: 1, minRuns: 1, maxRuns: 1, tolerance: 1, beforeRoundSeconds: 1 },
      },
    );
    for (const name of ['a', 'b']) {
      const target = runs(name);
      expect(target.runs).toHaveLength(2);
      expect(target.warmUp?.beforeRounds).toHaveLength(2);
      expect(target.warmUp?.beforeRounds.every((rps) => rps > 0)).toBe(true);
      // Every request the server saw is either measured or the warm-up's: 1 warm-up run, 2 before rounds.
      const counted =
        (target.warmUp?.requests ?? 0) + target.runs.reduce((sum, run) => sum + run.requests, 0);
      const seen = received.get(`/${name}`) ?? 0;
      expect(Math.abs(seen - counted)).toBeLessThanOrEqual(connections * 5);
      expect(target.warmUp?.requests).toBeGreaterThan(seen / 2);
    }
  }, 30_000);
});

describe('runAtRate', () => {
  let server: http.Server;
  let url: string;
  let inFlight = 0;
  let mostInFlight = 0;
  let received = 0;

  beforeAll(async () => {
    // Holds every answer 300 ms; /fail answers 503.
    server = http.createServer((req, res) => {
      received += 1;
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.statusCode = req.url === '/fail' ? 503 : 200;
        res.end('ok');
      }, 300);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('sends rate x duration requests on schedule, not waiting for answers, and times each', async () => {
    received = 0;
    mostInFlight = 0;
    const run = await runAtRate(`${url}/`, { rate: 20, duration: 1, connections: 50 });
    expect(run).toMatchObject({ rate: 20, requests: 20, failures: 0 });
    expect(received).toBe(20);
    expect(run.latency.n).toBe(20);
    // An open loop: with every answer held 300 ms, requests 50 ms apart overlap. A closed loop
    // (the next request after the last answer) would never have two in flight.
    expect(mostInFlight).toBeGreaterThan(1);
    expect(run.latency.min).toBeGreaterThanOrEqual(299);
  }, 30_000);

  it('counts answers other than 2xx, and requests nobody answers, as failures', async () => {
    const failed = await runAtRate(`${url}/fail`, { rate: 10, duration: 1, connections: 5 });
    expect(failed).toMatchObject({ requests: 10, failures: 10 });
    const refused = await runAtRate('http://127.0.0.1:1/', { rate: 5, duration: 1, connections: 5 });
    expect(refused).toMatchObject({ requests: 5, failures: 5 });
  }, 30_000);
});

describe('combineRateRuns', () => {
  const run = (p50: number, sentRps: number, failures = 0): RateResult => ({
    url: 'http://127.0.0.1:1/',
    rate: 200,
    sentRps,
    latency: { ...summary(p50), p90: p50 * 2, p99: p50 * 3 },
    requests: 600,
    failures,
    durationSec: 3,
    cpuMsPerRequest: { 'data plane': p50 / 4 },
  });

  it('reports the medians of the rounds, the lowest and highest p50, the slowest sending and every failure', () => {
    const combined = combineRateRuns('pair', [run(2.2, 200), run(1.8, 196.5, 1), run(2, 199)]);
    expect(combined.latency).toEqual({ p50: 2, p90: 4, p99: 6 });
    expect(combined.spread).toEqual({ p50: { min: 1.8, max: 2.2 } });
    expect(combined.minSentRps).toBe(196.5);
    expect(combined.failures).toBe(1);
    expect(combined.cpuMsPerRequest).toEqual({ 'data plane': 0.5 });
    expect(() => combineRateRuns('none', [])).toThrow('none: no runs');
  });
});
