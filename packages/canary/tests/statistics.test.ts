import { compareErrorRates, wilsonInterval } from '../src/error-rates';
import { compareLatencies } from '../src/latency';

// Reference values: scipy 1.17 (stats.fisher_exact and stats.mannwhitneyu, computed independently
// of this code) and the worked examples of Newcombe 1998, Table II.

describe("Fisher's exact test on error rates (one-sided: the canary fails more often)", () => {
  it.each([
    // canary errors/requests, baseline errors/requests, scipy's p
    [1, 40, 0, 360, 0.1],
    [12, 41, 0, 359, 2.6639468290297744e-13],
    [3, 60, 2, 540, 0.008236508704393516],
    [5, 50, 1, 50, 0.10220079251549678],
    [0, 50, 0, 450, 1],
  ])('%d of %d against %d of %d: p = %d', (ce, cn, be, bn, p) => {
    const result = compareErrorRates({ requests: bn, errors: be }, { requests: cn, errors: ce });
    expect(result.pValue).toBeCloseTo(p, 10);
    expect(result.pValue / p).toBeCloseTo(1, 3);
    expect(result.expectedCanaryErrors).toBeCloseTo(((ce + be) * cn) / (cn + bn), 12);
    expect(result.difference).toBeCloseTo(ce / cn - be / bn, 12);
  });

  it("gives Newcombe's hybrid score interval for the difference (his examples: 56/70 - 48/80, 5/56 - 0/29)", () => {
    const a = compareErrorRates({ requests: 80, errors: 48 }, { requests: 70, errors: 56 });
    expect(a.difference).toBeCloseTo(0.2, 12);
    expect(a.interval.lower).toBeCloseTo(0.0524, 4);
    expect(a.interval.upper).toBeCloseTo(0.3339, 4);
    const b = compareErrorRates({ requests: 29, errors: 0 }, { requests: 56, errors: 5 });
    expect(b.interval.lower).toBeCloseTo(-0.0381, 4);
    expect(b.interval.upper).toBeCloseTo(0.1926, 4);
  });

  it('keeps a Wilson interval inside 0..1 and not empty with no error at all', () => {
    const w = wilsonInterval(0, 50, 1.959963984540054);
    expect(w.lower).toBe(0);
    expect(w.upper).toBeCloseTo(0.07135, 4);
  });

  it('refuses counts that cannot be', () => {
    expect(() => compareErrorRates({ requests: 0, errors: 0 }, { requests: 10, errors: 0 })).toThrow(
      /baseline: requests must be a whole number above 0/,
    );
    expect(() => compareErrorRates({ requests: 10, errors: 0 }, { requests: 10, errors: 11 })).toThrow(
      /canary: errors must be a whole number from 0 to 10/,
    );
  });
});

describe('Mann-Whitney U test on latencies (one-sided: the canary is slower)', () => {
  const canary = [3.1, 2.2, 4.5, 5.0, 3.3, 3.3, 6.1, 2.9, 4.4, 5.5];
  const baseline = [2.0, 2.2, 3.1, 1.9, 2.5, 3.3, 2.8, 2.1, 2.6, 3.0, 2.4, 2.2];

  it("matches scipy's asymptotic test with ties and the continuity correction", () => {
    const result = compareLatencies(canary, baseline);
    expect(result.u).toBe(106.5);
    expect(result.pValue).toBeCloseTo(0.0011794127861098152, 12);
    expect(result.commonLanguage).toBeCloseTo(106.5 / 120, 12);
    expect(result.rankBiserial).toBeCloseTo((2 * 106.5) / 120 - 1, 12);
    expect(result.canaryMedianMs).toBeCloseTo(3.85, 12);
    expect(result.baselineMedianMs).toBeCloseTo(2.45, 12);
    // The other way round the canary is the faster one: no evidence at all that it is slower.
    expect(compareLatencies(baseline, canary).pValue).toBeCloseTo(0.9990549954855823, 12);
  });

  it('sees no difference when every value is the same, and when the samples are identical', () => {
    expect(compareLatencies([5, 5, 5], [5, 5]).pValue).toBe(1);
    const same = compareLatencies(baseline, baseline);
    expect(same.commonLanguage).toBe(0.5);
    expect(same.pValue).toBeGreaterThan(0.5);
  });

  it('refuses empty samples and values that are not numbers', () => {
    expect(() => compareLatencies([], [1])).toThrow(/canary: no latencies/);
    expect(() => compareLatencies([1], [Number.NaN])).toThrow(/baseline: latencies must be finite/);
  });
});
