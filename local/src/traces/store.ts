// The local trace store: the most recent traces in memory, searched as Jaeger's memory store does.
import { attributesBytes, spanBytes, type StoreLimits, TRACE_OVERHEAD } from './limits';
import { type Attribute, SPAN_KINDS, type StoredSpan } from './span';

/** One stored trace: its spans in arrival order, with what the limits dropped from it. */
export interface StoredTrace {
  traceId: string;
  spans: StoredSpan[];
  /** Spans refused because the trace already had `maxSpansPerTrace` or would not fit `maxBytes`. */
  droppedSpans: number;
  /** Estimated bytes of the trace and its spans (see spanBytes), without shared resources. */
  bytes: number;
}

/** A search, in Jaeger's terms (its memory store's semantics): a trace matches when one span matches all. */
export interface TraceQuery {
  service?: string;
  operation?: string;
  /** Attribute (span, scope, resource, event or link) equal to the value as a string; `error`, `span.kind`,
   * `span.status`, `scope.name`, `scope.version` and `resource.<key>` are read as Jaeger reads them. */
  tags: Record<string, string>;
  /** Span start bounds, microseconds since the epoch. */
  startMinUs?: number;
  startMaxUs?: number;
  /** Span duration bounds, microseconds. */
  durationMinUs?: number;
  durationMaxUs?: number;
  /** Traces to return at most, newest first. */
  limit: number;
}

/** A service's operation: a span name and its kind ('' when unspecified). */
export interface Operation {
  name: string;
  spanKind: string;
}

/** What the store holds right now, against its limits. */
export interface StoreStats {
  traces: number;
  spans: number;
  /** Estimated bytes of spans and resources. */
  bytes: number;
  /** Spans refused since the start (over a trace's span limit, or too large to fit). */
  droppedSpans: number;
  /** Traces evicted since the start to make room. */
  evictedTraces: number;
}

/** Resources shared by many spans are kept, and counted, once. */
interface SharedResource {
  key: string;
  attributes: Attribute[];
  bytes: number;
  spans: number;
}

const STATUS_CODES: Record<string, number> = { unset: 0, ok: 1, error: 2 };

const asText = (attribute: Attribute) => String(attribute.value);

function matchesAttributes(key: string, value: string, attributes: Attribute[]): boolean {
  return attributes.some((attribute) => attribute.key === key && asText(attribute) === value);
}

function matchesTag(span: StoredSpan, key: string, value: string): boolean {
  switch (key) {
    case 'error': {
      // As Jaeger: error=true asks for status ERROR, error=false for status OK.
      if (value !== 'true' && value !== 'false') return false;
      return span.status.code === (value === 'true' ? 2 : 1);
    }
    case 'span.status':
      return STATUS_CODES[value.toLowerCase()] === span.status.code;
    case 'span.kind':
      return (SPAN_KINDS[span.kind] ?? '') === value.toLowerCase();
    case 'scope.name':
      return span.scope.name === value;
    case 'scope.version':
      return span.scope.version === value;
  }
  if (key.startsWith('resource.'))
    return matchesAttributes(key.slice('resource.'.length), value, span.resource);
  return (
    matchesAttributes(key, value, span.attributes) ||
    matchesAttributes(key, value, span.resource) ||
    span.events.some((event) => matchesAttributes(key, value, event.attributes)) ||
    span.links.some((link) => matchesAttributes(key, value, link.attributes))
  );
}

function matchesSpan(span: StoredSpan, query: TraceQuery): boolean {
  if (query.service !== undefined && span.serviceName !== query.service) return false;
  if (query.operation !== undefined && span.name !== query.operation) return false;
  if (query.startMinUs !== undefined && span.startUs < query.startMinUs) return false;
  if (query.startMaxUs !== undefined && span.startUs > query.startMaxUs) return false;
  if (query.durationMinUs !== undefined && span.durationUs < query.durationMinUs) return false;
  if (query.durationMaxUs !== undefined && span.durationUs > query.durationMaxUs) return false;
  for (const [key, value] of Object.entries(query.tags)) if (!matchesTag(span, key, value)) return false;
  return true;
}

/**
 * The most recent traces, bounded by `limits` (traces, spans per trace, estimated bytes): a new
 * trace beyond `maxTraces`, or spans beyond `maxBytes`, evict the traces seen first. An emulation
 * of Jaeger's in-memory storage (jaeger v2 `memory` backend: a ring of `max_traces` traces, searched
 * newest first) with a byte bound added, for learning and testing; Jaeger is the engine elsewhere.
 */
export class TraceStore {
  /** In the order traces were first seen: the first key is the next to evict. */
  private readonly traces = new Map<string, StoredTrace>();
  private readonly resources = new Map<string, SharedResource>();
  private readonly resourceOf = new Map<Attribute[], SharedResource>();
  /**
   * Each export's spans of one resource share its attribute array: its key is worked out once per
   * array, not once per span (a JSON text of a dozen attributes, most of an ingest's cost otherwise).
   */
  private readonly resourceKeys = new WeakMap<Attribute[], string>();
  private spanCount = 0;
  private bytes = 0;
  private droppedSpans = 0;
  private evictedTraces = 0;

