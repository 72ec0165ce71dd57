import { callUpstream, HttpError, type UpstreamResponse } from '@twin/service-kit';

export interface BackendClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

/** A body to forward, with the headers that say how to read it. */
export interface ForwardedBody {
  body: Uint8Array;
  contentType?: string;
  contentEncoding?: string;
}

/** The frontend's only way to the backend: deadlines, mesh headers and error mapping in one place. */
export class BackendClient {
  private readonly baseUrl: string;

  constructor(private readonly options: BackendClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /**
   * Forwards a request to `path` (path and query, percent-encoded). 4xx answers pass through as
   * they are (the backend's validation messages are meant for the user); 5xx become 502 since the
   * failure is upstream; 503 and 504 when the backend cannot be reached in time (callUpstream).
   * A path no URL can hold is the client's: 400.
   */
  async request(method: string, path: string, forwarded?: ForwardedBody): Promise<UpstreamResponse> {
    let url: URL;
    try {
      url = new URL(`${this.baseUrl}${path}`);
    } catch {
      throw new HttpError(400, 'request URL is not valid');
    }
    const headers: Record<string, string> = {};
    if (forwarded?.contentType) headers['content-type'] = forwarded.contentType;
    if (forwarded?.contentEncoding) headers['content-encoding'] = forwarded.contentEncoding;
    const response = await callUpstream('backend', url.href, {
      method,
      // A copy with an ArrayBuffer of its own, as fetch takes bytes.
      body: forwarded && new Uint8Array(forwarded.body),
      headers,
      timeoutMs: this.options.timeoutMs,
    });
    if (response.status >= 500) {
      throw new HttpError(502, 'backend failed', { upstreamStatus: response.status });
    }
    return response;
  }

  async ready(): Promise<void> {
    const { status } = await callUpstream('backend', `${this.baseUrl}/healthz`, { timeoutMs: 1000 });
    if (status !== 200) throw new Error(`backend /healthz answered ${status}`);
  }
}
