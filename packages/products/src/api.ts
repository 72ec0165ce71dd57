import { NotFoundError, PayloadTooLargeError, StoreUnavailableError, ValidationError } from './errors';
import { newProduct } from './product';
import type { ProductStore } from './store';
import { parsePageQuery, parseProductId, parseProductInput } from './validation';

/** A products request, independent of Express or API Gateway. */
export type ProductsRequest =
  | { operation: 'list'; query: Record<string, unknown> }
  | { operation: 'create'; body: string | undefined }
  | { operation: 'get'; id: string | undefined }
  | { operation: 'delete'; id: string | undefined };

export interface ProductsResponse {
  statusCode: number;
  /** JSON-serialisable; undefined for 204. */
  body?: unknown;
}

export interface ProductsApiOptions {
  /** Told about failures that are not the client's fault. */
  onError?: (err: Error) => void;
}

function errorResponse(err: unknown, onError?: (err: Error) => void): ProductsResponse {
  if (err instanceof ValidationError) {
    return {
      statusCode: 400,
      body: err.field ? { error: err.message, field: err.field } : { error: err.message },
    };
  }
  if (err instanceof NotFoundError) return { statusCode: 404, body: { error: err.message } };
  if (err instanceof PayloadTooLargeError) return { statusCode: 413, body: { error: err.message } };
  onError?.(err as Error);
  if (err instanceof StoreUnavailableError)
    return { statusCode: 503, body: { error: 'product store is unavailable' } };
  return { statusCode: 500, body: { error: 'internal error' } };
}

/**
 * The products API once, for both shells: the Express backend and the Lambda handler map their
 * transport onto a ProductsRequest and send back the ProductsResponse as it is, so the two
 * answer the same request with the same status and body.
 */
export function createProductsApi(store: ProductStore, { onError }: ProductsApiOptions = {}) {
  async function run(request: ProductsRequest): Promise<ProductsResponse> {
    switch (request.operation) {
      case 'list': {
        const { limit, cursor } = parsePageQuery(request.query);
        return { statusCode: 200, body: await store.list(limit, cursor) };
      }
      case 'create': {
        const product = await store.create(newProduct(parseProductInput(request.body)));
        return { statusCode: 201, body: product };
      }
      case 'get': {
        const id = parseProductId(request.id);
        const product = await store.get(id);
        if (!product) throw new NotFoundError(`product ${id} not found`);
        return { statusCode: 200, body: product };
      }
      case 'delete': {
        const id = parseProductId(request.id);
        if (!(await store.delete(id))) throw new NotFoundError(`product ${id} not found`);
        return { statusCode: 204 };
      }
    }
  }

  return {
    async handle(request: ProductsRequest): Promise<ProductsResponse> {
      try {
        return await run(request);
      } catch (err) {
        return errorResponse(err, onError);
      }
    },
  };
}

export type ProductsApi = ReturnType<typeof createProductsApi>;
