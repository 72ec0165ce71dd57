import path from 'node:path';
// The IPC message alone: the package's index loads the whole data plane.
import { type AppMessage, isAppMessage } from '@twin/mesh/app-message';
import { createDynamoClient, ensureTable } from '@twin/products';
// The modules it needs alone: the package's index loads the whole emulator.
import { invokePath, READY_PATH } from '@twin/lambda/dist/emulator/paths';
import { LOCAL_CREDENTIALS } from '@twin/lambda/dist/runtime/local-env';
import { loadTemplate } from '@twin/lambda/dist/template/template';
import { startDynamo } from './dynamodb';
import { EventDelivery, type EventTarget, lambdaS3Event, minioWebhookBody } from './event-delivery';
import { type LocalObjectStore, S3RVER_CREDENTIALS, startObjectStore } from './object-store';
import { LAMBDA_CANARY_FILE, LAMBDA_CANARY_FUNCTION, routeLambdaCanary } from './lambda-canary';
import {
  backendPods,
  meshListeners,
  type MeshListeners,
  type MeshOptions,
  meshProxies,
  REPO_ROOT,
  versionFaultEnv,
} from './mesh';
import type { LogSink } from './child-process';
import { checkPort } from './ports';
import { ServiceProcess, type ServiceSpec } from './service-process';
import { stackTracing, type TraceThread } from './traces';

export interface StackPorts {
  frontend: number;
  backend: number;
  thumbnailer: number;
  /** API Gateway emulation and the Lambda Invoke API. */
  lambda: number;
  dynamodb: number;
  s3: number;
}

/** Who turns uploads into thumbnails: the mesh's thumbnailer, the Lambda imageProcessor, or both. */
export type ThumbnailsPath = 'mesh' | 'lambda' | 'both';
export const THUMBNAILS_PATHS: readonly ThumbnailsPath[] = ['mesh', 'lambda', 'both'];

/** The image function's logical id in lambda/template.yaml, which the emulator serves by that name. */
const IMAGE_FUNCTION = 'ImageProcessorFunction';

export interface StackOptions {
  /** 0 for any free port. */
  ports: StackPorts;
  /**
   * The address every server of the stack listens on; default 127.0.0.1, so nothing is reachable
   * from the network. 0.0.0.0 (or ::) opens it to the network.
   */
  host?: string;
  tableName: string;
  bucket: string;
  thumbnails: ThumbnailsPath;
  logLevel: string;
  log: LogSink;
  /** Extra environment for every service, e.g. OTEL_* settings. */
  env?: Record<string, string>;
  /**
   * Run the local trace store (OTLP receiver, Jaeger's query API) on this port (0: any free one) and
   * send every service's traces there, unless the environment names an OTLP endpoint or exporter.
   * Without it, traces go only where the environment says, and are off otherwise.
   */
  traceStorePort?: number;
  /**
   * Run the mesh: backend pods v1 and v2, a sidecar per pod and the ingress gateway on the
   * frontend's port, all executing k8s/istio through the local data plane. Without it the services
   * call each other directly, one backend (v1).
   */
  mesh?: MeshOptions;
  /**
   * The Lambda canary: publish version 2 of the products function (lambda/canary.json) and send
   * this percent (10, 50 or 100) of its invocations through the live alias to it. Without it the
   * emulator publishes what LAMBDA_VERSIONS_FILE says, by default version 1 alone.
   */
  lambdaCanary?: number;
  /** Event redelivery timing; the defaults behave like MinIO's webhook queue. */
  delivery?: { firstDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
}

export interface Endpoint {
  name: string;
  url: string;
  what: string;
  /**
   * The process that serves it (`kill -STOP <pid>` of a pod): a service's own, the data plane's for
   * the gateway, the launcher's for the in-process stores.
   */
  pid?: number;
}

export interface Stack {
  endpoints: Endpoint[];
  /** The local data plane, when the stack runs the mesh. */
  mesh?: { adminUrl: string; stage: string };
  /** Every service instance (and the data plane), by its `ServiceSpec.name`. */
  services: Map<string, ServiceProcess>;
  events: EventDelivery;
  /** s3rver; `stop()` and `start()` take it away and bring it back on the same port (fault tests). */
  objectStore: LocalObjectStore;
  /** The local trace store, when the traces go there. */
  traces?: TraceThread;
  url(name: string): string;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

/**
 * The emulator's LAMBDA_VERSIONS_FILE: lambda/canary.json for the Lambda canary, else the user's
 * (options.env over this process's), made absolute against the directory the user ran the launcher
 * from: npm's INIT_CWD, or this process's own directory when run with node directly. The emulator
 * runs in lambda/ and, with no INIT_CWD, would read a relative path from there.
 */
function lambdaVersionsEnv(options: StackOptions): Record<string, string> {
  if (options.lambdaCanary !== undefined) return { LAMBDA_VERSIONS_FILE: LAMBDA_CANARY_FILE };
  const file = options.env?.LAMBDA_VERSIONS_FILE ?? process.env.LAMBDA_VERSIONS_FILE;
  if (!file) return {};
  return { LAMBDA_VERSIONS_FILE: path.resolve(process.env.INIT_CWD || process.cwd(), file) };
}

/**
 * The whole system on one machine, no Docker and no cloud: dynalite and s3rver in this process,
 * each service as a child process started as its container starts it, the Lambda handlers behind an
 * API Gateway emulation, and the object store's upload events delivered to the thumbnailer as
 * MinIO's webhook would, to the Lambda imageProcessor as S3 would, or to both.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const started: ServiceProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    await Promise.all(started.reverse().map((service) => service.stop()));
    for (const close of closers.reverse()) await close();
  };
  const log = (line: string) => options.log('stack', line);

  const host = options.host ?? '127.0.0.1';

  try {
    // In this process, each binds its port itself: 0 is any free one, read back from the server.
    const dynamo = await startDynamo(options.ports.dynamodb, host);
    closers.push(() => dynamo.close());
    // Any credentials do for dynalite; s3rver insists on its own, so every service gets those.
    const awsEnv = { AWS_REGION: REGION, ...LOCAL_CREDENTIALS };
    const dynamoClient = createDynamoClient({
      endpoint: dynamo.endpoint,
      region: REGION,
      credentials: S3RVER_CREDENTIALS,
    });
    closers.push(async () => dynamoClient.destroy());
    await ensureTable(dynamoClient, options.tableName);

    const objectStore = await startObjectStore({
      port: options.ports.s3,
      bucket: options.bucket,
      host,
    });
    closers.push(() => objectStore.close());

    const tracing = await stackTracing(
      { ...process.env, ...options.env },
      options.traceStorePort === undefined ? undefined : { port: options.traceStorePort, host },
      (reason) => log(`the trace store stopped (${reason}); services' spans are no longer kept`),
    );
    if (tracing.store) closers.push(tracing.store.close);
    const common = {
      ...tracing.env,
      LOG_LEVEL: options.logLevel,
      ...options.env,
    };
    /**
     * Starts one service instance on the stack's host, stopped with the stack. A port the user gave
     * is checked first; on port 0 the instance binds a free one and reports it.
     */
    const start = async (spec: Omit<ServiceSpec, 'host'>) => {
      await checkPort(spec.port, host);
      const child = new ServiceProcess(
        { ...spec, host, env: { ...awsEnv, ...common, ...spec.env } },
        options.log,
      );
      started.push(child);
      await child.start();
      return child;
    };

