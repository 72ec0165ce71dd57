import type { Serializable } from 'node:child_process';
import path from 'node:path';
import { isListeningMessage } from '@twin/service-kit/lifecycle';
import { type LogSink, NodeChild } from './child-process';
import { httpUrl } from './ports';

export interface ServiceSpec {
  /**
   * The instance's name, unique in the stack: its log prefix, its row in the ready table and its
   * key in `Stack.services`, e.g. frontend, or backend-v1-0 for one of several backend pods.
   */
  name: string;
  /** The service it is an instance of, as its spans name it (OTEL_SERVICE_NAME); default `name`. */
  service?: string;
  /** The workspace package that holds the service, e.g. @twin/backend. */
  packageName: string;
  /**
   * Its PORT. 0: the instance listens on a port the OS picks and reports it over IPC (its
   * `reportListening`), so no port is picked ahead of time for another process to take first.
   */
  port: number;
  /** The address it listens on (its HOST variable); default 127.0.0.1. */
  host?: string;
  /** This instance's own environment, over the launcher's (e.g. APP_VERSION, fault settings). */
  env: Record<string, string>;
  /** Node's arguments, relative to the workspace; by default the container's command. */
  args?: string[];
  /** Polled until it answers 200; default /readyz. */
  readyPath?: string;
}

/** How every service's container starts it: tracing first, then the service. */
const SERVICE_ARGS = ['--require', './dist/instrumentation.js', 'dist/main.js'];

const READY_TIMEOUT_MS = 30_000;

function workspaceDir(packageName: string): string {
  return path.dirname(require.resolve(`${packageName}/package.json`));
}

/**
 * One instance of a service as a child process (a `NodeChild`: it stops by itself if the launcher
 * dies), started the way its container starts it (`node --require ./dist/instrumentation.js
 * dist/main.js`) with PORT, HOST and OTEL_SERVICE_NAME set, and ready once its readiness path
 * answers 200. Several instances of one service differ in `name`, `port` and `env`.
 */
export class ServiceProcess {
  private readonly child: NodeChild;
  private readonly host: string;
  /** The port it listens on: the spec's, or the one it reported. */
  private port?: number;

  constructor(
    readonly spec: ServiceSpec,
    log: LogSink,
  ) {
    const host = spec.host ?? '127.0.0.1';
    this.host = host;
    if (spec.port !== 0) this.port = spec.port;
    this.child = new NodeChild(
      {
        name: spec.name,
        args: spec.args ?? SERVICE_ARGS,
        cwd: workspaceDir(spec.packageName),
        env: {
          OTEL_SERVICE_NAME: spec.service ?? spec.name,
          ...spec.env,
          PORT: String(spec.port),
          HOST: host,
        },
      },
      log,
    );
  }

  /**
   * Where a client on this machine reaches it (see `httpUrl`).
   * @throws Error for port 0 before it has reported its port (before `start()` resolves).
   */
  get url(): string {
    if (this.port === undefined) throw new Error(`${this.spec.name} has not reported its port yet`);
    return httpUrl(this.host, this.port);
  }

  /** Answers 200 once the instance is ready; as `url`, known once it listens. */
  get readyUrl(): string {
    return `${this.url}${this.spec.readyPath ?? '/readyz'}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.running;
  }

  /**
   * Starts it and waits until it is ready (on port 0, once it has reported its port); throws with its
   * last output if it exits or times out. Started again after `stop()`, it listens on the port it had,
   * as a restarted pod keeps its address: whoever was told its URL reaches it again.
   */
  async start(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    this.child.start(this.port === undefined ? {} : { PORT: String(this.port) });
    if (this.port === undefined)
      this.port = await this.child.nextMessage(
        (message) => (isListeningMessage(message) ? message.port : undefined),
        READY_TIMEOUT_MS,
      );
    await this.child.waitUntil(async () => {
      try {
        const response = await fetch(this.readyUrl, { signal: AbortSignal.timeout(1000) });
        await response.arrayBuffer();
        return response.ok;
      } catch {
        return false; // not listening yet
      }
    }, deadline - Date.now());
  }

  /**
   * Sends `message` over IPC and resolves with `accept`'s value for the first answer it takes.
   * @throws Error, with the instance's last output, when it exits or does not answer in time.
   */
  async request<T>(message: Serializable, accept: (answer: unknown) => T | undefined): Promise<T> {
    const answer = this.child.nextMessage(accept, READY_TIMEOUT_MS);
    this.child.send(message);
    return answer;
  }

  /**
   * SIGTERM (the service drains), SIGKILL if it has not exited in time. Resolves with its exit code:
   * 0 after a clean drain, null if it was killed or never started.
   */
  async stop(): Promise<number | null> {
    return (await this.child.stop())?.code ?? null;
  }
}
