// Every bound of the local trace store, in one place: nothing it keeps grows without one.
import type { Attribute, StoredSpan } from './span';

/** What one span may carry; anything beyond is cut off, and the cut is counted. */
export interface SpanLimits {
  /** Characters of a string value (attribute, event name, status message); longer ones are cut. */
  maxValueLength: number;
  /** Attributes per span, event and link (OpenTelemetry SDKs' default limit is 128 too). */
  maxAttributes: number;
  /** Events per span. */
  maxEvents: number;
  /** Links per span. */
  maxLinks: number;
}

/** What the store as a whole keeps: the most recent traces within all three bounds. */
export interface StoreLimits {
  /** Traces kept; a new trace beyond it evicts the oldest (first seen), as Jaeger's memory store does. */
  maxTraces: number;
  /** Spans per trace; later ones are dropped and the trace says so in its warnings. */
  maxSpansPerTrace: number;
  /** The stored spans' size as `spanBytes` estimates it, in bytes; the oldest traces make room. */
  maxBytes: number;
}

export interface TraceStoreLimits extends SpanLimits, StoreLimits {
  /** Bytes of one OTLP request body, after any gzip; larger ones get 413. */
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: Readonly<TraceStoreLimits> = {
  maxValueLength: 4096,
  maxAttributes: 128,
  maxEvents: 128,
  maxLinks: 128,
  maxTraces: 1000,
  maxSpansPerTrace: 1000,
  maxBytes: 64 * 1024 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
};

// What V8 spends, at most, on the objects behind a span and an attribute (headers, fields, array
// slots), measured with the memory test in local/tests; strings add their length on top.
const SPAN_OVERHEAD = 600;
/** A trace's own record: its entry in the store's map, its object and its spans array. */
export const TRACE_OVERHEAD = 400;
const ATTRIBUTE_OVERHEAD = 80;
const STRING_OVERHEAD = 24;

const stringBytes = (text: string) => STRING_OVERHEAD + text.length * 2;

/** An upper estimate, in bytes, of the memory a list of attributes holds. */
export function attributesBytes(attributes: Attribute[]): number {
  let bytes = ATTRIBUTE_OVERHEAD;
  for (const attribute of attributes)
    bytes +=
      ATTRIBUTE_OVERHEAD +
      stringBytes(attribute.key) +
      (attribute.type === 'string' ? stringBytes(attribute.value) : 0);
  return bytes;
}

/**
 * An upper estimate, in bytes, of the memory a stored span holds on its own, without its resource
 * (which the store keeps once for all the spans that share it). Strings count two bytes per
 * character, as V8 stores any string that is not all Latin-1.
 */
export function spanBytes(span: StoredSpan): number {
  let bytes =
    SPAN_OVERHEAD +
    stringBytes(span.traceId) +
    stringBytes(span.spanId) +
    stringBytes(span.parentSpanId ?? '') +
    stringBytes(span.name) +
    stringBytes(span.status.message) +
    stringBytes(span.traceState) +
    attributesBytes(span.attributes);
  for (const event of span.events)
    bytes += ATTRIBUTE_OVERHEAD + stringBytes(event.name) + attributesBytes(event.attributes);
  for (const link of span.links) bytes += ATTRIBUTE_OVERHEAD + attributesBytes(link.attributes);
  return bytes;
}
