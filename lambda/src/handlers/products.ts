import { createProductsApi, DynamoDb, environmentCredentials, ProductStore } from '@twin/products';
import { readConfig } from '@twin/service-kit/config';
import { faultSettings, faultsOff, INJECTED_FAULT, injectFault } from '@twin/service-kit/faults';
import { apiGatewayHandler } from '../adapters/api-gateway';
import { productsFunctionEnv } from '../config';
import { handlerLoggerOnDemand } from '../runtime/logger';

// Once per execution environment: every warm invocation reuses the client, its connections and the API.
// Lambda hands every function its role's credentials in the environment, so no provider chain is loaded.
const config = readConfig(productsFunctionEnv);
const logger = handlerLoggerOnDemand('products', config.LOG_LEVEL);
/** FAULT_DELAY_MS, FAULT_ERROR_RATE, FAULT_ERROR_STATUS as the backend reads them: a version set up to fail. */
const faults = faultSettings(config);
if (!faultsOff(faults)) logger().warn(faults, 'fault injection is on');
const api = createProductsApi(
  new ProductStore(new DynamoDb({ credentials: environmentCredentials }), config.TABLE_NAME),
  {
    onError: (err) => logger().error({ err }, 'products request failed'),
  },
);
/** The release this version of the function reports at GET /version, as the backend reports its own. */
const release = { service: 'products', version: config.APP_VERSION };

/**
 * The products API behind API Gateway (REST, proxy integration), as thin as the Express backend's
 * routes: each template route maps onto the shared API, whose answer goes back as it is; injected
 * faults come first, on every route (/version too), as in the backend.
 */
export const handler = apiGatewayHandler(
  {
    'GET /products': async ({ query }) => api.handle({ operation: 'list', query }),
    'POST /products': async ({ body, headers }) =>
      api.handle({ operation: 'create', body, contentEncoding: headers['content-encoding'] }),
    'GET /products/{id}': async ({ pathParameters }) =>
      api.handle({ operation: 'get', id: pathParameters.id }),
    'DELETE /products/{id}': async ({ pathParameters }) =>
      api.handle({ operation: 'delete', id: pathParameters.id }),
    'GET /version': async () => ({ statusCode: 200, body: release }),
  },
  faultsOff(faults)
    ? undefined
    : async () => {
        const status = await injectFault(faults);
        return status === undefined ? undefined : { statusCode: status, body: INJECTED_FAULT };
      },
);
