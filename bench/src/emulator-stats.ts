// What the Lambda emulator's admin endpoint (GET /__emulator/functions) says about one function:
// its execution environments and cold starts, summed over its versions. The inits come from the
// invocation records (emulator-log.ts): an environment reclaimed before the snapshot leaves the
// endpoint's instance list, its record stays.
import { FUNCTIONS_PATH, type ServiceStats } from '@twin/lambda';

/** One function's counters at a moment; durations in ms. */
export interface FunctionSnapshot {
  /** Environments alive now (initializing, busy or idle). */
  alive: number;
  coldStarts: number;
  invocations: number;
  /** Environments shut down after their idle time. */
  reclaimed: number;
}

/**
 * Reads the emulator's counters for `functionName` (its logical id in the template), all versions
 * together: API Gateway invokes the alias, which may run more than one.
 * @throws Error when the endpoint does not answer or names no such function
 */
export async function functionSnapshot(lambdaUrl: string, functionName: string): Promise<FunctionSnapshot> {
  const response = await fetch(`${lambdaUrl}${FUNCTIONS_PATH}`);
  if (!response.ok) throw new Error(`${lambdaUrl}${FUNCTIONS_PATH} answered ${response.status}`);
  const stats = (await response.json()) as ServiceStats;
  const fn = stats.functions.find((f) => f.name === functionName);
  if (!fn) throw new Error(`the emulator has no function ${functionName}`);
  const snapshot: FunctionSnapshot = { alive: 0, coldStarts: 0, invocations: 0, reclaimed: 0 };
  for (const version of fn.versions) {
    snapshot.alive += version.environments.alive;
    snapshot.coldStarts += version.coldStarts;
    snapshot.invocations += version.invocations;
    snapshot.reclaimed += version.reclaimed;
  }
  return snapshot;
}

/** What happened between two snapshots: cold starts, invocations and reclaimed environments. */
export function between(
  before: FunctionSnapshot,
  after: FunctionSnapshot,
): { coldStarts: number; invocations: number; reclaimed: number } {
  return {
    coldStarts: after.coldStarts - before.coldStarts,
    invocations: after.invocations - before.invocations,
    reclaimed: after.reclaimed - before.reclaimed,
  };
}
