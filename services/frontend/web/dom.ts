// DOM helpers every feature of the page uses: elements by id, status lines, field errors.
import type { TraceRef } from './lib.js';
import { traceLink } from './trace-links.js';

/** The element with this id; throws when the page lacks it (a mismatch between HTML and script). */
export const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

/** How a status line looks: done, failed, or under way. */
export type StatusKind = 'ok' | 'error' | 'busy';

/** Writes a status line, with a link to the request's trace when there is one. */
export function setStatus(element: HTMLElement, text: string, kind: StatusKind, trace?: TraceRef): void {
  element.dataset.kind = kind;
  element.replaceChildren(text);
  const link = traceLink(trace, 'this request');
  if (link) element.append(' ', link);
}

/** Shows a message in the input's `#<id>-error` element and marks the input invalid. */
export function showFieldError(input: HTMLInputElement, message: string): void {
  const error = byId(`${input.id}-error`);
  error.textContent = message;
  error.hidden = false;
  input.setAttribute('aria-invalid', 'true');
}

/** Hides the input's error message and clears its invalid mark. */
export function clearFieldError(input: HTMLInputElement): void {
  const error = byId(`${input.id}-error`);
  error.textContent = '';
  error.hidden = true;
  input.removeAttribute('aria-invalid');
}
