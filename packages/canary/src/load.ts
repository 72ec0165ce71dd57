// The judge's own traffic: a fixed number of requests, a few at a time, each timed from send to the
// end of its answer.
import { performance } from 'node:perf_hooks';

/** One request's outcome as the judge classifies it. */
export interface Reply {
  /** Which version served it, when the answer or the platform says so. */
  version?: string;
  /** A 5xx, a function error, or no answer. */
  failed: boolean;
  /** From sending to the end of the answer, ms. */
  latencyMs: number;
  /** What came back, for the summary: `200`, `503`, `function error`, `no answer`... */
  outcome: string;
}

/**
 * Sends `count` requests through `send`, at most `concurrency` at once, and returns their replies in
 * the order they finished. `send` receives the start time and must not throw: a request that got no
 * answer is a Reply too.
 */
export async function drive(
  count: number,
  concurrency: number,
  send: () => Promise<Omit<Reply, 'latencyMs'>>,
): Promise<Reply[]> {
  const replies: Reply[] = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started += 1;
      const t0 = performance.now();
      const reply = await send();
      replies.push({ ...reply, latencyMs: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return replies;
}

/** `N x outcome` for each outcome, most frequent first: `540 x 200, 12 x 503`. */
export function summarizeOutcomes(replies: readonly Reply[]): string {
  const counts = new Map<string, number>();
  for (const r of replies) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${n} x ${outcome}`)
    .join(', ');
}
