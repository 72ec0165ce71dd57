import { createDynamoClient, ensureTable } from '@twin/products';
import { startDynamo } from './dynamodb';
import { EventDelivery, type EventTarget, minioWebhookBody } from './event-delivery';
import { S3RVER_CREDENTIALS, startObjectStore } from './object-store';
import { resolvePort } from './ports';
import { type LogSink, ServiceProcess } from './service-process';

export interface StackPorts {
  frontend: number;
  backend: number;
  thumbnailer: number;
  dynamodb: number;
  s3: number;
}

export interface StackOptions {
  /** 0 for any free port. */
  ports: StackPorts;
  tableName: string;
  bucket: string;
  logLevel: string;
  log: LogSink;
  /** Extra environment for every service, e.g. OTEL_* settings. */
  env?: Record<string, string>;
  /** Event redelivery timing; the defaults behave like MinIO's webhook queue. */
  delivery?: { firstDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
}

export interface Endpoint {
  name: string;
  url: string;
  what: string;
}

export interface Stack {
  endpoints: Endpoint[];
  services: Map<string, ServiceProcess>;
  events: EventDelivery;
  url(name: string): string;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

function tracingEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  // Traces go out only when a collector is named; otherwise the services stay quiet.
  if (env.OTEL_TRACES_EXPORTER) return { OTEL_TRACES_EXPORTER: env.OTEL_TRACES_EXPORTER };
  return { OTEL_TRACES_EXPORTER: env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none' };
}

/**
 * The whole system on one machine, no Docker and no cloud: dynalite and s3rver in this process,
 * each service as a child process started as its container starts it, and the object store's
 * events delivered to the thumbnailer as MinIO's webhook would.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const started: ServiceProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    await Promise.all(started.reverse().map((service) => service.stop()));
    for (const close of closers.reverse()) await close();
  };
  const log = (line: string) => options.log('stack', line);

  try {
    const dynamo = await startDynamo(await resolvePort(options.ports.dynamodb));
    closers.push(() => dynamo.close());
    // Any credentials do for dynalite; s3rver insists on its own, so every service gets those.
    const awsEnv = {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    };
    const dynamoClient = createDynamoClient({
      endpoint: dynamo.endpoint,
      region: REGION,
      credentials: S3RVER_CREDENTIALS,
    });
    closers.push(async () => dynamoClient.destroy());
    await ensureTable(dynamoClient, options.tableName);

    const objectStore = await startObjectStore(await resolvePort(options.ports.s3), options.bucket);
    closers.push(() => objectStore.close());

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
          env: { OTEL_SERVICE_NAME: name, ...awsEnv, ...common, ...env },
        },
        options.log,
      );
      started.push(service);
      await service.start();
      return service;
    };

    const backend = await start('backend', '@twin/backend', options.ports.backend, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TABLE_NAME: options.tableName,
      APP_VERSION: '1.0.0',
    });
    const thumbnailer = await start('thumbnailer', '@twin/thumbnailer', options.ports.thumbnailer, {
      AWS_ENDPOINT_URL_S3: objectStore.endpoint,
      BUCKET: options.bucket,
    });
    const frontend = await start('frontend', '@twin/frontend', options.ports.frontend, {
      BACKEND_URL: backend.url,
      AWS_ENDPOINT_URL_S3: objectStore.endpoint,
      BUCKET: options.bucket,
    });

    const targets: EventTarget[] = [
      { name: 'thumbnailer', url: `${thumbnailer.url}/events`, body: minioWebhookBody },
    ];
    const events = new EventDelivery({
      ...options.delivery,
      targets,
      log: {
        delivered: (target, key, attempts) =>
          attempts > 1 && log(`event for ${key} delivered to ${target} after ${attempts} attempts`),
        retrying: (target, key, attempt, reason) =>
          log(`event for ${key} to ${target} failed (${reason}); retry ${attempt}`),
        gaveUp: (target, key, reason) =>
          log(`event for ${key} to ${target} dropped after retries: ${reason}`),
      },
    });
    objectStore.onObjectEvent((record) => events.accept(record));
    closers.push(async () => events.stop());

    const services = new Map(started.map((service) => [service.spec.name, service]));
    return {
      endpoints: [
        { name: 'frontend', url: frontend.url, what: 'web page and /api/*' },
        { name: 'backend', url: backend.url, what: 'products API (v1)' },
        { name: 'thumbnailer', url: thumbnailer.url, what: 'POST /events (S3 notifications)' },
        {
          name: 'dynamodb',
          url: dynamo.endpoint,
          what: `DynamoDB API (dynalite), table ${options.tableName}`,
        },
        { name: 's3', url: objectStore.endpoint, what: `S3 API (s3rver), bucket ${options.bucket}` },
      ],
      services,
      events,
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
