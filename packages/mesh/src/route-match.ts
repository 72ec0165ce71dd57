// Istio's HTTPMatchRequest, evaluated as Envoy's route match does for the routes istiod generates
// (istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest): the routes
// of a VirtualService in order, the first whose match list has one entry that matches takes the
// request; inside an entry every field must match; `uri` is matched against the path without the
// query; `regex` is RE2 matched whole (ECMAScript here, which agrees on the syntax these files use).
import type { HTTPMatchRequest, StringMatch } from './types';

/** The parts of a request a route can match on. */
export interface MatchableRequest {
  method: string;
  /** The path as sent, query included. */
  url: string;
  /** Lower-case names. */
  headers: Record<string, string | string[] | undefined>;
}

const regexCache = new Map<string, RegExp>();
const wholeRegex = (source: string, flags: string) => {
  const key = `${flags}/${source}`;
  let compiled = regexCache.get(key);
  if (!compiled) regexCache.set(key, (compiled = new RegExp(`^(?:${source})$`, flags)));
  return compiled;
};

/** Whether `value` satisfies an Istio StringMatch; `ignoreCase` for `uri` with ignoreUriCase. */
export function matchString(match: StringMatch, value: string | undefined, ignoreCase = false): boolean {
  if (value === undefined) return false;
  const fold = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  if ('exact' in match) return fold(value) === fold(match.exact);
  if ('prefix' in match) return fold(value).startsWith(fold(match.prefix));
  return wholeRegex(match.regex, ignoreCase ? 'i' : '').test(value);
}

const headerValue = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(',') : value;

/** Whether one HTTPMatchRequest matches: method, uri and every header it names. */
export function matchRequest(match: HTTPMatchRequest, request: MatchableRequest): boolean {
  const path = request.url.split('?')[0] ?? '';
  if (match.method && !matchString(match.method, request.method)) return false;
  if (match.uri && !matchString(match.uri, path, match.ignoreUriCase)) return false;
  for (const [name, want] of Object.entries(match.headers ?? {}))
    if (!matchString(want, headerValue(request.headers[name.toLowerCase()]))) return false;
  return true;
}

/** The first route whose match list matches (an empty list matches everything), or undefined. */
export function selectRoute<R extends { match: HTTPMatchRequest[] }>(
  routes: R[],
  request: MatchableRequest,
): R | undefined {
  return routes.find(
    (route) => route.match.length === 0 || route.match.some((m) => matchRequest(m, request)),
  );
}