    const backendEnv = { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, TABLE_NAME: options.tableName };
    const faultEnv = (version: 'v1' | 'v2') => versionFaultEnv(version, { ...process.env, ...options.env });
    const mesh = options.mesh;
    // In the mesh the first pod takes the backend's port, as the direct stack's one backend.
    const pods = mesh ? backendPods(mesh.replicas) : [];
    const backends = mesh
      ? await Promise.all(
          pods.map((pod, i) =>
            start({
              name: pod.name,
              service: 'backend',
              packageName: '@twin/backend',
              port: i === 0 ? options.ports.backend : 0,
              env: { ...backendEnv, APP_VERSION: pod.appVersion, ...faultEnv(pod.version) },
            }),
          ),
        )
      : [
          await start({
            name: 'backend',
            packageName: '@twin/backend',
            port: options.ports.backend,
            env: { ...backendEnv, APP_VERSION: '1.0.0', ...faultEnv('v1') },
          }),
        ];
    const backend = backends[0]!;
    const storesEnv = {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: objectStore.endpoint,
      TABLE_NAME: options.tableName,
      BUCKET: options.bucket,
    };
    const lambda = await start({
      name: 'lambda',
      packageName: '@twin/lambda',
      port: options.ports.lambda,
      env: { ...storesEnv, ...lambdaVersionsEnv(options) },
      args: ['dist/emulator/main.js'],
      readyPath: READY_PATH,
    });
    if (options.lambdaCanary !== undefined) await routeLambdaCanary(lambda.url, options.lambdaCanary);
    const thumbnailer =
      options.thumbnails === 'lambda'
        ? undefined
        : await start({
            name: 'thumbnailer',
            packageName: '@twin/thumbnailer',
            port: options.ports.thumbnailer,
            env: { AWS_ENDPOINT_URL_S3: objectStore.endpoint, BUCKET: options.bucket },
          });
    // The data plane starts before the frontend, whose readiness asks the backend through it, with
    // the apps' actual addresses; its listeners' ports are read back from its admin.
    const app = (service: ServiceProcess) => ({ address: new URL(service.url).host, pid: service.pid });
    let dataPlane: ServiceProcess | undefined;
    let listeners: MeshListeners | undefined;
    if (mesh) {
      await checkPort(options.ports.frontend, host); // the ingress gateway's, named by its number
      dataPlane = await start({
        name: 'mesh',
        packageName: '@twin/mesh',
        port: mesh.adminPort,
        env: {
          MESH_PLAN: JSON.stringify({
            root: mesh.root ?? REPO_ROOT,
            stage: mesh.stage,
            proxies: meshProxies(
              {
                backends: pods.map((pod, i) => ({ ...pod, ...app(backends[i]!) })),
                thumbnailer: thumbnailer && app(thumbnailer),
              },
              options.ports.frontend,
              host,
            ),
          }),
        },
        args: ['dist/main.js'],
        readyPath: '/ready',
      });
      listeners = await meshListeners(dataPlane.url, host);
    }
    const frontend = await start({
      name: 'frontend',
      packageName: '@twin/frontend',
      // In the mesh the ingress gateway takes the frontend's port; the app behind it, any free one.
      port: mesh ? 0 : options.ports.frontend,
      env: {
        BACKEND_URL: listeners?.frontendBackendUrl ?? backend.url,
        // In the mesh the route's timeout (4 s) decides first, as in k8s/base.
        ...(mesh ? { BACKEND_TIMEOUT_MS: '5000' } : {}),
        AWS_ENDPOINT_URL_S3: objectStore.endpoint,
        BUCKET: options.bucket,
        ...(tracing.store ? { JAEGER_QUERY_URL: tracing.store.url } : {}),
      },
    });
    if (dataPlane) {
      const message: AppMessage = { type: 'app', proxy: 'frontend', ...app(frontend) };
      // Answered once the frontend's sidecar points at it: the gateway serves the page from then on.
      await dataPlane.request(message, (answer) =>
        isAppMessage(answer) && answer.proxy === message.proxy ? true : undefined,
      );
    }
    // The page as users open it: through the ingress gateway in the mesh.
    tracing.store?.setViewer(listeners?.gatewayUrl ?? frontend.url);

