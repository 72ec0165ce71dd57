export { createDynamoClient, createDynamoDb } from './client';
export {
  type AwsCredentials,
  type CredentialsSource,
  DynamoDb,
  type DynamoDbOptions,
  environmentCredentials,
} from './dynamodb';
export {
  createProductsApi,
  type ProductsApi,
  type ProductsApiOptions,
  type ProductsRequest,
  type ProductsResponse,
} from './api';
export { type Product, type ProductKey } from './product';
export { ProductStore, type StoredPage } from './store';
export { checkTable, ensureTable, NEWEST_FIRST, PRODUCTS_TABLE, tableNameEnv } from './table';
export { MAX_NAME_LENGTH, MAX_PRODUCT_BODY_BYTES } from './validation';
