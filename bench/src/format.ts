// How figures are written in both reports and on the console.
import { round } from './stats';

/** A share as a percentage: 0.123 -> "12.3%". */
export function percent(share: number, digits = 1): string {
  return `${round(share * 100, digits)}%`;
}

/**
 * A difference with its sign, the unit after it: `signed(-15.46, ' ms')` -> "-15.5 ms", `signed(6.5)`
 * -> "+6.5". Zero (after rounding) is written "±0".
 */
export function signed(value: number, unit = '', digits = 1): string {
  const rounded = round(value, digits);
  if (rounded === 0) return `±0${unit}`;
  return `${rounded > 0 ? '+' : '-'}${Math.abs(rounded)}${unit}`;
}

/** A relative difference with its sign: `signedPercent(-0.031)` -> "-3.1%". */
export function signedPercent(share: number, digits = 1): string {
  return signed(share * 100, '%', digits);
}

/** The spread of several rounds' figures: "630-670" (min-max), or the one figure when they agree. */
export function range(min: number, max: number, digits = 1): string {
  const [low, high] = [round(min, digits), round(max, digits)];
  return low === high ? `${low}` : `${low}-${high}`;
}
