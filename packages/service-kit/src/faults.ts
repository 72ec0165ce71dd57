// Fault injection for the canary and circuit-breaker demos, shared by every shell of the products
// API (the Express backend and the Lambda function), so a faulty release fails the same way on both
// twins. Its own subpath (`@twin/service-kit/faults`) keeps Express out of a Lambda bundle, and
// zod/mini (which the classic z.object takes as is) keeps the rest of zod out of it too.
import * as z from 'zod/mini';

/** The environment variables that switch faults on; both off unless set. */
export const faultEnv = {
  /** Added to every answer, in ms (0 to 60,000). */
  FAULT_DELAY_MS: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(60_000)), 0),
  /** The share of requests answered with FAULT_ERROR_STATUS, 0..1. */
  FAULT_ERROR_RATE: z._default(z.coerce.number().check(z.minimum(0), z.maximum(1)), 0),
  FAULT_ERROR_STATUS: z._default(z.coerce.number().check(z.int(), z.minimum(500), z.maximum(599)), 503),
};

export interface FaultSettings {
  /** ms */
  delayMs: number;
  /** 0..1 */
  errorRate: number;
  /** 500..599 */
  errorStatus: number;
}

/** The settings from an environment validated against {@link faultEnv}. */
export function faultSettings(config: z.infer<z.ZodMiniObject<typeof faultEnv>>): FaultSettings {
  return {
    delayMs: config.FAULT_DELAY_MS,
    errorRate: config.FAULT_ERROR_RATE,
    errorStatus: config.FAULT_ERROR_STATUS,
  };
}

/** The body of an injected failure, as JSON. */
export const INJECTED_FAULT = { error: 'injected fault' } as const;

export const faultsOff = ({ delayMs, errorRate }: FaultSettings): boolean => delayMs === 0 && errorRate === 0;

/**
 * Waits the injected delay, then draws whether this request fails: resolves with the status to
 * answer (FAULT_ERROR_STATUS, with probability FAULT_ERROR_RATE) or undefined to serve it.
 */
export async function injectFault(
  settings: FaultSettings,
  random: () => number = Math.random,
): Promise<number | undefined> {
  if (settings.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, settings.delayMs));
  return random() < settings.errorRate ? settings.errorStatus : undefined;
}
