// Traces from Jaeger's query API as the page shows them: summaries for the list, and a waterfall
// (spans nested by parent on one time axis, linked traces followed). No DOM, so Node tests it too.
import type { JaegerSpan, JaegerTrace } from './api-types.js';

/** One line of the traces list. */
export interface TraceSummary {
  traceId: string;
  /** The service and operation of the earliest span without a parent in the trace. */
  rootService: string;
  rootOperation: string;
  /**
   * When the root is a proxy's span (Envoy, and the local data plane, tag theirs component=proxy):
   * the earliest span that is not, i.e. the request as the application saw it (the root reads
   * `frontend.mesh-demo.svc.cluster.local:80/*` for every request through the ingress gateway).
   */
  entry?: { service: string; operation: string };
  /** Microseconds since the epoch. */
  startUs: number;
  /** From the first span's start to the last span's end, in microseconds. */
  durationUs: number;
  spans: number;
  /** Spans tagged error=true (status ERROR). */
  errors: number;
  /** In order of first appearance. */
  services: string[];
}

/** One bar of the waterfall. */
export interface WaterfallRow {
  span: JaegerSpan;
  service: string;
  /** Nesting under the trace's roots, 0 for a root. */
  depth: number;
  /** Where the bar starts and how wide it is, in percent of the waterfall's time axis. */
  offsetPct: number;
  widthPct: number;
  /** Microseconds from the waterfall's start to the span's start. */
  offsetUs: number;
  error: boolean;
  /** Set when the span belongs to a trace reached through a link, not to the trace opened. */
  linkedTrace?: string;
}

export interface Waterfall {
  traceId: string;
  /** Microseconds since the epoch: the earliest start of any span shown. */
  startUs: number;
  /** Microseconds from that start to the latest end. */
  durationUs: number;
  rows: WaterfallRow[];
  /** Every service shown, in order of first appearance: the colour order. */
  services: string[];
  /** Traces that were linked to but are not in `linked` (not stored, or not fetched). */
  missingLinks: string[];
}

const isError = (span: JaegerSpan) => span.tags.some((tag) => tag.key === 'error' && tag.value === true);

const isProxySpan = (span: JaegerSpan) =>
  span.tags.some((tag) => tag.key === 'component' && tag.value === 'proxy');

const serviceOf = (trace: JaegerTrace, span: JaegerSpan) =>
  trace.processes[span.processID]?.serviceName ?? '?';

/** The parent in the same trace: the CHILD_OF reference, else the first reference there (as Jaeger's UI). */
function parentOf(span: JaegerSpan, ids: Set<string>): string | undefined {
  const inTrace = span.references.filter((ref) => ref.traceID === span.traceID && ids.has(ref.spanID));
  return (inTrace.find((ref) => ref.refType === 'CHILD_OF') ?? inTrace[0])?.spanID;
}

/** Spans without a parent in the trace, earliest first. */
function rootsOf(trace: JaegerTrace): JaegerSpan[] {
  const ids = new Set(trace.spans.map((span) => span.spanID));
  return trace.spans.filter((span) => !parentOf(span, ids)).sort((a, b) => a.startTime - b.startTime);
}

/** Summarizes a trace for the list; throws nothing, whatever the spans say. */
export function summarizeTrace(trace: JaegerTrace): TraceSummary {
  const start = Math.min(...trace.spans.map((span) => span.startTime));
  const end = Math.max(...trace.spans.map((span) => span.startTime + span.duration));
  const [root] = rootsOf(trace);
  const entry =
    root && isProxySpan(root)
      ? trace.spans.filter((span) => !isProxySpan(span)).sort((a, b) => a.startTime - b.startTime)[0]
      : undefined;
  return {
    traceId: trace.traceID,
    rootService: root ? serviceOf(trace, root) : '?',
    rootOperation: root?.operationName ?? '?',
    ...(entry && { entry: { service: serviceOf(trace, entry), operation: entry.operationName } }),
    startUs: trace.spans.length ? start : 0,
    durationUs: trace.spans.length ? end - start : 0,
    spans: trace.spans.length,
    errors: trace.spans.filter(isError).length,
    services: [...new Set(trace.spans.map((span) => serviceOf(trace, span)))],
  };
}

/** Ids of other traces this one links to (FOLLOWS_FROM references), in order of first mention. */
export function linkedTraceIds(trace: JaegerTrace): string[] {
  const ids = trace.spans.flatMap((span) =>
    span.references.filter((ref) => ref.traceID !== trace.traceID).map((ref) => ref.traceID),
  );
  return [...new Set(ids)];
}

/**
 * The waterfall of `trace`: each span under its parent, children by start time, on a time axis
 * from the earliest start to the latest end. A span that links to one of the `linked` traces gets
 * that trace's root spans nested under it, marked with `linkedTrace`, so a story that crosses
 * traces (upload -> object-store event -> thumbnail) reads as one.
 */
export function buildWaterfall(trace: JaegerTrace, linked: JaegerTrace[] = []): Waterfall {
  const linkedById = new Map(linked.map((other) => [other.traceID, other]));
  const rows: Omit<WaterfallRow, 'offsetPct' | 'widthPct' | 'offsetUs'>[] = [];
  const shown = new Set<string>();
  const followed = new Set<string>([trace.traceID]);

  const walk = (owner: JaegerTrace, span: JaegerSpan, depth: number, children: Map<string, JaegerSpan[]>) => {
    const key = `${owner.traceID}/${span.spanID}`;
    if (shown.has(key)) return;
    shown.add(key);
    rows.push({
      span,
      service: serviceOf(owner, span),
      depth,
      error: isError(span),
      ...(owner.traceID === trace.traceID ? {} : { linkedTrace: owner.traceID }),
    });
    for (const child of children.get(span.spanID) ?? []) walk(owner, child, depth + 1, children);
    for (const ref of span.references) {
      const other = linkedById.get(ref.traceID);
      if (!other || followed.has(other.traceID)) continue;
      followed.add(other.traceID);
      addTrace(other, depth + 1);
    }
  };
  const addTrace = (owner: JaegerTrace, depth: number) => {
    const ids = new Set(owner.spans.map((span) => span.spanID));
    const children = new Map<string, JaegerSpan[]>();
    for (const span of owner.spans) {
      const parent = parentOf(span, ids);
      if (parent) children.set(parent, [...(children.get(parent) ?? []), span]);
    }
    for (const list of children.values()) list.sort((a, b) => a.startTime - b.startTime);
    for (const root of rootsOf(owner)) walk(owner, root, depth, children);
    // Spans whose parents form a cycle have no root above them: shown all the same.
    for (const span of owner.spans) walk(owner, span, depth, children);
  };
  addTrace(trace, 0);

  const spans = rows.map((row) => row.span);
  const startUs = spans.length ? Math.min(...spans.map((span) => span.startTime)) : 0;
  const endUs = spans.length ? Math.max(...spans.map((span) => span.startTime + span.duration)) : 0;
  const durationUs = Math.max(endUs - startUs, 1);
  return {
    traceId: trace.traceID,
    startUs,
    durationUs: endUs - startUs,
    rows: rows.map((row) => ({
      ...row,
      offsetUs: row.span.startTime - startUs,
      offsetPct: ((row.span.startTime - startUs) / durationUs) * 100,
      widthPct: (row.span.duration / durationUs) * 100,
    })),
    services: [...new Set(rows.map((row) => row.service))],
    missingLinks: linkedTraceIds(trace).filter((id) => !followed.has(id)),
  };
}

/** Durations as people read them: 850 µs, 41.2 ms, 1.25 s. */
export function formatDuration(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