  constructor(readonly limits: StoreLimits) {}

  /** Adds spans from one export. A span whose trace already holds its id is a resend, and ignored. */
  add(spans: StoredSpan[]): void {
    for (const span of spans) this.addSpan(span);
  }

  private addSpan(span: StoredSpan): void {
    let trace = this.traces.get(span.traceId);
    if (trace?.spans.some((kept) => kept.spanId === span.spanId)) return;
    if (trace && trace.spans.length >= this.limits.maxSpansPerTrace) {
      this.drop(trace);
      return;
    }
    const resourceKey = this.resourceKey(span);
    const own = spanBytes(span);
    const needed = () =>
      own +
      (trace ? 0 : TRACE_OVERHEAD) +
      (this.resources.has(resourceKey) ? 0 : attributesBytes(span.resource));
    // Make room, oldest traces first (never this span's own): for a new trace, then for the bytes.
    if (!trace) while (this.traces.size >= this.limits.maxTraces && this.evictOldest());
    while (this.bytes + needed() > this.limits.maxBytes && this.evictOldest(span.traceId));
    if (this.bytes + needed() > this.limits.maxBytes) {
      this.drop(trace);
      return;
    }
    if (!trace) {
      trace = { traceId: span.traceId, spans: [], droppedSpans: 0, bytes: TRACE_OVERHEAD };
      this.traces.set(span.traceId, trace);
      this.bytes += TRACE_OVERHEAD;
    }
    let resource = this.resources.get(resourceKey);
    if (!resource) {
      resource = {
        key: resourceKey,
        attributes: span.resource,
        bytes: attributesBytes(span.resource),
        spans: 0,
      };
      this.resources.set(resourceKey, resource);
      this.resourceOf.set(resource.attributes, resource);
      this.bytes += resource.bytes;
    }
    resource.spans++;
    span.resource = resource.attributes;
    trace.spans.push(span);
    trace.bytes += own;
    this.spanCount++;
    this.bytes += own;
  }

  private resourceKey(span: StoredSpan): string {
    let key = this.resourceKeys.get(span.resource);
    if (key === undefined) {
      key = `${span.serviceName}\n${JSON.stringify(span.resource)}`;
      this.resourceKeys.set(span.resource, key);
    }
    return key;
  }

  private drop(trace: StoredTrace | undefined): void {
    if (trace) trace.droppedSpans++;
    this.droppedSpans++;
  }

  /** Evicts the trace seen first, unless it is `keep`; false when there is nothing to evict. */
  private evictOldest(keep?: string): boolean {
    for (const [traceId, trace] of this.traces) {
      if (traceId === keep) continue;
      this.traces.delete(traceId);
      this.evictedTraces++;
      this.spanCount -= trace.spans.length;
      this.bytes -= trace.bytes;
      // A resource's bytes belong to the store, not to a trace: they go with its last span.
      for (const span of trace.spans) {
        const resource = this.resourceOf.get(span.resource);
        if (resource && --resource.spans === 0) {
          this.resources.delete(resource.key);
          this.resourceOf.delete(resource.attributes);
          this.bytes -= resource.bytes;
        }
      }
      return true;
    }
    return false;
  }

  /** One trace by its id (32 lowercase hex digits), or undefined. */
  get(traceId: string): StoredTrace | undefined {
    return this.traces.get(traceId);
  }

  /** Traces with a span that matches `query`, most recently first seen first, at most `query.limit`. */
  find(query: TraceQuery): StoredTrace[] {
    const found: StoredTrace[] = [];
    const newestFirst = [...this.traces.values()].reverse();
    for (const trace of newestFirst) {
      if (found.length >= query.limit) break;
      if (trace.spans.some((span) => matchesSpan(span, query))) found.push(trace);
    }
    return found;
  }

  /** The services that have spans in the store, sorted. */
  services(): string[] {
    const names = new Set<string>();
    for (const trace of this.traces.values()) for (const span of trace.spans) names.add(span.serviceName);
    return [...names].sort();
  }

  /** A service's operations in the store (of one kind, if given), sorted by name and kind. */
  operations(service: string, spanKind?: string): Operation[] {
    const found = new Map<string, Operation>();
    for (const trace of this.traces.values())
      for (const span of trace.spans) {
        if (span.serviceName !== service) continue;
        const kind = SPAN_KINDS[span.kind] ?? '';
        if (spanKind !== undefined && kind !== spanKind) continue;
        found.set(`${span.name}\n${kind}`, { name: span.name, spanKind: kind });
      }
    return [...found.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || a.spanKind.localeCompare(b.spanKind),
    );
  }

  stats(): StoreStats {
    return {
      traces: this.traces.size,
      spans: this.spanCount,
      bytes: this.bytes,
      droppedSpans: this.droppedSpans,
      evictedTraces: this.evictedTraces,
    };
  }
}
