/** Descriptive statistics for timing samples. */

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError('no values');
  if (values.some((value) => !Number.isFinite(value))) throw new RangeError('values must be finite numbers');
  return [...values].sort((a, b) => a - b);
}

/**
 * The q-th percentile (0..100) with linear interpolation between the closest ranks, the method
 * numpy and most spreadsheets use by default: p50 of [1, 2, 3, 4] is 2.5.
 */
export function percentile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile ${q} is not within 0..100`);
  const data = sorted(values);
  const rank = (q / 100) * (data.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = data[low] as number;
  return lowValue + ((data[high] as number) - lowValue) * (rank - low);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function mean(values: readonly number[]): number {
  return sorted(values).reduce((sum, value) => sum + value, 0) / values.length;
}

export function summarize(values: readonly number[]): Summary {
  const data = sorted(values);
  return {
    n: data.length,
    min: data[0] as number,
    p50: percentile(data, 50),
    p90: percentile(data, 90),
    p99: percentile(data, 99),
    max: data[data.length - 1] as number,
    mean: mean(data),
  };
}

/** Rounds for display and JSON: enough digits to compare, none of the float noise. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** a / b, or undefined when b is 0 (no baseline to compare against). */
export function ratio(a: number, b: number): number | undefined {
  return b === 0 ? undefined : a / b;
}
