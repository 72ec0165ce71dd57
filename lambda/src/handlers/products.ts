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
import { handlerLogger } from '../runtime/logger';

// Once per container: every warm invocation reuses the client, its connections and the API.
const logger = handlerLogger('products');
const store = new ProductStore(createDynamoClient(), process.env.TABLE_NAME || 'products');
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

function bodyOf(event: APIGatewayProxyEvent): string | undefined {
  if (event.body === null || event.body === undefined) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** The body's bytes as they arrived: API Gateway's string as UTF-8, or what it base64-encoded. */
function bytesOf(event: APIGatewayProxyEvent): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
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
 * API and its answer back, so it answers every request as the Express backend does.
 */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const route = routes[`${event.httpMethod} ${event.resource}`];
  // API Gateway only sends the routes above; anything else was invoked by hand.
  if (!route) return json(404, { error: `no route for ${event.httpMethod} ${event.path}` });
  const request = route(event);
  if (request.operation === 'create') {
    // The backend's body parser refuses an oversized body before anything reads it (a 20 KB body of
    // spaces is 413 there, not "body is required"), so the same limit applies first here too; and,
    // like it, a binary body that is not UTF-8 is refused rather than decoded into U+FFFD.
    const bytes = bytesOf(event);
    if (bytes.length > MAX_PRODUCT_BODY_BYTES) {
      return json(413, { error: `request body is larger than ${MAX_PRODUCT_BODY_BYTES} bytes` });
    }
    if (!isUtf8(bytes)) return json(400, { error: 'request body is not valid UTF-8' });
  }
  return toResult(await api.handle(request));
};
