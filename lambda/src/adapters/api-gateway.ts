import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { withInvocationLogContext } from '../runtime/logger';

/** An API Gateway REST (v1) proxy event in the shape the Express shells give their routes. */
export interface ProxyRequest {
  /** The route's resource path, e.g. /products/{id}. */
  resource: string;
  /** Percent-decoded by API Gateway. */
  pathParameters: Record<string, string | undefined>;
  /** As Express parses a query string: one value is a string, a repeated key an array. */
  query: Record<string, string | string[]>;
  /** By lower-case name. */
  headers: Record<string, string | undefined>;
  /** The bytes the client sent (base64-decoded when API Gateway encoded them); undefined for none. */
  body: Buffer | undefined;
}

/** An answer whose body goes out as JSON; undefined for no body (204). */
export interface JsonResponse {
  statusCode: number;
  body?: unknown;
}

/** Routes keyed by `${httpMethod} ${resource}`, as the template's Api events declare them. */
export type ProxyRoutes = Record<string, (request: ProxyRequest) => Promise<JsonResponse>>;

function queryOf(event: APIGatewayProxyEvent): Record<string, string | string[]> {
  const multi = event.multiValueQueryStringParameters;
  if (!multi) return { ...(event.queryStringParameters as Record<string, string> | null) };
  return Object.fromEntries(
    Object.entries(multi).map(([key, values = []]) => [
      key,
      values.length === 1 ? (values[0] as string) : values,
    ]),
  );
}

function headersOf(event: APIGatewayProxyEvent): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
}

function bodyOf(event: APIGatewayProxyEvent): Buffer | undefined {
  if (event.body === null || event.body === undefined) return undefined;
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/** As Express's res.json writes it, so both shells send the same bytes. */
function toResult({ statusCode, body }: JsonResponse): APIGatewayProxyResult {
  if (body === undefined) return { statusCode, headers: {}, body: '' };
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/**
 * The function side of API Gateway's Lambda proxy integration (REST, v1 events), once for every
 * handler: finds the route, hands it the event as a ProxyRequest and sends its answer back as JSON.
 * Each invocation's Lambda request id is the log context (`request_id` on every log line), as
 * each HTTP request's id is in the services. An event for a route not in `routes` (only
 * possible when invoked by hand) gets a JSON 404, as the Express shells answer an unknown route.
 * `before`, when given, runs first for every event; an answer from it is sent instead of the route's.
 */
export function apiGatewayHandler(routes: ProxyRoutes, before?: () => Promise<JsonResponse | undefined>) {
  return withInvocationLogContext(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const early = await before?.();
    if (early) return toResult(early);
    const route = routes[`${event.httpMethod} ${event.resource}`];
    if (!route) {
      return toResult({ statusCode: 404, body: { error: `no route for ${event.httpMethod} ${event.path}` } });
    }
    return toResult(
      await route({
        resource: event.resource,
        pathParameters: { ...event.pathParameters },
        query: queryOf(event),
        headers: headersOf(event),
        body: bodyOf(event),
      }),
    );
  });
}
