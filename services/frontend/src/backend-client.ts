import { callUpstream, HttpError, type UpstreamResponse } from '@twin/service-kit';

export interface BackendClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

/** The frontend's only way to the backend: deadlines, mesh headers and error mapping in one place. */
export class BackendClient {
  private readonly baseUrl: string;

  constructor(private readonly options: BackendClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /**
   * Forwards a request; 4xx answers pass through as they are (the backend's validation messages
   * are meant for the user), 5xx become 502 since the failure is upstream.
   */
  async request(method: string, path: string, body?: string): Promise<UpstreamResponse> {
    const response = await callUpstream('backend', `${this.baseUrl}${path}`, {
      method,
      body,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
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
