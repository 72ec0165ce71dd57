// The page's only way to the frontend's /api/*: JSON parsed, and the trace the server named.
import { type Problem, parseTraceResponse, type TraceRef } from './lib.js';

/** An answer of the frontend: status, parsed JSON body (null when there is none) and its trace. */
export interface ApiResult<T> {
  ok: boolean;
  status: number;
  body: T;
  trace?: TraceRef;
}

/** fetch with the JSON body parsed (null when there is none) and the trace the server named. */
export async function api<T>(path: string, init?: RequestInit): Promise<ApiResult<T>> {
  const response = await fetch(path, { cache: 'no-store', ...init });
  const text = await response.text();
  let body: unknown = null;
  if (text && (response.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  return {
    ok: response.ok,
    status: response.status,
    body: body as T,
    trace: parseTraceResponse(response.headers.get('traceresponse')),
  };
}

/** A message for a request that never got an answer (network down, page leaving). */
export const unreachable = (error: unknown): Problem => ({
  message: `The frontend did not answer (${error instanceof Error ? error.message : String(error)}).`,
});
