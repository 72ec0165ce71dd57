// The canary panel: sends N requests to /api/version and draws which backend version answered each.
import type { Chart as ChartJs } from 'chart.js';
import { api } from './api.js';
import { byId, clearFieldError, setStatus, showFieldError } from './dom.js';
import { parseWholeNumber, runPool, type TraceRef, VersionSplit } from './lib.js';
import { traceLink } from './trace-links.js';

/** Requests the canary panel keeps in flight: a browser opens at most 6 connections per host. */
const CANARY_CONCURRENCY = 6;
const CANARY_MAX = 1000;
/** Blue for the first version, amber for the next (the canary), red only for failures. */
const VERSION_COLORS = ['#1d4ed8', '#d97706', '#0f766e', '#7e22ce', '#be185d'];
const FAILURE_COLOR = '#b91c1c';

/** Wires the canary panel: N requests to /api/version, counted by version, drawn as they arrive. */
export function setUpCanary(): void {
  const form = byId<HTMLFormElement>('canary-form');
  const count = byId<HTMLInputElement>('canary-count');
  const run = byId<HTMLButtonElement>('canary-run');
  const stop = byId<HTMLButtonElement>('canary-stop');
  const progress = byId<HTMLProgressElement>('canary-progress');
  const status = byId('canary-status');
  const canvas = byId<HTMLCanvasElement>('canary-chart');
  const rows = byId('canary-rows');
  count.addEventListener('input', () => clearFieldError(count));

  const ChartCtor = (window as unknown as { Chart?: typeof ChartJs }).Chart;
  let chart: ChartJs<'bar', number[], string> | undefined;
  if (ChartCtor) {
    chart = new ChartCtor(canvas, {
      type: 'bar',
      data: {
        labels: [],
        datasets: [
          { label: 'Answers', data: [], backgroundColor: [], borderRadius: 4, maxBarThickness: 160 },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: true, text: 'Version that answered' } },
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'Answers' } },
        },
      },
    });
  } else canvas.replaceWith('The chart could not be loaded; the table below has the counts.');

  let split = new VersionSplit();
  let traces = new Map<string, TraceRef>();
  // Until a run starts, the empty chart is scaled for the number in the form.
  const initial = parseWholeNumber(count.value, 1, CANARY_MAX);
  let planned = 'value' in initial ? initial.value : 0;
  let frame = 0;

  const draw = () => {
    frame = 0;
    const data = split.rows();
    progress.value = split.total;
    progress.max = Math.max(planned, 1);
    if (chart) {
      chart.data.labels = data.map((row) => row.label);
      const dataset = chart.data.datasets[0];
      if (dataset) {
        dataset.data = data.map((row) => row.count);
        let version = 0;
        dataset.backgroundColor = data.map((row) =>
          row.failed ? FAILURE_COLOR : (VERSION_COLORS[version++ % VERSION_COLORS.length] ?? FAILURE_COLOR),
        );
      }
      const y = chart.options.scales?.y;
      if (y) y.suggestedMax = planned;
      chart.update();
    }
    const summary = data.map((row) => `${row.label}: ${row.count} (${row.percent}%)`).join(', ');
    canvas.setAttribute('aria-label', summary ? `Answers by version: ${summary}` : 'No answers yet');
    rows.replaceChildren(
      ...data.map((row) => {
        const tr = document.createElement('tr');
        tr.dataset.label = row.label;
        const label = document.createElement('th');
        label.scope = 'row';
        label.textContent = row.label;
        if (row.failed) label.className = 'failed';
        const answers = document.createElement('td');
        answers.className = 'num';
        answers.textContent = String(row.count);
        const share = document.createElement('td');
        share.className = 'num';
        share.textContent = `${row.percent}%`;
        const trace = document.createElement('td');
        const link = traceLink(traces.get(row.label), `a request answered by ${row.label}`);
        trace.append(link ?? '—');
        tr.append(label, answers, share, trace);
        return tr;
      }),
    );
  };
  const scheduleDraw = () => {
    frame ||= requestAnimationFrame(draw);
  };

  let controller: AbortController | undefined;
  stop.addEventListener('click', () => controller?.abort());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const parsed = parseWholeNumber(count.value, 1, CANARY_MAX);
    if ('message' in parsed) {
      showFieldError(count, parsed.message);
      count.focus();
      return;
    }
    clearFieldError(count);
    controller = new AbortController();
    const { signal } = controller;
    split = new VersionSplit();
    traces = new Map();
    planned = parsed.value;
    run.disabled = true;
    stop.disabled = false;
    form.setAttribute('aria-busy', 'true');
    setStatus(status, `Sending ${planned} requests, ${CANARY_CONCURRENCY} at a time…`, 'busy');
    draw();
    const started = performance.now();
    await runPool(
      planned,
      CANARY_CONCURRENCY,
      async () => {
        let label: string;
        let failed = false;
        let trace: TraceRef | undefined;
        try {
          const result = await api<{ version?: string }>('/api/version', { signal });
          trace = result.trace;
          const version =
            result.ok && typeof result.body?.version === 'string' ? result.body.version : undefined;
          failed = !version;
          label = version ?? `HTTP ${result.status}`;
        } catch (error) {
          if (signal.aborted) return;
          failed = true;
          label = error instanceof TypeError ? 'no answer' : 'error';
        }
        if (failed) split.addFailure(label);
        else split.add(label);
        if (trace) traces.set(label, trace);
        scheduleDraw();
      },
      signal,
    );
    cancelAnimationFrame(frame);
    draw();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const summary = split
      .rows()
      .map((row) => `${row.label} ${row.percent}%`)
      .join(', ');
    const answered = split.total;
    setStatus(
      status,
      signal.aborted
        ? `Stopped after ${answered} of ${planned} answers (${seconds} s): ${summary || 'none'}.`
        : `${answered} answers in ${seconds} s: ${summary}.`,
      split.rows().some((row) => row.failed) ? 'error' : 'ok',
    );
    controller = undefined;
    run.disabled = false;
    stop.disabled = true;
    form.removeAttribute('aria-busy');
  });
  draw();
}
