// The Traces view: the newest traces from the trace store (Jaeger's query API, through the
// frontend's /api/jaeger/*), and one trace as a waterfall. Opened by #traces and #trace/<id>.
import { api, unreachable } from './api.js';
import type { JaegerResponse, JaegerTrace } from './api-types.js';
import { byId, setStatus } from './dom.js';
import { problemOf } from './lib.js';
import {
  buildWaterfall,
  formatDuration,
  linkedTraceIds,
  summarizeTrace,
  type WaterfallRow,
} from './trace-model.js';

/** Traces the list shows, per service asked. */
const LIST_LIMIT = 20;
/** Linked traces followed from one trace. */
const MAX_LINKED = 5;
/** Spans reach the store in batches (every second under npm start): a new trace is retried this long. */
const WAIT_FOR_TRACE_MS = 15_000;
const RETRY_MS = 1000;
/** One colour per service, in order of appearance; readable on white, told apart without red/green. */
const SERVICE_COLORS = [
  '#1d4ed8',
  '#d97706',
  '#0f766e',
  '#7e22ce',
  '#be185d',
  '#4d7c0f',
  '#0369a1',
  '#9a3412',
];
const ALL = '';

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
let defaultService = 'frontend';
/** The trace being opened; a newer request makes older answers moot. */
let opening = 0;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

const jaeger = <T>(path: string) => api<JaegerResponse<T>>(`/api/jaeger/${path}`);

function colorOf(services: string[], service: string): string {
  return SERVICE_COLORS[Math.max(0, services.indexOf(service)) % SERVICE_COLORS.length] ?? '#1d4ed8';
}

async function loadServices(): Promise<void> {
  const select = byId<HTMLSelectElement>('traces-service');
  const result = await jaeger<string[]>('services');
  const services = result.ok && Array.isArray(result.body?.data) ? result.body.data : [];
  const chosen = select.value || defaultService;
  const options = [ALL, ...services].map((service) => {
    const option = document.createElement('option');
    option.value = service;
    option.textContent = service === ALL ? 'All services' : service;
    return option;
  });
  select.replaceChildren(...options);
  select.value = [ALL, ...services].includes(chosen) ? chosen : ALL;
}

/** The newest traces of one service, or of all (one query per service, merged by trace id). */
async function searchTraces(service: string, services: string[]): Promise<JaegerTrace[]> {
  const asked = service === ALL ? services : [service];
  const answers = await Promise.all(
    asked.map((name) =>
      jaeger<JaegerTrace[]>(`traces?${new URLSearchParams({ service: name, limit: String(LIST_LIMIT) })}`),
    ),
  );
  const failed = answers.find((answer) => !answer.ok);
  if (failed) throw new Error(problemOf(failed.status, failed.body).message);
  const byId = new Map<string, JaegerTrace>();
  for (const answer of answers) for (const trace of answer.body?.data ?? []) byId.set(trace.traceID, trace);
  return [...byId.values()];
}

