// The web page: products, image uploads with their thumbnails, which backend version answers, and
// the canary split. Everything goes through the frontend's /api/*, as curl would.
import type { Chart as ChartJs } from 'chart.js';
import {
  formatBytes,
  jaegerSearchUrl,
  jaegerTraceUrl,
  parseTraceResponse,
  parseWholeNumber,
  type Problem,
  problemOf,
  productPayload,
  runPool,
  type TraceRef,
  VersionSplit,
} from './lib.js';

interface Product {
  id: string;
  name: string;
  price: number;
  createdAt: string;
}

interface StoredImage {
  id: string;
  name: string;
  bytes: number;
  uploadedAt?: string;
  thumbnail: 'ready' | 'pending';
}

interface PageConfig {
  jaeger: { url: string; service: string } | null;
}

interface ApiResult<T> {
  ok: boolean;
  status: number;
  body: T;
  trace?: TraceRef;
}

/** Requests the canary panel keeps in flight: a browser opens at most 6 connections per host. */
const CANARY_CONCURRENCY = 6;
const CANARY_MAX = 1000;
/** Gallery refresh: quickly while a thumbnail is pending, slowly otherwise (uploads by others, curl). */
const POLL_PENDING_MS = 1000;
const POLL_IDLE_MS = 5000;

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

let jaeger: PageConfig['jaeger'] = null;

/** fetch with the JSON body parsed (null when there is none) and the trace the server named. */
async function api<T>(path: string, init?: RequestInit): Promise<ApiResult<T>> {
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
const unreachable = (error: unknown): Problem => ({
  message: `The frontend did not answer (${error instanceof Error ? error.message : String(error)}).`,
});

/** A link to the trace in Jaeger, when Jaeger is configured and the trace was sampled. */
function traceLink(trace: TraceRef | undefined, what: string): HTMLAnchorElement | undefined {
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

type StatusKind = 'ok' | 'error' | 'busy';

function setStatus(element: HTMLElement, text: string, kind: StatusKind, trace?: TraceRef): void {
  element.dataset.kind = kind;
  element.replaceChildren(text);
  const link = traceLink(trace, 'this request');
  if (link) element.append(' ', link);
}

// --- form fields and their errors

function showFieldError(input: HTMLInputElement, message: string): void {
  const error = byId(`${input.id}-error`);
  error.textContent = message;
  error.hidden = false;
  input.setAttribute('aria-invalid', 'true');
}

function clearFieldError(input: HTMLInputElement): void {
  const error = byId(`${input.id}-error`);
  error.textContent = '';
  error.hidden = true;
  input.removeAttribute('aria-invalid');
}

// --- version badge

async function refreshVersion(): Promise<void> {
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

// --- products

const products = new Map<string, Product>();
let productsCursor: string | undefined;
const priceFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function renderProducts(): void {
  const rows = [...products.values()]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((product) => {
      const row = document.createElement('tr');
      row.dataset.id = product.id;
      const name = document.createElement('td');
      name.textContent = product.name;
      const price = document.createElement('td');
      price.className = 'num';
      price.textContent = priceFormat.format(product.price);
      const added = document.createElement('td');
      const time = document.createElement('time');
      time.dateTime = product.createdAt;
      time.textContent = dateFormat.format(new Date(product.createdAt));
      added.append(time);
      row.append(name, price, added);
      return row;
    });
  byId('product-rows').replaceChildren(...rows);
  byId('product-table').hidden = rows.length === 0;
  byId('products-empty').hidden = rows.length > 0;
  byId('products-more').hidden = !productsCursor;
}

async function loadProducts(more = false): Promise<void> {
  const status = byId('products-status');
  const query = new URLSearchParams({ limit: '100' });
  if (more && productsCursor) query.set('cursor', productsCursor);
  try {
    const result = await api<{ items?: Product[]; nextCursor?: string }>(`/api/products?${query}`);
    if (!result.ok) {
      setStatus(
        status,
        `Could not load products: ${problemOf(result.status, result.body).message}`,
        'error',
        result.trace,
      );
      return;
    }
    if (!more) products.clear();
    for (const product of result.body?.items ?? []) products.set(product.id, product);
    productsCursor = result.body?.nextCursor;
    status.replaceChildren();
    renderProducts();
  } catch (error) {
    setStatus(status, `Could not load products: ${unreachable(error).message}`, 'error');
  }
}

function setUpProductForm(): void {
  const form = byId<HTMLFormElement>('product-form');
  const name = byId<HTMLInputElement>('product-name');
  const price = byId<HTMLInputElement>('product-price');
  const fields: Record<string, HTMLInputElement> = { name, price };
  const status = byId('product-status');
  const submit = form.querySelector('button[type="submit"]') as HTMLButtonElement;
  for (const input of [name, price]) input.addEventListener('input', () => clearFieldError(input));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldError(name);
    clearFieldError(price);
    submit.disabled = true;
    setStatus(status, 'Saving…', 'busy');
    try {
      const result = await api<Product>('/api/products', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(productPayload(name.value, price.value)),
      });
      if (result.ok) {
        products.set(result.body.id, result.body);
        renderProducts();
        form.reset();
        setStatus(status, `Added “${result.body.name}”.`, 'ok', result.trace);
        return;
      }
      const problem = problemOf(result.status, result.body);
      const input = problem.field ? fields[problem.field] : undefined;
      if (input) {
        showFieldError(input, problem.message);
        setStatus(status, 'Not saved: check the highlighted field.', 'error', result.trace);
        input.focus();
      } else setStatus(status, `Not saved: ${problem.message}`, 'error', result.trace);
    } catch (error) {
      setStatus(status, `Not saved: ${unreachable(error).message}`, 'error');
    } finally {
      submit.disabled = false;
    }
  });
  byId('products-more').addEventListener('click', () => void loadProducts(true));
}

