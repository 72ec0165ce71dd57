import { forwardedHeaders } from '@twin/observability';
import { HttpError } from './errors';

export interface UpstreamResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface UpstreamRequest {
  method?: string;
  body?: string | Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
  timeoutMs: number;
}

function isTimeout(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/**
 * Calls another service with a deadline and the mesh's correlation headers. A dead or refusing
 * upstream becomes 503, a slow one 504, so callers never hang and never crash.
 */
export async function callUpstream(
  upstream: string,
  url: string,
  { method = 'GET', body, headers = {}, timeoutMs }: UpstreamRequest,
): Promise<UpstreamResponse> {
  try {
    const response = await fetch(url, {
      method,
      body,
      headers: { ...forwardedHeaders(), ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: await response.text(),
    };
  } catch (err) {
    if (isTimeout(err)) throw new HttpError(504, `${upstream} did not answer within ${timeoutMs} ms`);
    throw new HttpError(503, `${upstream} is unavailable`);
  }
}
