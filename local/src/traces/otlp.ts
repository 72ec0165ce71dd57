// OTLP/JSON trace exports (ExportTraceServiceRequest), read into the store's span model.
// Follows the OTLP specification's JSON encoding: lowerCamelCase keys, trace and span ids as hex
// strings, enums as integers, 64-bit integers as decimal strings or numbers.
import type { SpanLimits } from './limits';
import type { Attribute, SpanEvent, SpanLink, StoredSpan } from './span';

/** A body that is no valid OTLP/JSON export; `field` is the JSON path of the first problem. */
export class OtlpError extends Error {
  override name = 'OtlpError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

type Json = Record<string, unknown>;

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZEROS = /^0+$/;
const UNSIGNED = /^\d{1,20}$/;
const SIGNED = /^-?\d{1,19}$/;

/**
 * Whether a value JSON.parse made is an object. JSON has no other prototypes, so the type check is
 * exact here, and it is on the receiver's path once per span and attribute (is-plain-obj's
 * prototype checks cost a tenth of reading an export).
 */
const isJsonObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the export's objects field by field. Each check takes the path of the object it reads in
 * and the key it reads: a field's path is only spelled out when the field is wrong (an object's is
 * built once, to read its fields), as the receiver reads every span and attribute of every export.
 */
class Reader {
  constructor(private readonly limits: SpanLimits) {}

  array(value: unknown, at: string, key: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new OtlpError(join(at, key), 'must be an array');
    return value;
  }

  object(value: unknown, at: string, key = ''): Json {
    if (!isJsonObject(value)) throw new OtlpError(join(at, key), 'must be an object');
    return value;
  }

  optionalObject(value: unknown, at: string, key = ''): Json {
    return value === undefined || value === null ? {} : this.object(value, at, key);
  }

  string(value: unknown, at: string, key: string, optional = false): string {
    if (optional && (value === undefined || value === null)) return '';
    if (typeof value !== 'string') throw new OtlpError(join(at, key), 'must be a string');
    return this.cut(value);
  }

  cut(text: string): string {
    return text.length > this.limits.maxValueLength ? text.slice(0, this.limits.maxValueLength) : text;
  }

  /**
   * Nanoseconds since the epoch (a fixed64: decimal string or number) as microseconds: the decimal
   * digits but the last three, which is the integer division by 1000.
   */
  nanosAsMicros(value: unknown, at: string, key: string): number {
    const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
    if (typeof text !== 'string' || !UNSIGNED.test(text))
      throw new OtlpError(join(at, key), 'must be nanoseconds since the epoch, as a decimal string');
    return text.length > 3 ? Number(text.slice(0, -3)) : 0;
  }

  id(value: unknown, at: string, key: string, pattern: RegExp, digits: number): string {
    const id = typeof value === 'string' ? value.toLowerCase() : '';
    if (!pattern.test(id) || ZEROS.test(id))
      throw new OtlpError(join(at, key), `must be ${digits} hex digits, not all zero`);
    return id;
  }