// --- images

const tiles = new Map<string, HTMLLIElement>();
const images = new Map<string, StoredImage>();
/** Uploaded from this page but not in the listing yet. */
const unlisted = new Set<string>();
let pollTimer: ReturnType<typeof setTimeout> | undefined;
let galleryLoaded = false;

function thumbnailContent(image: StoredImage): HTMLElement {
  if (image.thumbnail === 'pending') {
    const box = document.createElement('div');
    box.className = 'thumb thumb-pending';
    const spinner = document.createElement('span');
    spinner.className = 'spinner';
    spinner.setAttribute('aria-hidden', 'true');
    const text = document.createElement('span');
    text.textContent = 'Making thumbnail…';
    box.append(spinner, text);
    return box;
  }
  const link = document.createElement('a');
  link.className = 'thumb';
  link.href = `/api/images/${encodeURIComponent(image.id)}`;
  link.target = '_blank';
  link.rel = 'noopener';
  const img = document.createElement('img');
  img.src = `/api/images/${encodeURIComponent(image.id)}/thumbnail`;
  img.alt = `Thumbnail of ${image.name} (opens the full image)`;
  img.width = 200;
  img.height = 200;
  img.decoding = 'async';
  link.append(img);
  return link;
}

function renderTile(image: StoredImage): HTMLLIElement {
  let tile = tiles.get(image.id);
  if (tile && tile.dataset.state === image.thumbnail) return tile;
  const fresh = !tile;
  tile ??= document.createElement('li');
  tile.className = 'tile';
  tile.dataset.id = image.id;
  tile.dataset.state = image.thumbnail;
  const name = document.createElement('p');
  name.className = 'tile-name';
  name.textContent = image.name;
  name.title = image.name;
  const meta = document.createElement('p');
  meta.className = 'tile-meta';
  const state = image.thumbnail === 'ready' ? 'thumbnail ready' : 'pending';
  meta.textContent = `${formatBytes(image.bytes)} · ${state}`;
  tile.replaceChildren(thumbnailContent(image), name, meta);
  if (!fresh && image.thumbnail === 'ready')
    setStatus(byId('gallery-status'), `The thumbnail of “${image.name}” is ready.`, 'ok');
  tiles.set(image.id, tile);
  return tile;
}

function renderGallery(): void {
  const ordered = [...images.values()].sort((a, b) => (b.uploadedAt ?? '').localeCompare(a.uploadedAt ?? ''));
  const gallery = byId('gallery');
  const elements = ordered.map(renderTile);
  // Re-append only when the order changed, so focus and loaded images stay where they are.
  if (
    elements.some((element, i) => gallery.children[i] !== element) ||
    gallery.children.length !== elements.length
  )
    gallery.replaceChildren(...elements);
  for (const id of [...tiles.keys()]) if (!images.has(id)) tiles.delete(id);
  gallery.hidden = elements.length === 0;
  byId('gallery-empty').hidden = elements.length > 0;
}

