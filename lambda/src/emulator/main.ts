import path from 'node:path';
import { createLogger } from '@twin/observability/logger';
import {
  readTracingSettings,
  type TracingSettings,
  TracingSettingsError,
} from '@twin/observability/settings';
import { onStopRequest, reportListening } from '@twin/service-kit/lifecycle';
import { applyLocalDefaults } from '../runtime/local-env';
import { DEFAULT_ACCOUNT_CONCURRENCY } from './concurrency';
import { DEFAULT_IDLE_TIMEOUT_MS } from './lambda-service';
import { startEmulator } from './server';
import { type FunctionVersions, readVersionsFile, VersionsFileError } from './versions';

// Started by the local stack (`npm start`) as a child process, or alone: `npm run emulator -w lambda`.
// PORT (default 3000), HOST (default 127.0.0.1), LAMBDA_ACCOUNT_CONCURRENCY (default 100),
// LAMBDA_IDLE_TIMEOUT_SECONDS (default 300), LAMBDA_VERSIONS_FILE (versions and alias weights, e.g.
// lambda/canary.json; relative to where npm was run), tracing as in the services (OTEL_TRACES_EXPORTER,
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_PROPAGATORS...), and the handlers' variables: AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_S3, AWS_REGION, credentials, TABLE_NAME, LOG_LEVEL (local defaults when unset).

/** A whole number from the environment, within [min, max]; exits 2 naming the variable otherwise. */
function integerVariable(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    process.stderr.write(`${name}: '${text}' is not a whole number from ${min} to ${max}\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const port = integerVariable('PORT', 3000, 0, 65535);
  const accountConcurrency = integerVariable(
    'LAMBDA_ACCOUNT_CONCURRENCY',
    DEFAULT_ACCOUNT_CONCURRENCY,
    1,
    10_000,
  );
  const idleSeconds = integerVariable(
    'LAMBDA_IDLE_TIMEOUT_SECONDS',
    DEFAULT_IDLE_TIMEOUT_MS / 1000,
    1,
    86_400,
  );
  let versions: Record<string, FunctionVersions> | undefined;
  const versionsFile = process.env.LAMBDA_VERSIONS_FILE;
  if (versionsFile) {
    try {
      // npm runs this in lambda/; INIT_CWD is where the user ran npm.
      versions = readVersionsFile(path.resolve(process.env.INIT_CWD ?? process.cwd(), versionsFile));
    } catch (err) {
      if (!(err instanceof VersionsFileError)) throw err;
      process.stderr.write(`LAMBDA_VERSIONS_FILE: ${err.message}\n`);
      process.exit(2);
    }
  }
  let tracing: TracingSettings;
  try {
    tracing = readTracingSettings('lambda-emulator');
  } catch (err) {
    if (!(err instanceof TracingSettingsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  applyLocalDefaults();
  const logger = createLogger('lambda-emulator');
  const emulator = await startEmulator({
    port,
    host: process.env.HOST || '127.0.0.1',
    logger,
    accountConcurrency,
    idleTimeoutMs: idleSeconds * 1000,
    versions,
    tracing,
  });
  reportListening(emulator.port);

  onStopRequest((reason) => {
    logger.info({ reason }, 'stopping');
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
  });
}

main().catch((err: Error) => {
  if (err instanceof VersionsFileError) {
    process.stderr.write(`LAMBDA_VERSIONS_FILE: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`lambda emulator failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
