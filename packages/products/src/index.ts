export { createDynamoClient } from './client';
export {
  createProductsApi,
  type ProductPage,
  type ProductsApi,
  type ProductsRequest,
  type ProductsResponse,
} from './api';
export { decodeCursor, encodeCursor } from './cursor';
export {
  NotFoundError,
  PayloadTooLargeError,
  StoreUnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors';
export { newProduct, type Product, type ProductKey } from './product';
export { ProductStore, type StoredPage } from './store';
export { checkTable, ensureTable, NEWEST_FIRST, tableNameEnv } from './table';
export { isUuid } from './uuid';
export {
  graphemeCount,
  MAX_NAME_LENGTH,
  MAX_PRICE,
  MAX_PRODUCT_BODY_BYTES,
  MIN_POSITIVE_PRICE,
  parsePageQuery,
  parseProductId,
  parseProductInput,
  type PageQuery,
  type ProductInput,
} from './validation';
