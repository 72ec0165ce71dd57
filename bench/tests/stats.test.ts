import { mean, median, percentile, ratio, round, summarize } from '../src/stats';

describe('percentile', () => {
  it('interpolates linearly between the closest ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 1, 7, 3, 5, 9, 2, 8, 4, 6], 90)).toBeCloseTo(9.1, 10);
    expect(percentile([5, 1, 3], 0)).toBe(1);
    expect(percentile([5, 1, 3], 100)).toBe(5);
  });

  it('gives the value itself for a single sample', () => {
    expect(percentile([42], 99)).toBe(42);
    expect(median([42])).toBe(42);
  });

  it('refuses empty input, non-numbers and percentiles outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow('no values');
    expect(() => percentile([1, Number.NaN], 50)).toThrow('finite');
    expect(() => percentile([1], 101)).toThrow('not within 0..100');
    expect(() => percentile([1], -1)).toThrow('not within 0..100');
  });

  it("does not reorder the caller's array", () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('summarize', () => {
  it('reports count, extremes, percentiles and mean', () => {
    const summary = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(summary).toMatchObject({ n: 100, min: 1, p50: 50.5, max: 100, mean: 50.5 });
    expect(summary.p90).toBeCloseTo(90.1, 10);
    expect(summary.p99).toBeCloseTo(99.01, 10);
  });
});

describe('mean, round, ratio', () => {
  it('work as their names say', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(round(2.345, 2)).toBe(2.35);
    expect(round(1234.5)).toBe(1234.5);
    expect(ratio(9, 10)).toBe(0.9);
    expect(ratio(1, 0)).toBeUndefined();
  });
});
