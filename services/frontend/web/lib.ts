// The page's logic that needs no DOM, so Node runs it in unit tests exactly as the browser does.

/** A trace the server named in its W3C `traceresponse` header. */
export interface TraceRef {
  traceId: string;
  spanId: string;
  /** Only sampled traces reach Jaeger, so only those get a link. */
  sampled: boolean;
}

const TRACE_RESPONSE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses `traceresponse: 00-<trace id>-<span id>-<flags>`; undefined when absent or malformed. */
export function parseTraceResponse(value: string | null | undefined): TraceRef | undefined {
  const [, version, traceId, spanId, flags] = TRACE_RESPONSE.exec(value?.trim().toLowerCase() ?? '') ?? [];
  if (!version || !traceId || !spanId || !flags) return undefined;
  // Version ff is invalid, and all-zero ids mean "no trace" in W3C Trace Context.
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** A path under the Jaeger UI's base URL, which may itself have a path (e.g. behind a proxy). */
function jaegerUrl(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  return url;
}

/** Jaeger's search page for one service's traces. */
export function jaegerSearchUrl(base: string, service: string): string {
  const url = jaegerUrl(base, '/search');
  url.searchParams.set('service', service);
  return url.href;
}

/** Jaeger's page for one trace. */
export function jaegerTraceUrl(base: string, traceId: string): string {
  return jaegerUrl(base, `/trace/${encodeURIComponent(traceId)}`).href;
}

/** What went wrong with a request, for the user; `field` names the input it is about, if any. */
export interface Problem {
  message: string;
  field?: string;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The API's error bodies are `{"error": "price: must not be negative", "field": "price"}`. Shown
 * beside its field, the message drops the field's name: "Must not be negative".
 */
export function problemOf(status: number, body: unknown): Problem {
  // Any JSON value: a property of an array, string or number reads as undefined.
  const answer = (body ?? {}) as { error?: unknown; field?: unknown };
  const error = typeof answer.error === 'string' ? answer.error : undefined;
  const field = typeof answer.field === 'string' ? answer.field : undefined;
  if (!error) return { message: `The request failed (HTTP ${status}).`, ...(field ? { field } : {}) };
  if (!field) return { message: capitalize(error) };
  const prefix = `${field}: `;
  return { message: capitalize(error.startsWith(prefix) ? error.slice(prefix.length) : error), field };
}

/**
 * The JSON body for POST /api/products from the form's text. The API does the validating: a price
 * that is not a number is sent as typed, so the API's message about it is the one the user sees.
 */
export function productPayload(name: string, priceText: string): Record<string, unknown> {
  const payload: Record<string, unknown> = { name };
  const text = priceText.trim();
  if (text !== '') {
    const price = Number(text);
    payload.price = Number.isFinite(price) ? price : text;
  }
  return payload;
}

/** Orders versions numerically part by part ("1.10.0" after "1.9.0"), anything else by text. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.');
  const right = b.split('.');
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? '';
    const y = right[i] ?? '';
    if (x === y) continue;
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    return numeric ? Number(x) - Number(y) : x.localeCompare(y);
  }
  return 0;
}

export interface SplitRow {
  /** The version that answered, or the failure (e.g. "HTTP 503"). */
  label: string;
  count: number;
  /** Share of all answers, in percent with one decimal. */
  percent: number;
  failed: boolean;
}

/** Counts which version answered each request of a canary run, and how many failed and why. */
export class VersionSplit {
  private readonly versions = new Map<string, number>();
  private readonly failures = new Map<string, number>();

  add(version: string): void {
    this.versions.set(version, (this.versions.get(version) ?? 0) + 1);
  }

  addFailure(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  get total(): number {
    let total = 0;
    for (const count of [...this.versions.values(), ...this.failures.values()]) total += count;
    return total;
  }

  /** Versions in version order, then failures: the chart's bars and the table's rows. */
  rows(): SplitRow[] {
    const total = this.total;
    const row = (label: string, count: number, failed: boolean): SplitRow => ({
      label,
      count,
      percent: total ? Math.round((count * 1000) / total) / 10 : 0,
      failed,
    });
    return [
      ...[...this.versions]
        .sort(([a], [b]) => compareVersions(a, b))
        .map(([label, count]) => row(label, count, false)),
      ...[...this.failures]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([label, count]) => row(label, count, true)),
    ];
  }
}

/**
 * Runs `task(0..count-1)` with at most `concurrency` running at once. Stops starting tasks once
 * `signal` aborts or a task throws; waits for those running, then rethrows the first error.
 * Resolves with how many tasks were started.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<number> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < count && !signal?.aborted && !failure) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(concurrency), count));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure) throw failure.error;
  return next;
}

/** A whole number within bounds from a form field, or a message saying what is allowed. */
export function parseWholeNumber(
  text: string,
  min: number,
  max: number,
): { value: number } | { message: string } {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || value < min || value > max)
    return { message: `Enter a whole number from ${min} to ${max}.` };
  return { value };
}

/** Byte counts as people read them: 512 B, 12 kB, 4.5 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit = 'B';
  for (const next of ['kB', 'MB', 'GB']) {
    value /= 1000;
    unit = next;
    // Move up a unit where rounding would print 1000 of this one.
    if (value < 999.5) break;
  }
  return `${value < 9.95 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}
