// The header's badge: which backend version answered GET /api/version.
import { api, unreachable } from './api.js';
import { byId } from './dom.js';
import { traceLink } from './trace-links.js';

/** Asks GET /api/version and shows the version (or why there is none) with the request's trace. */
export async function refreshVersion(): Promise<void> {
  const value = byId('version-value');
  const traceSlot = byId('version-trace');
  value.textContent = '…';
  try {
    const result = await api<{ version?: string }>('/api/version');
    const version = result.ok && typeof result.body?.version === 'string' ? result.body.version : undefined;
    value.textContent = version ?? `unavailable (HTTP ${result.status})`;
    value.dataset.version = version ?? '';
    traceSlot.replaceChildren(
      ...[traceLink(result.trace, 'the version request')].filter((l) => l !== undefined),
    );
  } catch (error) {
    value.textContent = 'unreachable';
    value.dataset.version = '';
    traceSlot.replaceChildren();
    byId('version-badge').title = unreachable(error).message;
  }
}

/** Wires the badge's "Ask again" button. */
export function setUpVersionBadge(): void {
  byId('version-refresh').addEventListener('click', () => void refreshVersion());
}
