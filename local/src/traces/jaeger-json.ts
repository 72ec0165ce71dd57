// Stored traces in the JSON of Jaeger's query API: the UI model of jaeger-query's HTTP API
// (internal/uimodel: Trace, Span, Reference, Process, KeyValue, Log), with OpenTelemetry spans
// translated as Jaeger's OTLP translator does (opentelemetry-collector-contrib pkg/translator/jaeger):
// parent -> CHILD_OF, links -> FOLLOWS_FROM, kind -> span.kind, status -> otel.status_code, error and
// otel.status_description, scope -> otel.scope.name/version, events -> logs with an `event` field.
// The JSON shapes are declared once, where the web page that reads them (through the frontend) is.
import type {
  JaegerKeyValue,
  JaegerReference,
  JaegerSpan,
  JaegerTrace,
} from '../../../services/frontend/web/api-types';
import type { Attribute, StoredSpan } from './span';
import { SPAN_KINDS } from './span';
import type { StoredTrace } from './store';

export type { JaegerKeyValue, JaegerReference, JaegerSpan, JaegerTrace };

const tag = ({ key, type, value }: Attribute): JaegerKeyValue => ({ key, type, value });
const text = (key: string, value: string): JaegerKeyValue => ({ key, type: 'string', value });

function spanTags(span: StoredSpan): JaegerKeyValue[] {
  const tags: JaegerKeyValue[] = [];
  if (span.scope.name) tags.push(text('otel.scope.name', span.scope.name));
  if (span.scope.version) tags.push(text('otel.scope.version', span.scope.version));
  tags.push(...span.attributes.map(tag));
  const kind = SPAN_KINDS[span.kind];
  if (kind) tags.push(text('span.kind', kind));
  if (span.status.code === 1) tags.push(text('otel.status_code', 'OK'));
  if (span.status.code === 2)
    tags.push(text('otel.status_code', 'ERROR'), { key: 'error', type: 'bool', value: true });
  if (span.status.message) tags.push(text('otel.status_description', span.status.message));
  if (span.traceState) tags.push(text('w3c.tracestate', span.traceState));
  return tags;
}

function spanWarnings(span: StoredSpan): string[] | null {
  const { attributes, events, links } = span.dropped;
  const warnings = [
    attributes && `${attributes} attributes dropped by the store's limit`,
    events && `${events} events dropped by the store's limit`,
    links && `${links} links dropped by the store's limit`,
  ].filter((warning): warning is string => Boolean(warning));
  return warnings.length ? warnings : null;
}

/** One trace in Jaeger's JSON; processes are numbered p1, p2... by first appearance, as Jaeger does. */
export function toJaegerTrace(trace: StoredTrace): JaegerTrace {
  const processIds = new Map<string, string>();
  const processes: JaegerTrace['processes'] = {};
  const processOf = (span: StoredSpan) => {
    const key = `${span.serviceName}\n${JSON.stringify(span.resource)}`;
    let id = processIds.get(key);
    if (!id) {
      id = `p${processIds.size + 1}`;
      processIds.set(key, id);
      processes[id] = { serviceName: span.serviceName, tags: span.resource.map(tag) };
    }
    return id;
  };
  const spans = trace.spans.map((span): JaegerSpan => ({
    traceID: span.traceId,
    spanID: span.spanId,
    operationName: span.name,
    references: [
      ...(span.parentSpanId
        ? [{ refType: 'CHILD_OF' as const, traceID: span.traceId, spanID: span.parentSpanId }]
        : []),
      ...span.links.map((link) => ({
        refType: 'FOLLOWS_FROM' as const,
        traceID: link.traceId,
        spanID: link.spanId,
      })),
    ],
    startTime: span.startUs,
    duration: span.durationUs,
    tags: spanTags(span),
    logs: span.events.map((event) => ({
      timestamp: event.timeUs,
      fields: [...(event.name ? [text('event', event.name)] : []), ...event.attributes.map(tag)],
    })),
    processID: processOf(span),
    warnings: spanWarnings(span),
  }));
  const warnings = trace.droppedSpans
    ? [`${trace.droppedSpans} spans dropped by the store's limits (spans per trace or total size)`]
    : null;
  return { traceID: trace.traceId, spans, processes, warnings };
}

const otlpValue = (attribute: Attribute) => {
  switch (attribute.type) {
    case 'string':
      return { stringValue: attribute.value };
    case 'bool':
      return { boolValue: attribute.value };
    case 'int64':
      return { intValue: String(attribute.value) };
    case 'float64':
      return { doubleValue: attribute.value };
  }
};
const otlpAttributes = (attributes: Attribute[]) =>
  attributes.map((a) => ({ key: a.key, value: otlpValue(a) }));
const nanos = (micros: number) => `${micros}000`;

/**
 * Spans as OTLP/JSON TracesData (`{resourceSpans: [...]}`), grouped by resource and scope: what
 * Jaeger's api_v3 answers in `result`. Attributes the store turned into strings stay strings.
 */
export function toOtlpTraces(traces: StoredTrace[]): { resourceSpans: unknown[] } {
  const resources = new Map<
    string,
    { resource: unknown; scopes: Map<string, { scope: unknown; spans: unknown[] }> }
  >();
  for (const trace of traces)
    for (const span of trace.spans) {
      const resourceKey = `${span.serviceName}\n${JSON.stringify(span.resource)}`;
      let resource = resources.get(resourceKey);
      if (!resource) {
        resource = {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: span.serviceName } },
              ...otlpAttributes(span.resource),
            ],
          },
          scopes: new Map(),
        };
        resources.set(resourceKey, resource);
      }
      const scopeKey = `${span.scope.name}\n${span.scope.version}`;
      let scope = resource.scopes.get(scopeKey);
      if (!scope) {
        scope = { scope: { name: span.scope.name, version: span.scope.version }, spans: [] };
        resource.scopes.set(scopeKey, scope);
      }
      scope.spans.push({
        traceId: span.traceId,
        spanId: span.spanId,
        ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
        ...(span.traceState ? { traceState: span.traceState } : {}),
        name: span.name,
        kind: span.kind,
        startTimeUnixNano: nanos(span.startUs),
        endTimeUnixNano: nanos(span.startUs + span.durationUs),
        attributes: otlpAttributes(span.attributes),
        events: span.events.map((event) => ({
          timeUnixNano: nanos(event.timeUs),
          name: event.name,
          attributes: otlpAttributes(event.attributes),
        })),
        links: span.links.map((link) => ({
          traceId: link.traceId,
          spanId: link.spanId,
          attributes: otlpAttributes(link.attributes),
        })),
        status: { code: span.status.code, ...(span.status.message ? { message: span.status.message } : {}) },
      });
    }
  return {
    resourceSpans: [...resources.values()].map(({ resource, scopes }) => ({
      resource,
      scopeSpans: [...scopes.values()],
    })),
  };
}