  optionalSpanId(value: unknown, at: string, key: string): string | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    return this.id(value, at, key, SPAN_ID, 16);
  }

  /** An AnyValue as Jaeger shows it, with its key: arrays, maps and bytes become strings (JSON, base64). */
  attribute(key: string, raw: unknown, at: string): Attribute {
    const value = this.optionalObject(raw, at);
    if (typeof value.stringValue === 'string')
      return { key, type: 'string', value: this.cut(value.stringValue) };
    if (typeof value.boolValue === 'boolean') return { key, type: 'bool', value: value.boolValue };
    if (value.intValue !== undefined) {
      const text = typeof value.intValue === 'number' ? String(value.intValue) : value.intValue;
      if (typeof text !== 'string' || !SIGNED.test(text))
        throw new OtlpError(`${at}.intValue`, 'must be a 64-bit integer');
      return { key, type: 'int64', value: Number(text) };
    }
    if (value.doubleValue !== undefined) {
      const number = typeof value.doubleValue === 'string' ? Number(value.doubleValue) : value.doubleValue;
      if (typeof number !== 'number' || Number.isNaN(number))
        throw new OtlpError(`${at}.doubleValue`, 'must be a number');
      return { key, type: 'float64', value: number };
    }
    if (value.arrayValue !== undefined || value.kvlistValue !== undefined) {
      return { key, type: 'string', value: this.cut(JSON.stringify(this.plain(value, at, 0))) };
    }
    if (typeof value.bytesValue === 'string')
      return { key, type: 'string', value: this.cut(value.bytesValue) };
    return { key, type: 'string', value: '' };
  }

  /** Arrays and maps as plain JSON, nested at most a few levels deep. */
  private plain(value: Json, at: string, depth: number): unknown {
    if (depth > 8) throw new OtlpError(at, 'is nested too deeply');
    if (value.arrayValue !== undefined) {
      const values = this.array(this.optionalObject(value.arrayValue, at).values, at, 'arrayValue');
      return values.slice(0, this.limits.maxAttributes).map((item, i) => {
        const itemAt = `${at}[${i}]`;
        return this.plain(this.optionalObject(item, itemAt), itemAt, depth + 1);
      });
    }
    if (value.kvlistValue !== undefined) {
      const values = this.array(this.optionalObject(value.kvlistValue, at).values, at, 'kvlistValue');
      return Object.fromEntries(
        values.slice(0, this.limits.maxAttributes).map((item, i) => {
          const pairAt = `${at}.kvlistValue.values[${i}]`;
          const pair = this.object(item, pairAt);
          const key = this.string(pair.key, pairAt, 'key');
          const valueAt = `${pairAt}.value`;
          return [key, this.plain(this.optionalObject(pair.value, valueAt), valueAt, depth + 1)];
        }),
      );
    }
    return this.attribute('', value, at).value;
  }

  /** KeyValue lists, at most `maxAttributes` of them; `dropped` counts the rest. */
  attributes(raw: unknown, at: string, key: string): { attributes: Attribute[]; dropped: number } {
    const list = this.array(raw, at, key);
    const kept = Math.min(list.length, this.limits.maxAttributes);
    const attributes: Attribute[] = [];
    for (let i = 0; i < kept; i++) {
      const itemAt = `${at}.${key}[${i}]`;
      const pair = this.object(list[i], itemAt);
      attributes.push(this.attribute(this.string(pair.key, itemAt, 'key'), pair.value, `${itemAt}.value`));
    }
    return { attributes, dropped: list.length - kept };
  }
}

/** A JSON path and one of its keys: `a.b`, or `b` at the body's top. */
const join = (at: string, key: string) => (key === '' ? at : at === '' ? key : `${at}.${key}`);

/** The resource and scope a span was reported with. */
export interface SpanOrigin {
  serviceName: string;
  /** Resource attributes other than service.name: Jaeger's process tags. */
  resource: Attribute[];
  scope: { name: string; version: string };
}

/**
 * Reads an OTLP/JSON ExportTraceServiceRequest into spans, each attribute value, event, link and
 * attribute list cut to `limits`. Throws OtlpError naming the first field that breaks the
 * specification (the whole export is refused: OTLP's answer to a malformed request is 400).
 */
