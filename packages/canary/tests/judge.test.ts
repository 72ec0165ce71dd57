import { DEFAULT_SETTINGS, formatVerdict, judgeStage, type VersionObservation } from '../src/judge';

/** n latencies spread evenly over [from, from + spread), in a shuffled order that does not matter. */
const latencies = (n: number, from: number, spread = 10) =>
  Array.from({ length: n }, (_, i) => from + ((i * 7919) % n) * (spread / n));

const version = (name: string, requests: number, errors: number, from: number): VersionObservation => ({
  name,
  requests,
  errors,
  latenciesMs: latencies(requests - errors, from),
});

describe('the judge of one stage', () => {
  it('goes on with a canary like its baseline, and says why in numbers', () => {
    const verdict = judgeStage(version('v1', 450, 1, 20), version('v2', 50, 0, 20));
    expect(verdict.decision).toBe('promote');
    expect(verdict.checks.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    const text = formatVerdict(verdict).join('\n');
    expect(text).toContain('baseline v1 1/450 (0.22%), canary v2 0/50 (0.00%)');
    expect(text).toContain("Fisher's exact test, one-sided: the canary got 0 of the 1 errors, 0.10 expected");
    expect(text).toMatch(/Mann-Whitney U test, one-sided \(canary slower\): U = [\d.]+, z = -?[\d.]+, p = /);
    expect(text).toContain('PASS: no evidence that the canary fails more often (p = 1, alpha 0.01)');
  });

  it('rolls back a canary that fails more often, with the test, the p-value and the effect size', () => {
    const verdict = judgeStage(version('v1', 450, 0, 20), version('v2', 60, 20, 20));
    expect(verdict.decision).toBe('rollback');
    expect(verdict.checks[0]).toMatchObject({ name: 'errors', outcome: 'fail' });
    expect(verdict.reason).toMatch(
      /^errors: the canary fails more often than the baseline \(33\.3% against 0\.0%\)/,
    );
    expect(verdict.checks[0]!.errors!.pValue).toBeLessThan(1e-15);
    const text = formatVerdict(verdict).join('\n');
    expect(text).toContain('p < 1e-15');
    expect(text).toMatch(/effect: difference \+33\.3 points, 95% CI \+\d+\.\d to \+\d+\.\d \(Newcombe\)/);
  });

  it('does not roll back on a single error, which could have fallen anywhere', () => {
    const verdict = judgeStage(version('v1', 360, 0, 20), version('v2', 60, 1, 20));
    expect(verdict.decision).toBe('promote');
    expect(verdict.checks[0]!.errors!.pValue).toBeCloseTo(60 / 420, 10);
  });

  it('rolls back a canary slower than the margin, and not one slower within it', () => {
    const slow = judgeStage(version('v1', 200, 0, 20), version('v2', 60, 0, 1020));
    expect(slow.decision).toBe('rollback');
    expect(slow.checks[1]).toMatchObject({ name: 'latency', outcome: 'fail' });
    expect(slow.reason).toMatch(
      /its median exceeds the baseline's by 99\d\.\d ms, beyond the 25% margin \(6\.2\d ms\)/,
    );
    expect(slow.checks[1]!.latency!.commonLanguage).toBe(1);

    const bitSlower = judgeStage(version('v1', 200, 0, 20), version('v2', 60, 0, 24), {
      ...DEFAULT_SETTINGS,
      latencyMargin: { kind: 'ms', value: 100 },
    });
    expect(bitSlower.decision).toBe('promote');
    expect(bitSlower.checks[1]!.latency!.pValue).toBeLessThan(0.01);
    expect(bitSlower.checks[1]!.reason).toMatch(
      /is slower \(p = .*\) but its median exceeds the baseline's by 3\.\d\d ms, within the 100 ms margin/,
    );
  });

  it('refuses a verdict on too small a sample, and says what the minimum vouches for', () => {
    const verdict = judgeStage(version('v1', 400, 0, 20), version('v2', 12, 0, 20));
    expect(verdict.decision).toBe('no-verdict');
    expect(verdict.reason).toContain(
      'v2 served 12 requests, fewer than the 50 a verdict needs: with none failing, 50 requests bound an error rate below 5.8% at 95% confidence, 12 only below 22%',
    );
  });

  it('rolls back on errors even when too few canary requests succeeded to compare latencies', () => {
    const verdict = judgeStage(version('v1', 400, 0, 20), version('v2', 60, 55, 20));
    expect(verdict.decision).toBe('rollback');
    expect(verdict.checks.map((c) => c.outcome)).toEqual(['fail', 'no-verdict']);
  });
});