async function pollImages(): Promise<void> {
  clearTimeout(pollTimer);
  try {
    const result = await api<{ items?: StoredImage[] }>('/api/images');
    if (result.ok) {
      const listed = result.body?.items ?? [];
      for (const image of listed) unlisted.delete(image.id);
      // What this page just uploaded stays on show until the listing has it too.
      const kept = [...unlisted].map((id) => images.get(id)).filter((image) => image !== undefined);
      images.clear();
      for (const image of [...listed, ...kept]) images.set(image.id, image);
      renderGallery();
      galleryLoaded = true;
      if (byId('gallery-status').dataset.kind === 'error') byId('gallery-status').replaceChildren();
    } else
      setStatus(
        byId('gallery-status'),
        `Could not list images: ${problemOf(result.status, result.body).message}`,
        'error',
      );
  } catch (error) {
    setStatus(byId('gallery-status'), `Could not list images: ${unreachable(error).message}`, 'error');
  }
  const pending = [...images.values()].some((image) => image.thumbnail === 'pending');
  // An upload polls at once, maybe while a poll is under way: one timer chain survives, not two.
  clearTimeout(pollTimer);
  if (!document.hidden)
    pollTimer = setTimeout(() => void pollImages(), pending ? POLL_PENDING_MS : POLL_IDLE_MS);
}

function setUpUploadForm(): void {
  const form = byId<HTMLFormElement>('upload-form');
  const file = byId<HTMLInputElement>('upload-file');
  const status = byId('upload-status');
  const submit = form.querySelector('button[type="submit"]') as HTMLButtonElement;
  file.addEventListener('change', () => clearFieldError(file));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldError(file);
    submit.disabled = true;
    setStatus(status, 'Uploading…', 'busy');
    try {
      const data = new FormData();
      const chosen = file.files?.[0];
      if (chosen) data.append('file', chosen);
      const result = await api<StoredImage>('/api/images', { method: 'POST', body: data });
      if (result.ok) {
        const { id, name, bytes } = result.body;
        images.set(id, { id, name, bytes, uploadedAt: new Date().toISOString(), thumbnail: 'pending' });
        unlisted.add(id);
        renderGallery();
        form.reset();
        const message = `Uploaded “${result.body.name}”; its thumbnail is on the way.`;
        setStatus(status, message, 'ok', result.trace);
        void pollImages();
        return;
      }
      // Every upload error is about the file, whichever part of it.
      const problem = problemOf(result.status, result.body);
      showFieldError(file, problem.message);
      setStatus(status, 'Not uploaded.', 'error', result.trace);
      file.focus();
    } catch (error) {
      setStatus(status, `Not uploaded: ${unreachable(error).message}`, 'error');
    } finally {
      submit.disabled = false;
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && galleryLoaded) void pollImages();
  });
}

// --- canary

/** Blue for the first version, amber for the next (the canary), red only for failures. */
const VERSION_COLORS = ['#1d4ed8', '#d97706', '#0f766e', '#7e22ce', '#be185d'];
const FAILURE_COLOR = '#b91c1c';

function setUpCanary(): void {
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

// --- start

async function loadConfig(): Promise<void> {
  try {
    const result = await api<PageConfig>('/api/config');
    jaeger = result.ok ? (result.body?.jaeger ?? null) : null;
  } catch {
    jaeger = null;
  }
  const link = byId<HTMLAnchorElement>('jaeger-link');
  if (jaeger) {
    link.href = jaegerSearchUrl(jaeger.url, jaeger.service);
    link.hidden = false;
  }
}

async function start(): Promise<void> {
  setUpProductForm();
  setUpUploadForm();
  setUpCanary();
  byId('version-refresh').addEventListener('click', () => void refreshVersion());
  // Trace links need the config, so it comes first; the rest loads side by side.
  await loadConfig();
  await Promise.all([refreshVersion(), loadProducts(), pollImages()]);
  document.body.dataset.ready = 'true';
}

void start();