    const targets: EventTarget[] = [];
    if (thumbnailer)
      targets.push({
        name: 'thumbnailer',
        // In the mesh through the object store's sidecar, with its identity, as MinIO's webhook.
        url: listeners?.eventsUrl ?? `${thumbnailer.url}/events`,
        body: minioWebhookBody,
      });
    if (options.thumbnails !== 'mesh') {
      // As S3 invokes the function: SAM points a function's event sources at its AutoPublishAlias, so
      // the notification names the alias (ImageProcessorFunction:live), whose routing picks the
      // version. A function error comes back as X-Amz-Function-Error and is retried.
      const alias = loadTemplate().functions.find((fn) => fn.logicalId === IMAGE_FUNCTION)?.autoPublishAlias;
      const name = alias ? `${IMAGE_FUNCTION}:${alias}` : IMAGE_FUNCTION;
      const url = `${lambda.url}${invokePath(name)}`;
      targets.push({ name: 'lambda imageProcessor', url, body: lambdaS3Event });
    }
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
    const endpoints: Endpoint[] = [
      listeners
        ? {
            name: 'frontend',
            url: listeners.gatewayUrl,
            what: 'web page and /api/*, through the ingress gateway',
            pid: dataPlane?.pid,
          }
        : { name: 'frontend', url: frontend.url, what: 'web page and /api/*', pid: frontend.pid },
      ...backends.map((b) => ({
        name: b.spec.name,
        url: b.url,
        what: mesh
          ? `backend pod, ${b.spec.env.APP_VERSION} (direct, past its sidecar)`
          : 'products API (v1)',
        pid: b.pid,
      })),
      ...(thumbnailer
        ? [
            {
              name: 'thumbnailer',
              url: thumbnailer.url,
              what: 'POST /events (S3 notifications)',
              pid: thumbnailer.pid,
            },
          ]
        : []),
      {
        name: 'lambda',
        url: lambda.url,
        what:
          'API Gateway emulation: /hello, /products (also under /Prod)' +
          (options.lambdaCanary === undefined
            ? ''
            : `; ${LAMBDA_CANARY_FUNCTION}:live ${100 - options.lambdaCanary}/${options.lambdaCanary} on versions 1/2`),
        pid: lambda.pid,
      },
      {
        name: 'dynamodb',
        url: dynamo.endpoint,
        what: `DynamoDB API (dynalite), table ${options.tableName}`,
        pid: process.pid,
      },
      {
        name: 's3',
        url: objectStore.endpoint,
        what: `S3 API (s3rver), bucket ${options.bucket}`,
        pid: process.pid,
      },
      ...(tracing.store
        ? [
            {
              name: 'jaeger',
              url: tracing.store.url,
              what: "traces: OTLP in, Jaeger's query API out (emulation)",
              pid: process.pid,
            },
          ]
        : []),
    ];
    if (dataPlane)
      endpoints.push({
        name: 'mesh',
        url: dataPlane.url,
        what: `local data plane admin (stage ${options.mesh!.stage}): /config, /proxies, POST /stage`,
        pid: dataPlane.pid,
      });
    return {
      endpoints,
      services,
      mesh: dataPlane && { adminUrl: dataPlane.url, stage: options.mesh!.stage },
      events,
      objectStore,
      traces: tracing.store,
      url: (name) => {
        const url = endpoints.find((e) => e.name === name)?.url ?? services.get(name)?.url;
        if (!url) throw new Error(`no service named ${name}`);
        return url;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
