// The store's model of a span: OTLP's span, flattened into what Jaeger's query API shows.

/** An attribute value as Jaeger types it; arrays, maps and bytes arrive as strings. */
export type AttributeValue =
  | { type: 'string'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'int64'; value: number }
  | { type: 'float64'; value: number };

/** A key and its typed value: an OTLP attribute, a Jaeger tag. */
export type Attribute = { key: string } & AttributeValue;

/** A span event; Jaeger shows it as a log. */
export interface SpanEvent {
  /** Microseconds since the epoch. */
  timeUs: number;
  name: string;
  attributes: Attribute[];
}

/** A link to another span, possibly in another trace; Jaeger shows it as a FOLLOWS_FROM reference. */
export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Attribute[];
}

/** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
export type SpanKindCode = number;

/** One span as stored: ids in lowercase hex, times in microseconds, with its origin. */
export interface StoredSpan {
  /** 32 hex digits. */
  traceId: string;
  /** 16 hex digits. */
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindCode;
  /** Microseconds since the epoch. */
  startUs: number;
  durationUs: number;
  /** W3C tracestate, '' when none. */
  traceState: string;
  attributes: Attribute[];
  events: SpanEvent[];
  links: SpanLink[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: 0 | 1 | 2; message: string };
  /** What the store's limits cut off this span. */
  dropped: { attributes: number; events: number; links: number };
  /** The resource's service.name. */
  serviceName: string;
  /** The other resource attributes (Jaeger's process tags). */
  resource: Attribute[];
  /** The instrumentation scope that made the span. */
  scope: { name: string; version: string };
}

/** Jaeger's names for OTLP span kinds; unspecified has none. */
export const SPAN_KINDS = ['', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
