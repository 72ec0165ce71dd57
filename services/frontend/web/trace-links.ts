// Links from the page to the traces of its requests: Jaeger's UI when one is configured, else the
// page's own Traces view.
import { api } from './api.js';
import type { PageConfig } from './api-types.js';
import { jaegerSearchUrl, jaegerTraceUrl, type TraceRef } from './lib.js';

let jaeger: PageConfig['jaeger'] = null;
let traces: PageConfig['traces'] = null;

/**
 * Reads GET /api/config and shows `searchLink`: Jaeger's search when Jaeger's UI is configured,
 * else the page's Traces view when there is one. Resolves with the config (null fields on failure).
 */
export async function loadConfig(searchLink: HTMLAnchorElement): Promise<PageConfig> {
  try {
    const result = await api<PageConfig>('/api/config');
    jaeger = result.ok ? (result.body?.jaeger ?? null) : null;
    traces = result.ok ? (result.body?.traces ?? null) : null;
  } catch {
    jaeger = null;
    traces = null;
  }
  if (jaeger) {
    searchLink.href = jaegerSearchUrl(jaeger.url, jaeger.service);
    searchLink.hidden = false;
  } else if (traces) {
    searchLink.href = '#traces';
    searchLink.removeAttribute('target');
    searchLink.textContent = 'Traces';
    searchLink.hidden = false;
  }
  return { jaeger, traces };
}

/**
 * A link to a sampled trace: in Jaeger's UI (a new tab) when it is configured, else in the page's
 * Traces view; undefined when there is neither, or the trace was not sampled.
 */
export function traceLink(trace: TraceRef | undefined, what: string): HTMLAnchorElement | undefined {
  if ((!jaeger && !traces) || !trace?.sampled) return undefined;
  const link = document.createElement('a');
  link.className = 'trace-link';
  link.textContent = 'trace';
  link.dataset.traceId = trace.traceId;
  if (jaeger) {
    link.href = jaegerTraceUrl(jaeger.url, trace.traceId);
    link.target = '_blank';
    link.rel = 'noopener';
    link.setAttribute('aria-label', `Trace of ${what} in Jaeger (opens a new tab)`);
  } else {
    link.href = `#trace/${trace.traceId}`;
    link.setAttribute('aria-label', `Trace of ${what} (opens it in Traces below)`);
  }
  return link;
}
