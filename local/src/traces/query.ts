// The search parameters of Jaeger's query APIs, read as jaeger-query reads them (v2.17:
// cmd/jaeger/internal/extension/jaegerquery/internal/query_parser.go and apiv3/http_gateway.go).
import type { TraceQuery } from './store';

/** A parameter that cannot be read; `param` names it, the message says what is expected. */
export class QueryError extends Error {
  override name = 'QueryError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/** Jaeger searches the last 2 days when no start is given. */
export const DEFAULT_LOOKBACK_US = 2 * 24 * 3600 * 1e6;
/** Jaeger's default number of traces for a search. */
export const DEFAULT_SEARCH_LIMIT = 100;

const UNIT_US: Record<string, number> = {
  ns: 1e-3,
  us: 1,
  µs: 1,
  μs: 1,
  ms: 1e3,
  s: 1e6,
  m: 60e6,
  h: 3600e6,
};
const DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * A Go duration string (`time.ParseDuration`: "1.5s", "300ms", "2h45m", "0") in microseconds.
 * Throws QueryError naming `param`.
 */
export function parseDuration(text: string, param: string): number {
  const fail = () =>
    new QueryError(
      param,
      `unable to parse param '${param}': invalid duration "${text}" (e.g. 100ms, 1.5s, 2h45m)`,
    );
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw fail();
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < rest.length) {
    const match = DURATION_PART.exec(rest);
    if (!match) throw fail();
    total += Number(match[1]) * (UNIT_US[match[2] ?? ''] ?? NaN);
  }
  if (!Number.isFinite(total)) throw fail();
  return sign * total;
}

function integer(text: string, param: string): number {
  if (!/^-?\d{1,16}$/.test(text))
    throw new QueryError(param, `unable to parse param '${param}': '${text}' is not an integer`);
  return Number(text);
}

function limitOf(text: string | null, param: string, maxTraces: number): number {
  if (text === null || text === '') return Math.min(DEFAULT_SEARCH_LIMIT, maxTraces);
  const limit = integer(text, param);
  if (limit < 1 || limit > maxTraces)
    throw new QueryError(param, `'${param}' must be from 1 to ${maxTraces} (the traces this store keeps)`);
  return limit;
}

function durationBounds(
  query: TraceQuery,
  min: string | null,
  max: string | null,
  names: [string, string],
): void {
  if (min) query.durationMinUs = parseDuration(min, names[0]);
  if (max) query.durationMaxUs = parseDuration(max, names[1]);
  if (query.durationMinUs && query.durationMaxUs && query.durationMaxUs < query.durationMinUs)
    throw new QueryError(names[1], `'${names[1]}' should be greater than '${names[0]}'`);
}

/**
 * GET /api/traces: service (required), operation, tag=key:value (repeatable), tags={json map},
 * start and end (µs since the epoch; start defaults to end minus lookback, or 2 days), lookback (a
 * duration such as 1h, used only without start: Jaeger's UI sends start as well), minDuration and
 * maxDuration (Go durations), limit (1 to `maxTraces`, default 100). Throws QueryError.
 */
export function parseSearch(params: URLSearchParams, nowUs: number, maxTraces: number): TraceQuery {
  const service = params.get('service');
  if (!service) throw new QueryError('service', "parameter 'service' is required");
  const tags: Record<string, string> = {};
  for (const pair of params.getAll('tag')) {
    const colon = pair.indexOf(':');
    if (colon < 0)
      throw new QueryError('tag', `malformed 'tag' parameter, expecting key:value, received: ${pair}`);
    tags[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  for (const json of params.getAll('tags')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      parsed = undefined;
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      Object.values(parsed).some((v) => typeof v !== 'string')
    )
      throw new QueryError(
        'tags',
        `malformed 'tags' parameter: expecting a JSON object of strings, e.g. {"http.status_code":"500"}`,
      );
    Object.assign(tags, parsed);
  }
  const end = params.get('end');
  const start = params.get('start');
  const lookback = params.get('lookback');
  const endUs = end ? integer(end, 'end') : nowUs;
  const lookbackUs =
    lookback && lookback !== 'custom' ? parseDuration(lookback, 'lookback') : DEFAULT_LOOKBACK_US;
  const query: TraceQuery = {
    service,
    tags,
    startMinUs: start ? integer(start, 'start') : endUs - lookbackUs,
    startMaxUs: endUs,
    limit: limitOf(params.get('limit'), 'limit', maxTraces),
  };
  const operation = params.get('operation');
  if (operation) query.operation = operation;
  durationBounds(query, params.get('minDuration'), params.get('maxDuration'), ['minDuration', 'maxDuration']);
  return query;
}

function rfc3339Micros(text: string | null, param: string): number {
  // RFC 3339 with an offset or Z, as Go's time.RFC3339Nano; Date keeps milliseconds.
  if (
    !text ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) ||
    Number.isNaN(Date.parse(text))
  )
    throw new QueryError(
      param,
      `malformed parameter ${param}: expecting an RFC 3339 time, e.g. 2026-01-31T12:00:00Z`,
    );
  return Date.parse(text) * 1000;
}

/**
 * GET /api/v3/traces: query.service_name, query.operation_name, query.start_time_min and
 * query.start_time_max (RFC 3339, both required), query.num_traces, query.duration_min and
 * query.duration_max (Go durations). Throws QueryError.
 */
export function parseSearchV3(params: URLSearchParams, maxTraces: number): TraceQuery {
  const min = params.get('query.start_time_min');
  const max = params.get('query.start_time_max');
  if (!min || !max)
    throw new QueryError(
      'query.start_time_min',
      'query.start_time_min and query.start_time_max are required',
    );
  const query: TraceQuery = {
    tags: {},
    startMinUs: rfc3339Micros(min, 'query.start_time_min'),
    startMaxUs: rfc3339Micros(max, 'query.start_time_max'),
    limit: limitOf(params.get('query.num_traces'), 'query.num_traces', maxTraces),
  };
  const service = params.get('query.service_name');
  if (service) query.service = service;
  const operation = params.get('query.operation_name');
  if (operation) query.operation = operation;
  durationBounds(query, params.get('query.duration_min'), params.get('query.duration_max'), [
    'query.duration_min',
    'query.duration_max',
  ]);
  return query;
}

/**
 * A trace id as Jaeger accepts it: 1 to 32 hex digits, left-padded with zeros to 32, lowercase.
 * Throws QueryError naming `param`.
 */
export function parseTraceId(text: string, param: string): string {
  if (!/^[0-9a-fA-F]{1,32}$/.test(text))
    throw new QueryError(
      param,
      `unable to parse param '${param}': '${text}' is not a trace id (1 to 32 hex digits)`,
    );
  return text.toLowerCase().padStart(32, '0');
}
