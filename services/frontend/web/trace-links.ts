// Links from the page to the traces of its requests, wherever the configuration says traces are.
import { api } from './api.js';
import type { PageConfig } from './api-types.js';
import { jaegerSearchUrl, jaegerTraceUrl, type TraceRef } from './lib.js';

let jaeger: PageConfig['jaeger'] = null;

/** Reads GET /api/config and shows `searchLink` (Jaeger's search) when Jaeger is configured. */
export async function loadConfig(searchLink: HTMLAnchorElement): Promise<void> {
  try {
    const result = await api<PageConfig>('/api/config');
    jaeger = result.ok ? (result.body?.jaeger ?? null) : null;
  } catch {
    jaeger = null;
  }
  if (jaeger) {
    searchLink.href = jaegerSearchUrl(jaeger.url, jaeger.service);
    searchLink.hidden = false;
  }
}

/** A link to the trace in Jaeger, when Jaeger is configured and the trace was sampled. */
export function traceLink(trace: TraceRef | undefined, what: string): HTMLAnchorElement | undefined {
  if (!jaeger || !trace?.sampled) return undefined;
  const link = document.createElement('a');
  link.href = jaegerTraceUrl(jaeger.url, trace.traceId);
  link.target = '_blank';
  link.rel = 'noopener';
  link.className = 'trace-link';
  link.textContent = 'trace';
  link.setAttribute('aria-label', `Trace of ${what} in Jaeger (opens a new tab)`);
  link.dataset.traceId = trace.traceId;
  return link;
}
