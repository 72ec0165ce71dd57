// The verdict on one stage of a canary: promote, roll back, or none (too small a sample), each with
// the numbers and the reason in words, so that nobody has to trust an opaque score.
import { compareErrorRates, type ErrorRateComparison } from './error-rates';
import { compareLatencies, type LatencyComparison } from './latency';

/** What the judge saw of one version during a stage. */
export interface VersionObservation {
  /** How the output names it, e.g. `v2 (2.0.0)`. */
  name: string;
  /** Requests this version served, failed ones included. */
  requests: number;
  /** Of those, the failed ones (5xx, function errors). */
  errors: number;
  /** Latencies of its successful requests, ms. */
  latenciesMs: number[];
}

/** How much slower than the baseline the canary's median may be: a share (0.25 = 25%) or ms. */
export type LatencyMargin = { kind: 'ratio'; value: number } | { kind: 'ms'; value: number };

export interface JudgeSettings {
  /** Significance level of each one-sided test (default 0.01). */
  alpha: number;
  /** Requests (and successful requests, for latency) each version needs before the judge decides. */
  minRequests: number;
  latencyMargin: LatencyMargin;
}

export const DEFAULT_SETTINGS: JudgeSettings = {
  alpha: 0.01,
  minRequests: 50,
  latencyMargin: { kind: 'ratio', value: 0.25 },
};

export type CheckOutcome = 'pass' | 'fail' | 'no-verdict';
export type Decision = 'promote' | 'rollback' | 'no-verdict';

export interface Check {
  name: 'errors' | 'latency';
  outcome: CheckOutcome;
  /** The numbers, one line each. */
  details: string[];
  /** Why this outcome, in a sentence. */
  reason: string;
  errors?: ErrorRateComparison;
  latency?: LatencyComparison;
}

export interface Verdict {
  decision: Decision;
  checks: Check[];
  reason: string;
}

const percent = (x: number, digits = 1) => `${(100 * x).toFixed(digits)}%`;
const points = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;

/**
 * A p-value as people read it, `p = 0.0171`: 3 significant digits, and `p < 1e-15` rather than a
 * false zero where double precision runs out.
 */
export function formatP(p: number): string {
  if (p < 1e-15) return 'p < 1e-15';
  if (p >= 0.9995) return 'p = 1';
  return `p = ${p < 0.001 ? p.toExponential(2) : p.toPrecision(3)}`;
}

/**
 * With no failure among `n` requests, the one-sided 95% upper bound of the error rate
 * (Clopper-Pearson: 1 - 0.05^(1/n), about 3/n, the "rule of three"): what a sample of n can vouch for.
 */
export const errorRateBound = (n: number): number => 1 - 0.05 ** (1 / n);

function tooFew(what: string, version: VersionObservation, count: number, min: number): string {
  return (
    `${version.name} ${what} ${count} requests, fewer than the ${min} a verdict needs: with none ` +
    `failing, ${min} requests bound an error rate below ${percent(errorRateBound(min))} at 95% ` +
    `confidence, ${count} only below ${percent(count > 0 ? errorRateBound(count) : 1, 0)}`
  );
}

function errorCheck(baseline: VersionObservation, canary: VersionObservation, s: JudgeSettings): Check {
  const short = [baseline, canary].find((v) => v.requests < s.minRequests);
  const counts = `${baseline.name}: ${baseline.errors} of ${baseline.requests} failed; ${canary.name}: ${canary.errors} of ${canary.requests} failed`;
  if (short)
    return {
      name: 'errors',
      outcome: 'no-verdict',
      details: [counts],
      reason: tooFew('served', short, short.requests, s.minRequests),
    };
  const c = compareErrorRates(baseline, canary);
  const rate = (v: VersionObservation) =>
    `${v.name} ${v.errors}/${v.requests} (${percent(v.errors / v.requests, 2)})`;
  const details = [
    `baseline ${rate(baseline)}, canary ${rate(canary)}`,
    `Fisher's exact test, one-sided: the canary got ${canary.errors} of the ${baseline.errors + canary.errors} errors, ` +
      `${c.expectedCanaryErrors.toFixed(2)} expected if the version made no difference; ${formatP(c.pValue)}`,
    `effect: difference ${points(c.difference)} points, ${percent(c.interval.confidence, 0)} CI ` +
      `${points(c.interval.lower)} to ${points(c.interval.upper)} (Newcombe)`,
  ];
  if (c.pValue < s.alpha)
    return {
      name: 'errors',
      outcome: 'fail',
      details,
      errors: c,
      reason:
        `the canary fails more often than the baseline (${percent(canary.errors / canary.requests, 1)} against ` +
        `${percent(baseline.errors / baseline.requests, 1)}): errors falling on requests at random, whatever ` +
        `the version, would give it this many rarely (${formatP(c.pValue)} < alpha ${s.alpha})`,
    };
  return {
    name: 'errors',
    outcome: 'pass',
    details,
    errors: c,
    reason: `no evidence that the canary fails more often (${formatP(c.pValue)}, alpha ${s.alpha})`,
  };
}

