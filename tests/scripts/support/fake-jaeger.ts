import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Jaeger, named as such: no Jaeger binary runs on these machines. It takes OTLP/HTTP
 * JSON exports on POST /v1/traces, as Jaeger v2's OTLP receiver does, and answers GET /api/traces in
 * the shape of Jaeger's query API (the JSON the Jaeger UI reads): `data` holds traces, each with
 * `spans` (traceID, spanID, operationName, references CHILD_OF, startTime and duration in
 * microseconds, tags including span.kind) and `processes` (serviceName). A canned answer, when set,
 * is served instead.
 */

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}

interface StoredSpan extends OtlpSpan {
  service: string;
  scope: string;
}

export interface JaegerTag {
  key: string;
  type: 'string' | 'int64' | 'bool' | 'float64';
  value: string | number | boolean;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

function tag(key: string, value: OtlpValue): JaegerTag {
  if (value.boolValue !== undefined) return { key, type: 'bool', value: value.boolValue };
  if (value.intValue !== undefined) return { key, type: 'int64', value: Number(value.intValue) };
  if (value.doubleValue !== undefined) return { key, type: 'float64', value: value.doubleValue };
  return { key, type: 'string', value: value.stringValue ?? '' };
}

const micros = (nanos: string | number) => Math.floor(Number(BigInt(nanos) / 1000n));

/** Jaeger's JSON for one trace's spans. */
export function toJaegerTrace(spans: StoredSpan[]) {
  const services = [...new Set(spans.map((span) => span.service))];
  const processId = (service: string) => `p${services.indexOf(service) + 1}`;
  return {
    traceID: spans[0]?.traceId ?? '',
    spans: spans.map((span) => ({
      traceID: span.traceId,
      spanID: span.spanId,
      flags: 1,
      operationName: span.name,
      references: span.parentSpanId
        ? [{ refType: 'CHILD_OF', traceID: span.traceId, spanID: span.parentSpanId }]
        : [],
      startTime: micros(span.startTimeUnixNano),
      duration: micros(span.endTimeUnixNano) - micros(span.startTimeUnixNano),
      tags: [
        { key: 'otel.scope.name', type: 'string', value: span.scope },
        ...(span.attributes ?? []).map((attribute) => tag(attribute.key, attribute.value)),
        ...(span.kind > 1
          ? [{ key: 'span.kind', type: 'string', value: KINDS[span.kind] ?? 'unspecified' }]
          : []),
        { key: 'internal.span.format', type: 'string', value: 'otlp' },
      ],
      logs: [],
      processID: processId(span.service),
      warnings: null,
    })),
    processes: Object.fromEntries(
      services.map((service) => [processId(service), { serviceName: service, tags: [] }]),
    ),
    warnings: null,
  };
}

export async function startFakeJaeger() {
  const spans: StoredSpan[] = [];
  const queries: URLSearchParams[] = [];
  let canned: unknown;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://jaeger');
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.method === 'POST' && url.pathname === '/v1/traces') {
        const payload = JSON.parse(body) as OtlpExport;
        for (const resourceSpans of payload.resourceSpans ?? []) {
          const service =
            resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ??
            '?';
          for (const scope of resourceSpans.scopeSpans ?? []) {
            for (const span of scope.spans ?? [])
              spans.push({ ...span, service, scope: scope.scope?.name ?? '' });
          }
        }
        return send(200, {});
      }
      if (req.method === 'GET' && url.pathname === '/api/traces') {
        queries.push(url.searchParams);
        const service = url.searchParams.get('service');
        if (!service)
          return send(400, {
            data: null,
            total: 0,
            limit: 0,
            offset: 0,
            errors: [{ code: 400, msg: "parameter 'service' is required" }],
          });
        if (canned !== undefined) return send(200, canned);
        const start = Number(url.searchParams.get('start') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 100);
        const traceIds = [
          ...new Set(spans.filter((s) => s.service === service).map((s) => s.traceId)),
        ].reverse();
        const data = traceIds
          .map((id) => toJaegerTrace(spans.filter((s) => s.traceId === id)))
          .filter((trace) => trace.spans.some((span) => span.startTime >= start))
          .slice(0, limit);
        return send(200, { data, total: 0, limit: 0, offset: 0, errors: null });
      }
      send(404, { data: null, errors: [{ code: 404, msg: 'not found' }] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    queries,
    /** Serve this body for every /api/traces query instead of the received spans. */
    answerWith(body: unknown) {
      canned = body;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
