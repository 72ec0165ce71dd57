import os from 'node:os';
import autocannon from 'autocannon';
import { round } from '../stats';
import type { ScenarioContext } from './context';

/** The mixed workload at high concurrency: does every request get a 2xx, and is every write stored once? */
export interface ConcurrencyResult {
  connections: number;
  /** Requests before the measured ones (not counted), so heaps and pools reach their working size. */
  warmupRequests: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  latency: { p50: number; p99: number; max: number };
  /** POSTs answered 201, and products the table gained meanwhile: equal when every write is stored once. */
  created: number;
  stored: number;
  /** The machine's 1-minute load average when the measured requests began and ended. */
  loadAverage: { start: number; end: number };
}

const PRODUCT = JSON.stringify({ name: 'load', price: 9.99 });

/**
 * The mixed workload for autocannon's `requests`: one request in ten creates a product (counted in
 * `created` as its 201 arrives), five list products, four read /api/version, as a page and a canary
 * counter would. Each connection cycles through the list.
 */
export function mixedRequests(created: { count: number }): autocannon.Request[] {
  return [
    ...Array.from({ length: 5 }, () => ({ method: 'GET' as const, path: '/api/products' })),
    ...Array.from({ length: 4 }, () => ({ method: 'GET' as const, path: '/api/version' })),
    {
      method: 'POST',
      path: '/api/products',
      headers: { 'content-type': 'application/json' },
      body: PRODUCT,
      onResponse: (status: number) => {
        if (status === 201) created.count += 1;
      },
    },
  ];
}

/** Products in the table, counted through the backend's paginated list. */
export async function countProducts(backend: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = (await (await fetch(`${backend}/products?limit=100${query}`)).json()) as {
      items: unknown[];
      nextCursor?: string;
    };
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

const loadAverage = () => round(os.loadavg()[0] ?? 0, 2);

/** A fixed number of mixed requests through the frontend at `settings.load.connections`, after a warm-up. */
export async function concurrencyScenario(ctx: ScenarioContext): Promise<ConcurrencyResult> {
  const { connections, warmupRequests, requests } = ctx.settings.load;
  const stack = await ctx.stack('plain');
  const fire = async (amount: number) => {
    const created = { count: 0 };
    const result = await autocannon({
      url: stack.url('frontend'),
      connections,
      amount,
      requests: mixedRequests(created),
      timeout: 10,
    });
    return { result, created: created.count };
  };
  ctx.log(`  ${warmupRequests} warm-up requests, then ${requests}, ${connections} connections`);
  await fire(warmupRequests);
  const before = await countProducts(stack.url('backend'));
  const start = loadAverage();
  const { result, created } = await fire(requests);
  const end = loadAverage();
  const stored = (await countProducts(stack.url('backend'))) - before;
  const measured: ConcurrencyResult = {
    connections,
    warmupRequests,
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: round(result.requests.total / result.duration, 1),
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    created,
    stored,
    loadAverage: { start, end },
  };
  ctx.log(
    `  ${measured.ok}/${measured.requests} 2xx, ${measured.non2xx} non-2xx, ${measured.errors} errors ` +
      `(${measured.timeouts} timeouts); ${created} created, ${stored} stored; p99 ${measured.latency.p99} ms`,
  );
  return measured;
}