async function loadList(): Promise<void> {
  const status = byId('traces-status');
  const select = byId<HTMLSelectElement>('traces-service');
  setStatus(status, 'Loading traces…', 'busy');
  try {
    await loadServices();
    const services = [...select.options].map((option) => option.value).filter((value) => value !== ALL);
    const traces = await searchTraces(select.value, services);
    const summaries = traces
      .filter((trace) => trace.spans.length > 0)
      .map(summarizeTrace)
      .sort((a, b) => b.startUs - a.startUs)
      .slice(0, LIST_LIMIT);
    const columns = [...byId('traces-table').querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    byId('traces-rows').replaceChildren(
      ...summaries.map((summary) => {
        const row = document.createElement('tr');
        row.dataset.traceId = summary.traceId;
        const name = document.createElement('td');
        const link = document.createElement('a');
        link.href = `#trace/${summary.traceId}`;
        const { entry } = summary;
        link.textContent = entry
          ? `${entry.service}: ${entry.operation}`
          : `${summary.rootService}: ${summary.rootOperation}`;
        link.title = `Trace ${summary.traceId}: ${summary.services.join(', ')}`;
        name.append(link);
        if (entry) {
          const via = document.createElement('span');
          via.className = 'trace-via';
          via.textContent = `via ${summary.rootService}`;
          name.append(via);
        }
        const cells = [formatDuration(summary.durationUs), String(summary.spans), String(summary.errors)].map(
          (text) => {
            const cell = document.createElement('td');
            cell.className = 'num';
            cell.textContent = text;
            return cell;
          },
        );
        if (summary.errors) cells[2]?.classList.add('has-errors');
        const started = document.createElement('td');
        const time = document.createElement('time');
        time.dateTime = new Date(summary.startUs / 1000).toISOString();
        time.textContent = timeFormat.format(new Date(summary.startUs / 1000));
        started.append(time);
        row.append(name, ...cells, started);
        // Explicit roles and each figure's column name: a phone's width shows the rows as cards.
        row.setAttribute('role', 'row');
        [name, ...cells, started].forEach((cell, i) => {
          cell.setAttribute('role', 'cell');
          if (i > 0 && columns[i]) cell.dataset.label = columns[i];
        });
        return row;
      }),
    );
    byId('traces-table').hidden = summaries.length === 0;
    byId('traces-empty').hidden = summaries.length > 0;
    status.replaceChildren();
  } catch (error) {
    setStatus(
      status,
      `Could not load traces: ${error instanceof Error ? error.message : unreachable(error).message}`,
      'error',
    );
  }
}

/** The trace, waiting while its spans may still be on their way; undefined if it never comes. */
async function fetchTrace(
  traceId: string,
  request: number,
  waitMs: number,
): Promise<JaegerTrace | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const result = await jaeger<JaegerTrace[]>(`traces/${encodeURIComponent(traceId)}`);
    const trace = result.ok ? result.body?.data?.[0] : undefined;
    if (trace) return trace;
    if (result.status !== 404 || Date.now() >= deadline || request !== opening) {
      if (result.status !== 404) throw new Error(problemOf(result.status, result.body).message);
      return undefined;
    }
    if (waitMs)
      setStatus(
        byId('trace-status'),
        'Waiting for its spans: services send them in batches, every second…',
        'busy',
      );
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function tagTable(caption: string, tags: Array<{ key: string; value: unknown }>): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'tag-table';
  const title = document.createElement('caption');
  title.textContent = caption;
  const body = document.createElement('tbody');
  body.append(
    ...tags.map((tag) => {
      const row = document.createElement('tr');
      const key = document.createElement('th');
      key.scope = 'row';
      // A narrow column breaks a dotted key (http.status_code) after a dot, not inside a name.
      for (const [i, part] of tag.key.split('.').entries()) {
        if (i > 0) key.append('.', document.createElement('wbr'));
        key.append(part);
      }
      const value = document.createElement('td');
      value.textContent = String(tag.value);
      row.append(key, value);
      return row;
    }),
  );
  table.append(title, body);
  return table;
}

