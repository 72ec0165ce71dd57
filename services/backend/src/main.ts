import { createLogger } from '@twin/observability';
import {
  checkTable,
  createDynamoClient,
  createDynamoDb,
  createProductsApi,
  ensureTable,
  ProductStore,
} from '@twin/products';
import { main, runService } from '@twin/service-kit';
import { faultSettings } from '@twin/service-kit/faults';
import { createBackendApp } from './app';
import { readBackendConfig } from './config';

main(async () => {
  const config = readBackendConfig();
  const logger = createLogger('backend', config.LOG_LEVEL);
  const dynamo = createDynamoClient();
  if (config.CREATE_TABLE) {
    logger.info(
      { table: config.TABLE_NAME, result: await ensureTable(dynamo, config.TABLE_NAME) },
      'table ready',
    );
  }
  const products = createDynamoDb();
  const store = new ProductStore(products, config.TABLE_NAME);
  const api = createProductsApi(store, {
    onError: (err) => logger.error({ err }, 'products request failed'),
  });
  const app = createBackendApp({
    api,
    version: config.APP_VERSION,
    logger,
    faults: faultSettings(config),
    ready: () => checkTable(dynamo, config.TABLE_NAME),
  });
  await runService({
    app,
    port: config.PORT,
    host: config.HOST,
    logger,
    onShutdown: () => {
      dynamo.destroy();
      products.destroy();
    },
  });
});
