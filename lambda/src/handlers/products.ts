import { isUtf8 } from 'node:buffer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  createDynamoClient,
  createProductsApi,
  MAX_PRODUCT_BODY_BYTES,
  ProductStore,
  type ProductsRequest,
  type ProductsResponse,
} from '@twin/products';
import { readConfig } from '@twin/service-kit/config';
import { faultEnv, faultSettings, faultsOff, INJECTED_FAULT, injectFault } from '@twin/service-kit/faults';
import { z } from 'zod';
import { handlerLogger } from '../runtime/logger';

// Once per container: every warm invocation reuses the client, its connections and the API.
const logger = handlerLogger('products');
const store = new ProductStore(createDynamoClient(), process.env.TABLE_NAME || 'products');
/** The release this version of the function reports at GET /version, as the backend reports its own. */
const release = { service: 'products', version: process.env.APP_VERSION || '1.0.0' };
/** FAULT_DELAY_MS, FAULT_ERROR_RATE, FAULT_ERROR_STATUS as the backend reads them: a version set up to fail. */
const faults = faultSettings(readConfig(z.object(faultEnv)));
if (!faultsOff(faults)) logger.warn(faults, 'fault injection is on');
const api = createProductsApi(store, {
  onError: (err) => logger.error({ err }, 'products request failed'),
});

/** Query parameters as Express parses them: one value is a string, a repeated key an array. */
function queryOf(event: APIGatewayProxyEvent): Record<string, unknown> {
  const multi = event.multiValueQueryStringParameters;
  if (!multi) return { ...event.queryStringParameters };
  return Object.fromEntries(
    Object.entries(multi).map(([key, values]) => [key, values?.length === 1 ? values[0] : values]),
  );
}

/** A body refused before the API sees it, as the backend's body parser refuses it. */
class RefusedBody extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The body as text, read once. As in the backend, an oversized body is refused before anything
 * reads it (a 20 KB body of spaces is 413 there, not "body is required"), and a base64 body that is
 * not UTF-8 is refused rather than decoded into U+FFFD; a plain body is text already.
 */
function bodyOf(event: APIGatewayProxyEvent): string | undefined {
  if (event.body === null || event.body === undefined) return undefined;
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
  if ((bytes?.length ?? Buffer.byteLength(event.body)) > MAX_PRODUCT_BODY_BYTES) {
    throw new RefusedBody(413, `request body is larger than ${MAX_PRODUCT_BODY_BYTES} bytes`);
  }
  if (!bytes) return event.body;
  if (!isUtf8(bytes)) throw new RefusedBody(400, 'request body is not valid UTF-8');
  return bytes.toString('utf8');
}

/** The template's Api events, keyed by `${httpMethod} ${resource}` as API Gateway reports them. */
const routes: Record<string, (event: APIGatewayProxyEvent) => ProductsRequest> = {
  'GET /products': (event) => ({ operation: 'list', query: queryOf(event) }),
  'POST /products': (event) => ({ operation: 'create', body: bodyOf(event) }),
  'GET /products/{id}': (event) => ({ operation: 'get', id: event.pathParameters?.id }),
  'DELETE /products/{id}': (event) => ({ operation: 'delete', id: event.pathParameters?.id }),
};

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

function toResult({ statusCode, body }: ProductsResponse): APIGatewayProxyResult {
  return body === undefined ? { statusCode, headers: {}, body: '' } : json(statusCode, body);
}

/**
 * The products API behind API Gateway (REST, proxy integration): maps the event onto the shared
 * API and its answer back, so it answers every request as the Express backend does, injected faults
 * included (every route, /version too, as the backend's).
 */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const fault = faultsOff(faults) ? undefined : await injectFault(faults);
  if (fault !== undefined) return json(fault, INJECTED_FAULT);
  if (event.httpMethod === 'GET' && event.resource === '/version') return json(200, release);
  const route = routes[`${event.httpMethod} ${event.resource}`];
  // API Gateway only sends the routes above; anything else was invoked by hand.
  if (!route) return json(404, { error: `no route for ${event.httpMethod} ${event.path}` });
  let request: ProductsRequest;
  try {
    request = route(event);
  } catch (err) {
    if (err instanceof RefusedBody) return json(err.statusCode, { error: err.message });
    throw err;
  }
  return toResult(await api.handle(request));
};
