import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import isPlainObject from 'is-plain-obj';
import { LOCAL_ACCOUNT_ID } from '../runtime/context';
import type { ApiRoute, ApiSettings, FunctionSpec } from '../template/template';

/** The implicit API's stage in AWS (…/Prod/hello); the emulator serves /Prod/hello and /hello alike. */
export const STAGE = 'Prod';

/** API Gateway's payload limit for REST APIs. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** A request as it came off the wire. */
export interface ProxyRequest {
  method: string;
  /** Path and query, still URL-encoded, e.g. /products?limit=5. */
  url: string;
  /** Name/value pairs in arrival order, names as the client spelled them (node's rawHeaders). */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
}

export interface RouteMatch {
  spec: FunctionSpec;
  route: ApiRoute;
  /** The settings of the API the route belongs to. */
  api: ApiSettings;
  /** The request path without the stage, e.g. /products/42. */
  path: string;
  pathParameters: Record<string, string> | null;
}

interface CompiledRoute {
  spec: FunctionSpec;
  route: ApiRoute;
  pattern: RegExp;
  names: string[];
  /** Literal paths win over parameters, parameters over greedy {proxy+}, as in API Gateway. */
  rank: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(spec: FunctionSpec, route: ApiRoute): CompiledRoute {
  const names: string[] = [];
  let rank = 0;
  const source = route.path
    .split('/')
    .map((segment) => {
      const parameter = /^\{([^}]+?)(\+?)\}$/.exec(segment);
      if (!parameter) return escapeRegExp(segment);
      names.push(parameter[1] as string);
      rank += parameter[2] ? 1000 : 1;
      return parameter[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { spec, route, pattern: new RegExp(`^${source}$`), names, rank };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Strips the stage prefix and a trailing slash: /Prod/products/ -> /products. */
export function resourcePathOf(rawPath: string): string {
  let path =
    rawPath === `/${STAGE}` || rawPath.startsWith(`/${STAGE}/`) ? rawPath.slice(STAGE.length + 1) : rawPath;
  if (path === '') path = '/';
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The template's Api events as API Gateway routes them. */
export class ApiRouter {
  private readonly routes: CompiledRoute[];

  constructor(
    functions: FunctionSpec[],
    readonly api: ApiSettings = { binaryMediaTypes: [], gatewayResponses: {} },
  ) {
    this.routes = functions
      .flatMap((spec) => spec.routes.map((route) => compile(spec, route)))
      .sort((a, b) => a.rank - b.rank);
  }

  /** Undefined for an unknown path or a method the path does not have (both 403 in API Gateway). */
  match(method: string, rawPath: string): RouteMatch | undefined {
    const path = resourcePathOf(rawPath);
    for (const compiled of this.routes) {
      if (compiled.route.method !== method && compiled.route.method !== 'ANY') continue;
      const found = compiled.pattern.exec(path);
      if (!found) continue;
      const pathParameters = compiled.names.length
        ? Object.fromEntries(compiled.names.map((name, i) => [name, decode(found[i + 1] as string)]))
        : null;
      return { spec: compiled.spec, route: compiled.route, api: this.api, path, pathParameters };
    }
    return undefined;
  }
}

/** The media type of a Content-Type or Accept value, without parameters, lower case. */
function mediaTypeOf(value: string | undefined): string | undefined {
  const type = value?.split(/[;,]/)[0]?.trim().toLowerCase();
  return type || undefined;
}

/**
 * Whether `mediaType` is one of the API's binary media types, where `*` stands for any type or any
 * subtype (`image/*` matches every image, and `*` for both matches everything). An absent media type
 * matches only that catch-all.
 */
export function isBinaryMediaType(
  mediaType: string | undefined,
  binaryMediaTypes: readonly string[],
): boolean {
  const [type, subtype] = mediaType?.split('/') ?? [];
  return binaryMediaTypes.some((entry) => {
    const [entryType, entrySubtype] = entry.toLowerCase().split('/');
    return (entryType === '*' || entryType === type) && (entrySubtype === '*' || entrySubtype === subtype);
  });
}

/**
 * API Gateway hands a Lambda proxy integration the request body base64-encoded when its Content-Type
 * matches one of the API's binaryMediaTypes, and as UTF-8 text otherwise, bytes that are not UTF-8
 * replaced by U+FFFD. Without a Content-Type it takes the request to be application/json.
 * (Binary media types and the integration passthrough behaviours in API Gateway's developer guide.)
 */
function isBinaryRequest(contentType: string | undefined, api: ApiSettings): boolean {
  return isBinaryMediaType(mediaTypeOf(contentType) ?? 'application/json', api.binaryMediaTypes);
}

function requestTime(date: Date): string {
  // API Gateway's $context.requestTime: 15/Jan/2024:10:30:00 +0000
  const [, day, month, year, time] = date.toUTCString().split(' ');
  return `${day}/${month}/${year}:${time} +0000`;
}

/** The REST API (v1) proxy event API Gateway sends the function for this request. */
export function buildProxyEvent(
  request: ProxyRequest,
  match: RouteMatch,
  requestId: string,
  now = new Date(),
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string;
    const value = request.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const header = (name: string) =>
    Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1] ?? undefined;

  // Everything after the first '?' is the query string, further '?' included.
  const queryStart = request.url.indexOf('?');
  const query = new URLSearchParams(queryStart < 0 ? '' : request.url.slice(queryStart + 1));
  const queryStringParameters: Record<string, string> = {};
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of query) {
    queryStringParameters[name] = value;
    (multiValueQueryStringParameters[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(queryStringParameters).length > 0;

  const binary = request.body.length > 0 && isBinaryRequest(header('content-type'), match.api);
  return {
    resource: match.route.path,
    path: match.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? queryStringParameters : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: match.pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      authorizer: undefined,
      domainName: header('host'),
      extendedRequestId: randomBytes(8).toString('base64url'),
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent: header('user-agent') ?? null,
        userArn: null,
      },
      path: `/${STAGE}${match.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: requestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: randomBytes(3).toString('hex'),
      resourcePath: match.route.path,
      stage: STAGE,
    },
    body: request.body.length === 0 ? null : request.body.toString(binary ? 'base64' : 'utf8'),
    isBase64Encoded: binary,
  };
}

export interface HttpResponse {
  statusCode: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

const isHeaderValue = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);

/**
 * Maps a proxy integration result to the HTTP response API Gateway sends. Undefined when the result
 * is not a valid proxy response (API Gateway answers 502 then). A base64 body (`isBase64Encoded`)
 * goes out as bytes only when the first media type of the request's Accept header is one of the
 * API's binary media types, as API Gateway decides; otherwise the base64 text goes out as it is.
 */
export function toHttpResponse(
  result: unknown,
  accept: string | undefined,
  api: ApiSettings,
): HttpResponse | undefined {
  if (!isPlainObject(result)) return undefined;
  const { statusCode, headers = {}, multiValueHeaders = {}, body = null, isBase64Encoded = false } = result;
  if (!Number.isInteger(statusCode) || (statusCode as number) < 100 || (statusCode as number) > 599)
    return undefined;
  if (body !== null && typeof body !== 'string') return undefined;
  if (!isPlainObject(headers) || !isPlainObject(multiValueHeaders)) return undefined;
  const merged = new Map<string, { name: string; values: string[] }>();
  const add = (name: string, value: unknown) => {
    if (!isHeaderValue(value)) throw new TypeError(`header ${name} is not a string, number or boolean`);
    const entry = merged.get(name.toLowerCase()) ?? { name, values: [] };
    entry.values.push(String(value));
    merged.set(name.toLowerCase(), entry);
  };
  try {
    for (const [name, value] of Object.entries(headers)) add(name, value);
    for (const [name, values] of Object.entries(multiValueHeaders)) {
      if (!Array.isArray(values)) return undefined;
      // A header in both maps: API Gateway sends the multi-value list.
      merged.delete(name.toLowerCase());
      values.forEach((value) => add(name, value));
    }
  } catch {
    return undefined;
  }
  const outgoing: OutgoingHttpHeaders = {};
  for (const { name, values } of merged.values()) outgoing[name] = values.length === 1 ? values[0] : values;
  // A proxy response without a content type goes out as JSON.
  if (!merged.has('content-type')) outgoing['content-type'] = 'application/json';
  const text = body ?? '';
  return {
    statusCode: statusCode as number,
    headers: outgoing,
    body:
      isBase64Encoded === true && isBinaryMediaType(mediaTypeOf(accept), api.binaryMediaTypes)
        ? Buffer.from(text, 'base64')
        : Buffer.from(text, 'utf8'),
  };
}