export function readOtlpJson(body: unknown, limits: SpanLimits): StoredSpan[] {
  const read = new Reader(limits);
  const root = read.object(body, '(body)');
  const spans: StoredSpan[] = [];
  read.array(root.resourceSpans, '', 'resourceSpans').forEach((rawResource, r) => {
    const at = `resourceSpans[${r}]`;
    const resourceSpans = read.object(rawResource, at);
    const resource = read.optionalObject(resourceSpans.resource, at, 'resource');
    const { attributes } = read.attributes(resource.attributes, `${at}.resource`, 'attributes');
    const service = attributes.find((a) => a.key === 'service.name');
    // As Jaeger names a process that did not say: OpenTelemetry's default is unknown_service.
    const serviceName = service && service.value !== '' ? String(service.value) : 'unknown_service';
    const resourceTags = attributes.filter((a) => a.key !== 'service.name');
    read.array(resourceSpans.scopeSpans, at, 'scopeSpans').forEach((rawScopeSpans, s) => {
      const sat = `${at}.scopeSpans[${s}]`;
      const scopeSpans = read.object(rawScopeSpans, sat);
      const scope = read.optionalObject(scopeSpans.scope, sat, 'scope');
      const origin: SpanOrigin = {
        serviceName,
        resource: resourceTags,
        scope: {
          name: read.string(scope.name, `${sat}.scope`, 'name', true),
          version: read.string(scope.version, `${sat}.scope`, 'version', true),
        },
      };
      read.array(scopeSpans.spans, sat, 'spans').forEach((rawSpan, i) => {
        const spanAt = `${sat}.spans[${i}]`;
        spans.push(readSpan(read, read.object(rawSpan, spanAt), spanAt, origin, limits));
      });
    });
  });
  return spans;
}

function readSpan(read: Reader, span: Json, at: string, origin: SpanOrigin, limits: SpanLimits): StoredSpan {
  const traceId = read.id(span.traceId, at, 'traceId', TRACE_ID, 32);
  const spanId = read.id(span.spanId, at, 'spanId', SPAN_ID, 16);
  const parentSpanId = read.optionalSpanId(span.parentSpanId, at, 'parentSpanId');
  const name = read.string(span.name, at, 'name');
  const startUs = read.nanosAsMicros(span.startTimeUnixNano, at, 'startTimeUnixNano');
  const endUs = read.nanosAsMicros(span.endTimeUnixNano, at, 'endTimeUnixNano');
  const kind = span.kind ?? 0;
  if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < 0 || kind > 5)
    throw new OtlpError(`${at}.kind`, 'must be a SpanKind from 0 to 5');
  const status = read.optionalObject(span.status, at, 'status');
  const code = status.code ?? 0;
  if (code !== 0 && code !== 1 && code !== 2)
    throw new OtlpError(`${at}.status.code`, 'must be 0 (unset), 1 (ok) or 2 (error)');
  const { attributes, dropped } = read.attributes(span.attributes, at, 'attributes');
  const rawEvents = read.array(span.events, at, 'events');
  const events: SpanEvent[] = rawEvents.slice(0, limits.maxEvents).map((raw, i) => {
    const eventAt = `${at}.events[${i}]`;
    const event = read.object(raw, eventAt);
    return {
      timeUs: read.nanosAsMicros(event.timeUnixNano, eventAt, 'timeUnixNano'),
      name: read.string(event.name, eventAt, 'name', true),
      attributes: read.attributes(event.attributes, eventAt, 'attributes').attributes,
    };
  });
  const rawLinks = read.array(span.links, at, 'links');
  const links: SpanLink[] = rawLinks.slice(0, limits.maxLinks).map((raw, i) => {
    const linkAt = `${at}.links[${i}]`;
    const link = read.object(raw, linkAt);
    return {
      traceId: read.id(link.traceId, linkAt, 'traceId', TRACE_ID, 32),
      spanId: read.id(link.spanId, linkAt, 'spanId', SPAN_ID, 16),
      attributes: read.attributes(link.attributes, linkAt, 'attributes').attributes,
    };
  });
  const stored: StoredSpan = {
    traceId,
    spanId,
    name,
    kind,
    startUs,
    // A span that ends before it starts is shown with no duration, as Jaeger's sanitizer does.
    durationUs: Math.max(0, endUs - startUs),
    traceState: read.string(span.traceState, at, 'traceState', true),
    attributes,
    events,
    links,
    status: { code, message: read.string(status.message, `${at}.status`, 'message', true) },
    dropped: {
      attributes: dropped,
      events: rawEvents.length - events.length,
      links: rawLinks.length - links.length,
    },
    serviceName: origin.serviceName,
    resource: origin.resource,
    scope: origin.scope,
  };
  if (parentSpanId) stored.parentSpanId = parentSpanId;
  return stored;
}