function showSpan(row: WaterfallRow, trace: JaegerTrace, linked: JaegerTrace[], startUs: number): void {
  const detail = byId('span-detail');
  const heading = document.createElement('h4');
  heading.textContent = `${row.service}: ${row.span.operationName}`;
  const meta = document.createElement('p');
  meta.className = 'trace-meta';
  meta.textContent = `${formatDuration(row.span.duration)}, starting at +${formatDuration(row.offsetUs)} · span ${row.span.spanID}${
    row.linkedTrace ? ` · in linked trace ${row.linkedTrace}` : ''
  }`;
  const parts: HTMLElement[] = [heading, meta, tagTable('Attributes', row.span.tags)];
  const owner = [trace, ...linked].find((candidate) => candidate.traceID === row.span.traceID);
  const process = owner?.processes[row.span.processID];
  if (process?.tags.length) {
    // The process's attributes are the same on every span of a service: folded away by default.
    const resource = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = `Resource of ${process.serviceName} (${process.tags.length} attributes)`;
    resource.append(summary, tagTable(`Resource of ${process.serviceName}`, process.tags));
    parts.push(resource);
  }
  if (row.span.logs.length) {
    const events = document.createElement('ol');
    events.className = 'span-events';
    events.setAttribute('aria-label', 'Events');
    events.append(
      ...row.span.logs.map((log) => {
        const item = document.createElement('li');
        item.append(`+${formatDuration(log.timestamp - startUs)}: `);
        item.append(log.fields.map((field) => `${field.key}=${String(field.value)}`).join(', '));
        return item;
      }),
    );
    const title = document.createElement('h5');
    title.textContent = 'Events';
    parts.push(title, events);
  }
  const links = row.span.references.filter((ref) => ref.traceID !== row.span.traceID);
  if (links.length) {
    const list = document.createElement('ul');
    list.className = 'span-links';
    list.append(
      ...links.map((ref) => {
        const item = document.createElement('li');
        const link = document.createElement('a');
        link.href = `#trace/${ref.traceID}`;
        link.textContent = `${ref.refType === 'FOLLOWS_FROM' ? 'Follows from' : 'Child of'} span ${ref.spanID} in trace ${ref.traceID}`;
        item.append(link);
        return item;
      }),
    );
    const title = document.createElement('h5');
    title.textContent = 'Links';
    parts.push(title, list);
  }
  detail.replaceChildren(...parts);
  detail.hidden = false;
}

function renderWaterfall(trace: JaegerTrace, linked: JaegerTrace[]): void {
  const waterfall = buildWaterfall(trace, linked);
  const summary = summarizeTrace(trace);
  byId('trace-title').textContent = `${summary.rootService}: ${summary.rootOperation}`;
  const linkedSpans = waterfall.rows.filter((row) => row.linkedTrace).length;
  byId('trace-meta').textContent =
    `Trace ${trace.traceID} · ${formatDuration(waterfall.durationUs)} · ${plural(waterfall.rows.length, 'span')}` +
    (linkedSpans ? ` (${linkedSpans} from ${plural(linked.length, 'linked trace')})` : '') +
    ` · ${plural(summary.errors, 'error')}` +
    (waterfall.missingLinks.length
      ? ` · ${plural(waterfall.missingLinks.length, 'linked trace')} not in the store`
      : '');
  byId('trace-legend').replaceChildren(
    ...waterfall.services.map((service) => {
      const item = document.createElement('li');
      item.style.setProperty('--service-color', colorOf(waterfall.services, service));
      item.textContent = service;
      return item;
    }),
  );
  const axis = byId('trace-axis');
  axis.replaceChildren(
    ...[0, 25, 50, 75, 100].map((pct) => {
      const tick = document.createElement('span');
      tick.style.setProperty('--at', String(pct));
      tick.textContent = formatDuration((waterfall.durationUs * pct) / 100);
      return tick;
    }),
  );
  const list = byId('waterfall');
  const buttons: HTMLButtonElement[] = [];
  list.replaceChildren(
    ...waterfall.rows.map((row, index) => {
      const item = document.createElement('li');
      item.className = 'span-row';
      item.dataset.service = row.service;
      if (row.linkedTrace) item.dataset.linked = row.linkedTrace;
      item.style.setProperty('--service-color', colorOf(waterfall.services, row.service));
      item.style.setProperty('--depth', String(Math.min(row.depth, 12)));
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'span-button';
      button.dataset.spanId = row.span.spanID;
      button.setAttribute('aria-pressed', 'false');
      const label = document.createElement('span');
      label.className = 'span-label';
      label.textContent = `${row.linkedTrace ? '↪ ' : ''}${row.service}: ${row.span.operationName}`;
      // The label is cut to its column; the pointer shows all of it.
      label.title = label.textContent;
      const track = document.createElement('span');
      track.className = 'span-track';
      const bar = document.createElement('span');
      bar.className = row.error ? 'span-bar error' : 'span-bar';
      // On the track, so that the bar and its duration label both read them.
      track.style.setProperty('--offset', `${row.offsetPct.toFixed(3)}%`);
      track.style.setProperty('--width', `${row.widthPct.toFixed(3)}%`);
      const duration = document.createElement('span');
      duration.className = 'span-duration';
      duration.textContent = formatDuration(row.span.duration);
      track.append(bar, duration);
      button.append(label, track);
      button.setAttribute(
        'aria-label',
        `${row.service}: ${row.span.operationName}, ${formatDuration(row.span.duration)} at +${formatDuration(row.offsetUs)}` +
          `, depth ${row.depth}${row.error ? ', error' : ''}${row.linkedTrace ? ', from a linked trace' : ''}`,
      );
      button.addEventListener('click', () => {
        for (const other of buttons) other.setAttribute('aria-pressed', String(other === button));
        showSpan(row, trace, linked, waterfall.startUs);
      });
      // Up and down move between spans, Home and End to the first and last.
      button.addEventListener('keydown', (event) => {
        const to = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: buttons.length - 1 }[event.key];
        if (to === undefined) return;
        event.preventDefault();
        buttons[Math.max(0, Math.min(buttons.length - 1, to))]?.focus();
      });
      buttons.push(button);
      item.append(button);
      return item;
    }),
  );
  byId('span-detail').hidden = true;
  list.dataset.traceId = trace.traceID;
}

