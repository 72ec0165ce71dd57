import { parseArgs } from 'node:util';
// The record's module alone: the package's index loads the whole emulator.
import { removeLocalStack, writeLocalStack } from '@twin/lambda/dist/runtime/local-env';
import { UsageError } from '@twin/service-kit/cli';
import { onStopRequest } from '@twin/service-kit/lifecycle';
import { CANARY_STAGES, type MeshOptions, parseReplicas } from './mesh';
import { type Stack, startStack, type StackPorts, THUMBNAILS_PATHS, type ThumbnailsPath } from './stack';

const USAGE = `Usage: npm start [-- options]

Runs the whole system on this machine: dynalite (DynamoDB API) and s3rver (S3 API) in process,
the backend, thumbnailer and frontend as child processes, the Lambda handlers behind an API Gateway
emulation, and the object store's upload events delivered to the thumbnailer and/or the Lambda
imageProcessor. Ctrl-C stops everything.

Options (each also read from the environment variable in brackets):
  --frontend-port N     frontend, page and /api/*    [FRONTEND_PORT]     default 8080
  --backend-port N      backend products API         [BACKEND_PORT]      default 8081
  --thumbnailer-port N  thumbnailer POST /events     [THUMBNAILER_PORT]  default 8082
  --lambda-port N       API Gateway emulation        [LAMBDA_PORT]       default 3000
  --thumbnails PATH     who makes thumbnails: mesh (the thumbnailer), lambda (the
                        imageProcessor function) or both  [THUMBNAILS]   default mesh
  --dynamodb-port N     DynamoDB API (dynalite)      [DYNAMODB_PORT]     default 8000
  --s3-port N           S3 API (s3rver)              [S3_PORT]           default 4569
  --jaeger-port N       trace store: OTLP/HTTP in, Jaeger's query API out
                                                     [JAEGER_PORT]       default 16686
  --table NAME          DynamoDB table               [TABLE_NAME]        default products
  --bucket NAME         bucket for images            [BUCKET]            default images
  --log-level LEVEL     services' log level          [LOG_LEVEL]         default info
  --canary STAGE        percent of backend calls on v2: 10, 50 or 100, the overlay
                        k8s/overlays/canary-STAGE    [CANARY]            default 10
  --replicas v1=N,v2=M  backend pods per version     [REPLICAS]          default v1=2,v2=1
  --mesh-admin-port N   the local data plane's admin [MESH_ADMIN_PORT]   default 15000
  --no-mesh             no sidecars: the frontend calls one backend (v1) directly
  --lambda-canary PCT   the Lambda canary: percent of the products function's
                        invocations on its version 2 (lambda/canary.json), 10, 50
                        or 100, through the live alias  [LAMBDA_CANARY]  default off
  --host ADDRESS        where the stack listens      [HOST]              default 127.0.0.1
                        (0.0.0.0 opens it to the network; the data plane's admin
                        and the sidecars stay on loopback)
  -h, --help            this text

A port of 0 means any free port. While it runs, the stack's endpoints are recorded in
.local/stack.json (or the file LOCAL_STACK_FILE names), where npm run invoke -w lambda finds
them. Ctrl-C, SIGTERM or SIGHUP stops everything, and so does the
parent process going away (e.g. npm killed). Every service sends its traces to the launcher's trace
store (an emulation of Jaeger's query API; the frontend's page shows them as waterfalls), unless
OTEL_EXPORTER_OTLP_ENDPOINT names another OTLP endpoint (e.g. a Jaeger at http://localhost:4318)
or OTEL_TRACES_EXPORTER another exporter (none turns tracing off); then no store runs.`;

