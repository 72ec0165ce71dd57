import { createLogger } from '@twin/observability';
import { main, runService } from '@twin/service-kit';
import { createFrontendApp } from './app';
import { BackendClient } from './backend-client';
import { readFrontendConfig } from './config';

main(async () => {
  const config = readFrontendConfig();
  const logger = createLogger('frontend', config.LOG_LEVEL);
  const backend = new BackendClient({ baseUrl: config.BACKEND_URL, timeoutMs: config.BACKEND_TIMEOUT_MS });
  const app = createFrontendApp({ backend, version: config.APP_VERSION, logger });
  await runService({ app, port: config.PORT, logger });
});
