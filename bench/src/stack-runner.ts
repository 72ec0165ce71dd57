// A child process entry: runs the local stack (as `npm start` does) and reports its endpoints on
// stdout as one JSON line. The stack's in-process parts (dynalite, s3rver, event delivery) then
// get their own event loop instead of sharing the load generator's.
import { type MeshOptions, startStack, type ThumbnailsPath } from '@twin/local';
import { onStopRequest } from '@twin/service-kit/lifecycle';

export interface StackRunnerOptions {
  thumbnails: ThumbnailsPath;
  logLevel: string;
  /** Extra environment for every service (e.g. the OTLP endpoint). */
  env?: Record<string, string>;
  /** Forward the services' log lines as JSON lines (`{"log": {"service", "line"}}`). */
  forwardLogs?: boolean;
  /** Run the local trace store (0: on any free port) and send the services' spans there, as npm start does. */
  traceStorePort?: number;
  /** Run the mesh as npm start does (pods, sidecars, the ingress gateway on the frontend's URL). */
  mesh?: MeshOptions;
}

/** What the runner reports once the stack is ready. */
export interface StackInfo {
  /**
   * Endpoint name (frontend, backend, lambda, dynamodb, s3...) -> URL. With the mesh: frontend is the
   * ingress gateway, each backend pod is named (backend-v1-0...), mesh is the data plane's admin.
   */
  urls: Record<string, string>;
  /** Process ids: `stack` is this process (dynalite, s3rver, event delivery), the rest the services (`mesh`: the data plane). */
  pids: Record<string, number>;
}

export interface ReadyLine {
  ready: StackInfo;
}

export interface LogLine {
  log: { service: string; line: string };
}

function write(message: ReadyLine | LogLine | { error: string }): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as StackRunnerOptions;
  const stack = await startStack({
    ports: { frontend: 0, backend: 0, thumbnailer: 0, lambda: 0, dynamodb: 0, s3: 0 },
    tableName: 'products',
    bucket: 'images',
    thumbnails: options.thumbnails,
    logLevel: options.logLevel,
    env: options.env,
    traceStorePort: options.traceStorePort,
    mesh: options.mesh,
    log: options.forwardLogs ? (service, line) => write({ log: { service, line } }) : () => undefined,
  });
  // A signal, or the bench going away (it crashed, or was killed: its IPC channel closes), takes the
  // stack with it.
  onStopRequest(() =>
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    ),
  );
  const pids: Record<string, number> = { stack: process.pid };
  for (const [name, service] of stack.services) if (service.pid) pids[name] = service.pid;
  write({
    ready: {
      urls: Object.fromEntries(stack.endpoints.map((endpoint) => [endpoint.name, endpoint.url])),
      pids,
    },
  });
}

if (require.main === module) {
  main().catch((err: Error) => {
    write({ error: err.message });
    process.exit(1);
  });
}
