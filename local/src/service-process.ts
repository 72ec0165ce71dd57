import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export type LogSink = (service: string, line: string) => void;

export interface ServiceSpec {
  /** The service's name, e.g. backend or backend-v2. */
  name: string;
  /** The workspace package that holds the service, e.g. @twin/backend. */
  packageName: string;
  port: number;
  env: Record<string, string>;
  /** Node's arguments, relative to the workspace; by default the container's command. */
  args?: string[];
  /** Polled until it answers 200. */
  readyPath?: string;
}

/** How every service's container starts it: tracing first, then the service. */
const SERVICE_ARGS = ['--require', './dist/instrumentation.js', 'dist/main.js'];

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 8_000;

function workspaceDir(packageName: string): string {
  return path.dirname(require.resolve(`${packageName}/package.json`));
}

/**
 * One service as a child process, by default started the way its container starts it
 * (`node --require ./dist/instrumentation.js dist/main.js`), with its log lines handed to a sink.
 */
export class ServiceProcess {
  readonly url: string;
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private readonly recentOutput: string[] = [];

  constructor(
    readonly spec: ServiceSpec,
    private readonly log: LogSink,
  ) {
    this.url = `http://127.0.0.1:${spec.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, this.spec.args ?? SERVICE_ARGS, {
      cwd: workspaceDir(this.spec.packageName),
      env: { ...process.env, ...this.spec.env, PORT: String(this.spec.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        this.recentOutput.push(line);
        if (this.recentOutput.length > 20) this.recentOutput.shift();
        this.log(this.spec.name, line);
      });
    }
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`${this.spec.name} exited during start:\n${this.recentOutput.join('\n')}`);
      }
      try {
        const response = await fetch(`${this.url}${this.spec.readyPath ?? '/readyz'}`, {
          signal: AbortSignal.timeout(1000),
        });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `${this.spec.name} was not ready within ${READY_TIMEOUT_MS} ms:\n${this.recentOutput.join('\n')}`,
    );
  }

  /** SIGTERM, then SIGKILL if it has not drained in time. Resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (!this.child || !this.exited) return null;
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
