import { createLogger } from '@twin/observability/logger';
import { applyLocalDefaults } from '../runtime/local-env';
import { startEmulator } from './server';

// Started by the local stack (`npm start`) as a child process, or alone: `npm run emulator -w lambda`.
// PORT (default 3000), HOST (default 127.0.0.1), and the handlers' variables: AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_S3, AWS_REGION, credentials, TABLE_NAME, LOG_LEVEL (local defaults when unset).
async function main(): Promise<void> {
  const port = process.env.PORT ?? '3000';
  if (!/^\d+$/.test(port) || Number(port) > 65535) {
    process.stderr.write(`PORT: '${port}' is not a port (0-65535)\n`);
    process.exit(2);
  }
  applyLocalDefaults();
  const logger = createLogger('lambda-emulator');
  const emulator = await startEmulator({ port: Number(port), host: process.env.HOST || '127.0.0.1', logger });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // In-flight requests get a few seconds; then the process goes regardless.
    setTimeout(() => process.exit(0), 5000).unref();
    emulator.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: Error) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`lambda emulator failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
