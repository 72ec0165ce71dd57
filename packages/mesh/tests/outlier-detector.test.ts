import { OutlierDetector } from '../src/outlier-detector';
import type { ResolvedOutlierDetection } from '../src/policy';
import { Stats } from '../src/stats';

const CONFIG: ResolvedOutlierDetection = {
  consecutive5xxErrors: 5,
  consecutiveGatewayErrors: 0,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 50,
  minHealthPercent: 0,
};
const P = 'cluster.c.';

function detector(hosts: string[], config: Partial<ResolvedOutlierDetection> = {}) {
  let now = 0;
  const stats = new Stats();
  const d = new OutlierDetector({ ...CONFIG, ...config }, hosts, stats, P, undefined, () => now);
  return { d, stats, advance: (ms: number) => (now += ms) };
}
const fail = (d: OutlierDetector<string>, host: string, times: number, status = 500) => {
  for (let i = 0; i < times; i++) d.report(host, { status });
};

describe("outlier detection, as Envoy's detector decides", () => {
  it('ejects on the Nth consecutive 5xx, at once; a success in between starts the count again', () => {
    const { d, stats } = detector(['a', 'b']);
    fail(d, 'a', 4);
    d.report('a', { status: 200 });
    fail(d, 'a', 4);
    expect(d.isEjected('a')).toBe(false);
    d.report('a', { status: 503 });
    expect(d.isEjected('a')).toBe(true);
    expect(stats.get(`${P}outlier_detection.ejections_active`)).toBe(1);
    expect(stats.get(`${P}outlier_detection.ejections_enforced_consecutive_5xx`)).toBe(1);
    expect(stats.get(`${P}outlier_detection.ejections_total`)).toBe(1);
  });

  it('counts what the proxy saw itself as 503 (connect failure), 504 (timeout) and 500 (reset)', () => {
    const { d, stats } = detector(['a', 'b'], { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 });
    d.report('a', { localOrigin: 'connect-failure' });
    d.report('a', { localOrigin: 'timeout' });
    // A reset counts as a 500: a 5xx but no gateway error, so the gateway count starts again.
    d.report('a', { localOrigin: 'reset' });
    d.report('a', { localOrigin: 'timeout' });
    d.report('a', { localOrigin: 'timeout' });
    expect(d.isEjected('a')).toBe(false);
    d.report('a', { localOrigin: 'connect-failure' });
    expect(d.isEjected('a')).toBe(true);
    expect(stats.get(`${P}outlier_detection.ejections_enforced_consecutive_gateway_failure`)).toBe(1);
  });

  it('never ejects the one host of a cluster at maxEjectionPercent 50 (100 * 1/1 > 50), counting the overflow', () => {
    const { d, stats } = detector(['only']);
    fail(d, 'only', 15, 503);
    expect(d.isEjected('only')).toBe(false);
    expect(stats.get(`${P}outlier_detection.ejections_overflow`)).toBe(3);
    expect(stats.get(`${P}outlier_detection.ejections_active`)).toBe(0);
  });

  it('ejects one of two hosts at 50%, not both', () => {
    const { d } = detector(['a', 'b']);
    fail(d, 'a', 5);
    fail(d, 'b', 5);
    expect([d.isEjected('a'), d.isEjected('b')]).toEqual([true, false]);
  });

  it('returns a host at the first sweep after base ejection time x times ejected, capped', () => {
    const { d, advance } = detector(['a', 'b'], { maxEjectionTimeMs: 70_000 });
    fail(d, 'a', 5);
    advance(29_999);
    d.sweep();
    expect(d.isEjected('a')).toBe(true);
    advance(1);
    d.sweep();
    expect(d.isEjected('a')).toBe(false);
    // Ejected again right away: twice the base time now.
    fail(d, 'a', 5);
    advance(59_999);
    d.sweep();
    expect(d.isEjected('a')).toBe(true);
    advance(1);
    d.sweep();
    expect(d.isEjected('a')).toBe(false);
    // A third time: three times the base would be 90 s, capped at max_ejection_time (70 s).
    fail(d, 'a', 5);
    expect(d.ejections('a')).toBe(3);
    advance(70_000);
    d.sweep();
    expect(d.isEjected('a')).toBe(false);
  });

  it('lowers the multiplier again for each sweep interval a returned host stays healthy', () => {
    const { d, advance } = detector(['a', 'b']);
    fail(d, 'a', 5);
    advance(30_000);
    d.sweep(); // back, backoff 1
    advance(10_000);
    d.sweep(); // healthy for an interval: backoff 0
    advance(10_000);
    d.sweep();
    fail(d, 'a', 5); // backoff 1 again: ejected for the base time, not twice it
    advance(30_000);
    d.sweep();
    expect(d.isEjected('a')).toBe(false);
  });

  it('resets the counts of a returned host, so it takes N new errors to eject it again', () => {
    const { d, advance } = detector(['a', 'b']);
    fail(d, 'a', 5);
    advance(30_000);
    d.sweep();
    fail(d, 'a', 4);
    expect(d.isEjected('a')).toBe(false);
  });
});
