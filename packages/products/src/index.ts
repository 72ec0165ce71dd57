export { createDynamoClient } from './client';
export { createProductsApi, type ProductsApi, type ProductsRequest, type ProductsResponse } from './api';
export { decodeCursor, encodeCursor } from './cursor';
export { NotFoundError, PayloadTooLargeError, StoreUnavailableError, ValidationError } from './errors';
export { newProduct, type Product } from './product';
export { type ProductPage, ProductStore } from './store';
export { checkTable, ensureTable } from './table';
export {
  DEFAULT_PAGE_SIZE,
  MAX_NAME_LENGTH,
  MAX_PAGE_SIZE,
  MAX_PRICE,
  MAX_PRODUCT_BODY_BYTES,
  MIN_POSITIVE_PRICE,
  parsePageQuery,
  parseProductId,
  parseProductInput,
  type PageQuery,
  type ProductInput,
} from './validation';
