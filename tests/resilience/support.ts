// Shared by the resilience suite: memory of the services' processes, a bounded request pool that
// records every answer, and the check that no answer leaks internals.
import { readFileSync } from 'node:fs';
import { runPool as runTasks } from '../../services/frontend/web/lib';

/** Resident set size of a process in KiB, from /proc/<pid>/status (VmRSS). */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

export const mib = (kib: number) => (kib / 1024).toFixed(1);

/** A stack frame ("    at fn (file:line)") or a path of this machine: what an answer must never carry. */
const LEAKS: Array<[string, RegExp]> = [
  ['a stack trace', /^\s+at .+/m],
  ['a stack frame', / {4}at /],
  ['a file path', /(?:^|[\s"'(=])\/(?:work|home|root|usr|tmp|var|opt|app|srv)\//],
  ['a module path', /node_modules|\.(?:[cm]?js|ts):\d+/],
];

/** What leaks from a response body, or undefined when it is clean. */
export function leakIn(body: string): string | undefined {
  return LEAKS.find(([, pattern]) => pattern.test(body))?.[0];
}

export function expectNoLeak(body: string, what = 'response body'): void {
  const leak = leakIn(body);
  if (leak) throw new Error(`${what} carries ${leak}: ${body.slice(0, 500)}`);
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
}

/** One request with a deadline; the body is always read, so a leak anywhere in it is seen. */
export async function call(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, ms: performance.now() - started };
}

export interface PooledResult {
  /** When the request started, in ms since the pool started. */
  at: number;
  ms: number;
  /** The HTTP status, or 0 when the request failed without one (socket error, timeout). */
  status: number;
  error?: string;
  text?: string;
}

/**
 * Runs `task` from `concurrency` workers until `stop()` says so, recording every outcome: a load
 * generator that keeps each answer, for the fault tests (autocannon only keeps aggregates). The
 * workers are the page's own pool (the canary panel's), stopped through its abort signal.
 */
export async function runPool(
  concurrency: number,
  stop: (elapsedMs: number, done: number) => boolean,
  task: (index: number) => Promise<Answer>,
): Promise<PooledResult[]> {
  const results: PooledResult[] = [];
  const started = performance.now();
  const enough = new AbortController();
  await runTasks(
    Number.POSITIVE_INFINITY,
    concurrency,
    async (index) => {
      if (stop(performance.now() - started, results.length)) return enough.abort();
      const at = performance.now() - started;
      try {
        const answer = await task(index);
        results.push({ at, ms: answer.ms, status: answer.status, text: answer.text });
      } catch (err) {
        results.push({ at, ms: performance.now() - started - at, status: 0, error: String(err) });
      }
    },
    enough.signal,
  );
  return results.sort((a, b) => a.at - b.at);
}

/** Counts of each status, e.g. {"200": 950, "503": 50}. */
export function statusCounts(results: Array<{ status: number }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of results) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds or the deadline passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Prints a measured figure so it shows in the test output, whatever jest does with console.log. */
export function report(lines: string[]): void {
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