function marginText(m: LatencyMargin): string {
  return m.kind === 'ratio' ? `${Math.round(m.value * 100)}%` : `${m.value} ms`;
}

function latencyCheck(baseline: VersionObservation, canary: VersionObservation, s: JudgeSettings): Check {
  const sizes = `${baseline.name}: ${baseline.latenciesMs.length} successful requests; ${canary.name}: ${canary.latenciesMs.length}`;
  const short = [baseline, canary].find((v) => v.latenciesMs.length < s.minRequests);
  if (short)
    return {
      name: 'latency',
      outcome: 'no-verdict',
      details: [sizes],
      reason:
        `${short.name} answered ${short.latenciesMs.length} requests successfully, fewer than the ` +
        `${s.minRequests} a latency verdict needs`,
    };
  const c = compareLatencies(canary.latenciesMs, baseline.latenciesMs);
  const excess = c.canaryMedianMs - c.baselineMedianMs;
  const allowed =
    s.latencyMargin.kind === 'ratio' ? c.baselineMedianMs * s.latencyMargin.value : s.latencyMargin.value;
  const details = [
    `median: baseline ${baseline.name} ${ms(c.baselineMedianMs)} (n = ${c.baselineCount}), ` +
      `canary ${canary.name} ${ms(c.canaryMedianMs)} (n = ${c.canaryCount})`,
    `Mann-Whitney U test, one-sided (canary slower): U = ${c.u}, z = ${c.z.toFixed(2)}, ${formatP(c.pValue)} ` +
      `(normal approximation, tie and continuity corrections)`,
    `effect: a canary request was slower than a baseline one in ${percent(c.commonLanguage, 0)} of pairs ` +
      `(common-language effect size), rank-biserial r = ${c.rankBiserial >= 0 ? '+' : ''}${c.rankBiserial.toFixed(2)}`,
  ];
  const slower = c.pValue < s.alpha;
  const beyond = excess > allowed;
  const outcome: CheckOutcome = slower && beyond ? 'fail' : 'pass';
  const margin =
    s.latencyMargin.kind === 'ratio'
      ? `the ${marginText(s.latencyMargin)} margin (${ms(allowed)})`
      : `the ${marginText(s.latencyMargin)} margin`;
  const reason = !slower
    ? `no evidence that the canary is slower (${formatP(c.pValue)}, alpha ${s.alpha})`
    : beyond
      ? `the canary is slower (${formatP(c.pValue)} < alpha ${s.alpha}) and its median exceeds the ` +
        `baseline's by ${ms(excess)}, beyond ${margin}`
      : `the canary is slower (${formatP(c.pValue)} < alpha ${s.alpha}) but its median exceeds the ` +
        `baseline's by ${ms(Math.max(0, excess))}, within ${margin}`;
  return { name: 'latency', outcome, details, reason, latency: c };
}

/**
 * Judges one stage: the canary is rolled back when it fails more often than the baseline (Fisher's
 * exact test, one-sided, p < alpha) or is slower (Mann-Whitney U, one-sided, p < alpha) by more
 * than the latency margin at the median; it goes on only when both checks pass; with fewer than
 * `minRequests` requests on either side (or successful ones, for latency) there is no verdict.
 * A failing error check decides alone: a canary that fails nearly everything has no latency to compare.
 */
export function judgeStage(
  baseline: VersionObservation,
  canary: VersionObservation,
  settings: JudgeSettings = DEFAULT_SETTINGS,
): Verdict {
  const checks = [errorCheck(baseline, canary, settings), latencyCheck(baseline, canary, settings)];
  const failed = checks.filter((c) => c.outcome === 'fail');
  if (failed.length)
    return { decision: 'rollback', checks, reason: failed.map((c) => `${c.name}: ${c.reason}`).join('; ') };
  const open = checks.filter((c) => c.outcome === 'no-verdict');
  if (open.length)
    return { decision: 'no-verdict', checks, reason: open.map((c) => `${c.name}: ${c.reason}`).join('; ') };
  return {
    decision: 'promote',
    checks,
    reason: checks.map((c) => `${c.name}: ${c.reason}`).join('; '),
  };
}

/** The verdict as the CLI prints it: each check's numbers, its outcome and why, then the decision. */
export function formatVerdict(verdict: Verdict): string[] {
  const lines: string[] = [];
  for (const check of verdict.checks) {
    lines.push(`  ${check.name.padEnd(8)} ${check.details[0]}`);
    for (const detail of check.details.slice(1)) lines.push(`           ${detail}`);
    lines.push(`           ${check.outcome.toUpperCase()}: ${check.reason}`);
  }
  return lines;
}
