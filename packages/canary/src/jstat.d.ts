// The part of jStat (https://jstat.github.io) the judge uses; the package ships no types.
declare module 'jstat' {
  export const jStat: {
    normal: {
      /** P(X <= x) for X ~ N(mean, sd). */
      cdf(x: number, mean: number, sd: number): number;
      /** The p-quantile of N(mean, sd). */
      inv(p: number, mean: number, sd: number): number;
    };
    hypgeom: {
      /** P(X <= k) for X ~ Hypergeometric(N population, m successes in it, n drawn). */
      cdf(k: number, N: number, m: number, n: number): number;
    };
  };
}
