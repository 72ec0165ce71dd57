import { createDynamoClient, ensureTable } from '@twin/products';
import { startDynamo } from './dynamodb';
import { resolvePort } from './ports';
import { type LogSink, ServiceProcess } from './service-process';

export interface StackPorts {
  frontend: number;
  backend: number;
  dynamodb: number;
}

export interface StackOptions {
  /** 0 for any free port. */
  ports: StackPorts;
  tableName: string;
  logLevel: string;
  log: LogSink;
  /** Extra environment for every service, e.g. OTEL_* settings. */
  env?: Record<string, string>;
}

export interface Endpoint {
  name: string;
  url: string;
  what: string;
}

export interface Stack {
  endpoints: Endpoint[];
  services: Map<string, ServiceProcess>;
  url(name: string): string;
  stop(): Promise<void>;
}

/** Credentials for the embedded stores: they accept any, the SDK insists on some. */
const LOCAL_AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

function tracingEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  // Traces go out only when a collector is named; otherwise the services stay quiet.
  if (env.OTEL_TRACES_EXPORTER) return { OTEL_TRACES_EXPORTER: env.OTEL_TRACES_EXPORTER };
  return { OTEL_TRACES_EXPORTER: env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none' };
}

/**
 * The whole system on one machine, no Docker and no cloud: dynalite in this process, and each
 * service as a child process started as its container starts it.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const started: ServiceProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    await Promise.all(started.reverse().map((service) => service.stop()));
    for (const close of closers.reverse()) await close();
  };

  try {
    const dynamo = await startDynamo(await resolvePort(options.ports.dynamodb));
    closers.push(() => dynamo.close());
    const awsEnv = { ...LOCAL_AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
    const dynamoClient = createDynamoClient({
      endpoint: dynamo.endpoint,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials: {
        accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
      },
    });
    closers.push(async () => dynamoClient.destroy());
    await ensureTable(dynamoClient, options.tableName);

    const common = {
      ...tracingEnv({ ...process.env, ...options.env }),
      LOG_LEVEL: options.logLevel,
      ...options.env,
    };
    const start = async (name: string, packageName: string, port: number, env: Record<string, string>) => {
      const service = new ServiceProcess(
        {
          name,
          packageName,
          port: await resolvePort(port),
          env: { OTEL_SERVICE_NAME: name, ...common, ...env },
        },
        options.log,
      );
      started.push(service);
      await service.start();
      return service;
    };

    const backend = await start('backend', '@twin/backend', options.ports.backend, {
      ...awsEnv,
      TABLE_NAME: options.tableName,
      APP_VERSION: '1.0.0',
    });
    const frontend = await start('frontend', '@twin/frontend', options.ports.frontend, {
      BACKEND_URL: backend.url,
    });

    const services = new Map(started.map((service) => [service.spec.name, service]));
    return {
      endpoints: [
        { name: 'frontend', url: frontend.url, what: 'web page and /api/*' },
        { name: 'backend', url: backend.url, what: 'products API (v1)' },
        {
          name: 'dynamodb',
          url: dynamo.endpoint,
          what: `DynamoDB API (dynalite), table ${options.tableName}`,
        },
      ],
      services,
      url: (name) => {
        const service = services.get(name);
        if (!service) throw new Error(`no service named ${name}`);
        return service.url;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