async function openTrace(traceId: string): Promise<void> {
  const request = ++opening;
  const view = byId('trace-view');
  const status = byId('trace-status');
  view.hidden = false;
  byId('traces-list').hidden = true;
  byId('waterfall').replaceChildren();
  byId('span-detail').hidden = true;
  byId('trace-title').textContent = `Trace ${traceId}`;
  byId('trace-meta').textContent = '';
  setStatus(status, 'Loading the trace…', 'busy');
  byId('traces').scrollIntoView({ block: 'start' });
  byId('trace-title').focus({ preventScroll: true });
  try {
    const trace = await fetchTrace(traceId, request, WAIT_FOR_TRACE_MS);
    if (request !== opening) return;
    if (!trace) {
      setStatus(
        status,
        `Trace ${traceId} is not in the trace store (it keeps the most recent traces only).`,
        'error',
      );
      return;
    }
    const linked = (
      await Promise.all(
        linkedTraceIds(trace)
          .slice(0, MAX_LINKED)
          .map((id) => fetchTrace(id, request, 0).catch(() => undefined)),
      )
    ).filter((other) => other !== undefined);
    if (request !== opening) return;
    renderWaterfall(trace, linked);
    status.replaceChildren();
  } catch (error) {
    setStatus(
      status,
      `Could not load the trace: ${error instanceof Error ? error.message : String(error)}`,
      'error',
    );
  }
}

function showList(): void {
  opening++;
  byId('trace-view').hidden = true;
  byId('traces-list').hidden = false;
  void loadList();
}

/** Follows the address: #traces shows the list, #trace/<id> one trace. */
function route(): void {
  const trace = /^#trace\/([0-9a-f]{1,32})$/i.exec(location.hash);
  if (trace?.[1]) void openTrace(trace[1].toLowerCase());
  else if (location.hash === '#traces') {
    showList();
    byId('traces').scrollIntoView({ block: 'start' });
  }
}

/** Shows the Traces view and wires it; `service` is the list's filter at first. */
export function setUpTraces(service: string): void {
  defaultService = service;
  byId('traces').hidden = false;
  byId('traces-form').addEventListener('submit', (event) => {
    event.preventDefault();
    showList();
  });
  byId('traces-service').addEventListener('change', () => showList());
  window.addEventListener('hashchange', route);
  if (location.hash.startsWith('#trace')) route();
  else showList();
}