function port(name: string, value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65535)
    throw new UsageError(`${name}: '${value}' is not a port (0-65535)`);
  return number;
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      'frontend-port': { type: 'string', default: process.env.FRONTEND_PORT ?? '8080' },
      'backend-port': { type: 'string', default: process.env.BACKEND_PORT ?? '8081' },
      'thumbnailer-port': { type: 'string', default: process.env.THUMBNAILER_PORT ?? '8082' },
      'lambda-port': { type: 'string', default: process.env.LAMBDA_PORT ?? '3000' },
      thumbnails: { type: 'string', default: process.env.THUMBNAILS ?? 'mesh' },
      'dynamodb-port': { type: 'string', default: process.env.DYNAMODB_PORT ?? '8000' },
      's3-port': { type: 'string', default: process.env.S3_PORT ?? '4569' },
      'jaeger-port': { type: 'string', default: process.env.JAEGER_PORT ?? '16686' },
      table: { type: 'string', default: process.env.TABLE_NAME ?? 'products' },
      bucket: { type: 'string', default: process.env.BUCKET ?? 'images' },
      'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
      host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
      canary: { type: 'string', default: process.env.CANARY ?? '10' },
      replicas: { type: 'string', default: process.env.REPLICAS ?? 'v1=2,v2=1' },
      'mesh-admin-port': { type: 'string', default: process.env.MESH_ADMIN_PORT ?? '15000' },
      'no-mesh': { type: 'boolean', default: false },
      'lambda-canary': { type: 'string', default: process.env.LAMBDA_CANARY },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const ports: StackPorts = {
    frontend: port('--frontend-port', values['frontend-port']),
    backend: port('--backend-port', values['backend-port']),
    thumbnailer: port('--thumbnailer-port', values['thumbnailer-port']),
    lambda: port('--lambda-port', values['lambda-port']),
    dynamodb: port('--dynamodb-port', values['dynamodb-port']),
    s3: port('--s3-port', values['s3-port']),
  };
  const thumbnails = values.thumbnails as ThumbnailsPath;
  if (!THUMBNAILS_PATHS.includes(thumbnails)) {
    throw new UsageError(`--thumbnails: '${values.thumbnails}' is not one of ${THUMBNAILS_PATHS.join(', ')}`);
  }
  if (!(CANARY_STAGES as readonly string[]).includes(values.canary)) {
    throw new UsageError(`--canary: '${values.canary}' is not one of ${CANARY_STAGES.join(', ')}`);
  }
  const lambdaCanary = values['lambda-canary'];
  if (lambdaCanary !== undefined && !(CANARY_STAGES as readonly string[]).includes(lambdaCanary)) {
    throw new UsageError(`--lambda-canary: '${lambdaCanary}' is not one of ${CANARY_STAGES.join(', ')}`);
  }
  if (lambdaCanary !== undefined && process.env.LAMBDA_VERSIONS_FILE) {
    throw new UsageError(
      '--lambda-canary publishes lambda/canary.json, and LAMBDA_VERSIONS_FILE names versions too: give one',
    );
  }
  let replicas;
  try {
    replicas = parseReplicas(values.replicas);
  } catch (err) {
    throw new UsageError(`--replicas: ${(err as Error).message}`);
  }
  const mesh: MeshOptions | undefined = values['no-mesh']
    ? undefined
    : {
        stage: `canary-${values.canary}`,
        replicas,
        adminPort: port('--mesh-admin-port', values['mesh-admin-port']),
      };
  return {
    help: values.help,
    mesh,
    ...(lambdaCanary === undefined ? {} : { lambdaCanary: Number(lambdaCanary) }),
    ports,
    traceStorePort: port('--jaeger-port', values['jaeger-port']),
    thumbnails,
    tableName: values.table,
    bucket: values.bucket,
    logLevel: values['log-level'],
    host: values.host,
  };
}

function printReady(stack: Stack, thumbnails: ThumbnailsPath): void {
  const rows = stack.endpoints;
  const width = Math.max(...rows.map((row) => row.name.length));
  const urlWidth = Math.max(...rows.map((row) => row.url.length));
  const makers = {
    mesh: 'the thumbnailer',
    lambda: 'the Lambda imageProcessor',
    both: 'the thumbnailer and the Lambda imageProcessor',
  };
  process.stdout.write('\nLocal stack is ready:\n\n');
  const pidWidth = Math.max(...rows.map((row) => String(row.pid ?? '').length));
  for (const row of rows) {
    const pid = row.pid === undefined ? '' : `pid ${row.pid}`;
    process.stdout.write(
      `  ${row.name.padEnd(width)}  ${row.url.padEnd(urlWidth)}  ${pid.padEnd(pidWidth ? pidWidth + 4 : 0)}  ${row.what}\n`,
    );
  }
  const frontend = stack.url('frontend');
  const mesh = stack.mesh
    ? `\nThe mesh runs k8s/istio with ${stack.mesh.stage} through the local data plane (an emulation of\n` +
      'Envoy sidecars for learning and testing). The canary, as the video counts it:\n' +
      `  for i in $(seq 1 100); do curl -s ${frontend}/api/version | jq -r .version; done | sort | uniq -c\n` +
      `Promote: scripts/promote.sh --target local 50   Circuit breaker: kill -STOP <pid of a backend pod>\n`
    : '';
  process.stdout.write(
    `${mesh}\nThumbnails are made by ${makers[thumbnails]}.\n` +
      `Try: curl ${frontend}/api/version\n` +
      `     curl '${stack.url('lambda')}/hello?name=Alice'\n` +
      (stack.traces ? `Traces: ${frontend}/#traces (or scripts/traces.sh)\n` : '') +
      'Ctrl-C stops everything.\n\n',
  );
}

async function run(): Promise<void> {
  let options;
  try {
    options = readOptions();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const started = startStack({
    ...options,
    log: (service, line) => process.stdout.write(`${service.padEnd(11)} | ${line}\n`),
  });
  // Besides signals, the parent going away: npm killed by SIGHUP or SIGKILL passes no signal on.
  // Watched from the start: a request while the stack starts stops it as soon as it is up. The
  // services also stop by themselves if this process dies (their IPC channel closes).
  let stopping = false;
  onStopRequest(
    (reason) => {
      stopping = true;
      removeLocalStack();
      process.stdout.write(`\n${reason}: stopping...\n`);
      void started.then(
        (stack) =>
          stack.stop().then(
            () => process.exit(0),
            (err: Error) => {
              process.stderr.write(`stop failed: ${err.message}\n`);
              process.exit(1);
            },
          ),
        () => undefined, // a failed start is reported below
      );
    },
    { watchParent: true },
  );
  const stack = await started;
  if (stopping) return;
  writeLocalStack({
    pid: process.pid,
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: stack.url('dynamodb'),
      AWS_ENDPOINT_URL_S3: stack.url('s3'),
      TABLE_NAME: options.tableName,
      BUCKET: options.bucket,
    },
    endpoints: stack.endpoints.map(({ name, url }) => ({ name, url })),
  });
  printReady(stack, options.thumbnails);
}

run().catch((err: Error & { code?: string }) => {
  const hint = err.code === 'EADDRINUSE' ? ' (a port is taken: see npm start -- --help)' : '';
  process.stderr.write(`local stack failed to start${hint}: ${err.message}\n`);
  process.exit(1);
});
