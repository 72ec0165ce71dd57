// Compares the error rates of the canary and the baseline: Fisher's exact test, one-sided, for the
// p-value, and the difference of the two rates with Newcombe's hybrid score interval as effect size.
import { jStat } from 'jstat';

/** One version's requests and how many of them failed. */
export interface ErrorCount {
  requests: number;
  errors: number;
}

export interface ErrorRateComparison {
  baseline: ErrorCount;
  canary: ErrorCount;
  /** The canary's rate minus the baseline's (-1..1). */
  difference: number;
  /** Newcombe's interval for `difference` at `confidence`. */
  interval: { lower: number; upper: number; confidence: number };
  /** The canary's errors if they were spread over the versions in proportion to their requests. */
  expectedCanaryErrors: number;
  /**
   * Fisher's exact test, one-sided: the probability that the canary gets at least its errors when all
   * the errors fall on requests at random, whatever the version (hypergeometric upper tail).
   */
  pValue: number;
}

/**
 * Wilson's score interval for a proportion `k` of `n` (Wilson 1927, J. Am. Stat. Assoc. 22:209-212),
 * which stays within 0..1 and is not empty at k = 0, unlike the Wald interval.
 */
export function wilsonInterval(k: number, n: number, z: number): { lower: number; upper: number } {
  const p = k / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

function check({ requests, errors }: ErrorCount, name: string): void {
  if (!Number.isInteger(requests) || requests < 1)
    throw new RangeError(`${name}: requests must be a whole number above 0, got ${requests}`);
  if (!Number.isInteger(errors) || errors < 0 || errors > requests)
    throw new RangeError(`${name}: errors must be a whole number from 0 to ${requests}, got ${errors}`);
}

/**
 * Is the canary's error rate higher than the baseline's? Fisher's exact test (one-sided, alternative:
 * the canary fails more often) gives the p-value; it is exact at any sample size, which matters here:
 * errors are rare and a canary sees few requests, where the two-proportion z-test's normal
 * approximation is far off (1 error in 40 canary requests against 0 in 360 gives z-test p = 0.0013,
 * Fisher p = 0.1). The effect size is the difference of the rates with Newcombe's hybrid score
 * interval (Newcombe 1998, "Interval estimation for the difference between independent proportions:
 * comparison of eleven methods", Statistics in Medicine 17:873-890, method 10), built from Wilson
 * intervals. `confidence` is two-sided, e.g. 0.95.
 * @throws RangeError when a count is not a whole number, a version has no request or more errors than requests.
 */
export function compareErrorRates(
  baseline: ErrorCount,
  canary: ErrorCount,
  confidence = 0.95,
): ErrorRateComparison {
  check(baseline, 'baseline');
  check(canary, 'canary');
  const p1 = baseline.errors / baseline.requests;
  const p2 = canary.errors / canary.requests;
  const z = jStat.normal.inv(1 - (1 - confidence) / 2, 0, 1);
  const w1 = wilsonInterval(baseline.errors, baseline.requests, z);
  const w2 = wilsonInterval(canary.errors, canary.requests, z);
  const difference = p2 - p1;
  const population = baseline.requests + canary.requests;
  const errors = baseline.errors + canary.errors;
  // P(X >= e) for X ~ Hypergeometric(population, errors, canary requests), written as the lower tail
  // of the canary's successes, P(Y <= n - e) with Y ~ Hypergeometric(population, successes, n), so a
  // tiny p-value does not vanish in 1 - cdf.
  const pValue =
    canary.errors === 0
      ? 1
      : jStat.hypgeom.cdf(canary.requests - canary.errors, population, population - errors, canary.requests);
  return {
    baseline,
    canary,
    difference,
    interval: {
      lower: difference - Math.sqrt((p2 - w2.lower) ** 2 + (w1.upper - p1) ** 2),
      upper: difference + Math.sqrt((w2.upper - p2) ** 2 + (p1 - w1.lower) ** 2),
      confidence,
    },
    expectedCanaryErrors: (errors * canary.requests) / population,
    pValue: Math.min(1, pValue),
  };
}
