import { encodeCursor } from './cursor';
import {
  NotFoundError,
  PayloadTooLargeError,
  StoreUnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors';
import { newProduct, type Product } from './product';
import type { ProductStore } from './store';
import { parsePageQuery, parseProductId, parseProductInput } from './validation';

/** A products request, independent of Express or API Gateway. */
export type ProductsRequest =
  /** `query` as Express parses a query string: a repeated key is an array. */
  | { operation: 'list'; query: Record<string, unknown> }
  /** `body` as it arrived (bytes), or as text; `contentEncoding` is the Content-Encoding header. */
  | { operation: 'create'; body: Uint8Array | string | undefined; contentEncoding?: string }
  /** `id` as the path carried it (percent-decoded). */
  | { operation: 'get'; id: string | undefined }
  | { operation: 'delete'; id: string | undefined };

export interface ProductsResponse {
  statusCode: number;
  /** JSON-serialisable; undefined for 204. */
  body?: unknown;
}

/** A page of the listing; `nextCursor` is there when more products may follow. */
export interface ProductPage {
  items: Product[];
  nextCursor?: string;
}

export interface ProductsApiOptions {
  /** Told about failures that are not the client's fault (answered 503 or 500). */
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
  if (err instanceof UnsupportedMediaTypeError) return { statusCode: 415, body: { error: err.message } };
  onError?.(err as Error);
  if (err instanceof StoreUnavailableError)
    return { statusCode: 503, body: { error: 'product store is unavailable' } };
  return { statusCode: 500, body: { error: 'internal error' } };
}

/**
 * The products API once, for both shells: the Express backend and the Lambda handler map their
 * transport onto a ProductsRequest and send back the ProductsResponse as it is, so the two
 * answer the same request with the same status and body. Input is validated completely before the
 * store sees it; only the store's own failures answer 503.
 */
export function createProductsApi(store: ProductStore, { onError }: ProductsApiOptions = {}) {
  async function run(request: ProductsRequest): Promise<ProductsResponse> {
    switch (request.operation) {
      case 'list': {
        const { limit, after } = parsePageQuery(request.query);
        const { items, last } = await store.list(limit, after);
        const page: ProductPage = last ? { items, nextCursor: encodeCursor(last) } : { items };
        return { statusCode: 200, body: page };
      }
      case 'create': {
        const input = parseProductInput(request.body, request.contentEncoding);
        return { statusCode: 201, body: await store.create(newProduct(input)) };
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
    /** Never throws: every outcome is a response. */
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
