import { type ChildProcess, type Serializable, spawn } from 'node:child_process';
import readline from 'node:readline';

/** Receives each line a child prints (stdout and stderr), with the child's name. */
export type LogSink = (name: string, line: string) => void;

export interface NodeChildSpec {
  /** Names the process in log lines and errors, e.g. backend-v1-0. */
  name: string;
  /** Node's arguments: flags, then the script. */
  args: string[];
  cwd?: string;
  /** Set over this process's environment. */
  env?: Record<string, string>;
}

/** How a child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Lines of output kept for error messages. */
const RECENT_LINES = 30;

/**
 * A Node.js child process tied to this one. It is started with an IPC channel, which closes when
 * this process dies however it dies (even by SIGKILL); a child that calls `onStopRequest` from
 * `@twin/service-kit` then stops by itself, so no child outlives its launcher. Its output lines go
 * to a log sink, and the last ones are kept for error messages. A stopped child can be started again.
 */
export class NodeChild {
  private child?: ChildProcess;
  private exit?: Promise<ChildExit>;
  private readonly recent: string[] = [];

  constructor(
    readonly spec: NodeChildSpec,
    private readonly log: LogSink = () => undefined,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    const child = this.child;
    return child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The last lines the child printed, oldest first. */
  get output(): string {
    return this.recent.join('\n');
  }

  /** Resolves when the current process exits; throws if it was never started. */
  get exited(): Promise<ChildExit> {
    if (!this.exit) throw new Error(`${this.spec.name} was not started`);
    return this.exit;
  }

  /**
   * Spawns the process, with `env` over the spec's; it is running (or failing) when this returns.
   * Throws if it already runs.
   */
  start(env: Record<string, string> = {}): void {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    const child = spawn(process.execPath, this.spec.args, {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // Spawning node itself fails only when this process cannot fork (EAGAIN, ENOMEM): no exit follows.
      child.once('error', (err) => {
        this.keep(`${this.spec.name}: ${err.message}`);
        if (child.pid === undefined) resolve({ code: null, signal: null });
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        this.keep(line);
        this.log(this.spec.name, line);
      });
    }
  }

  /** Calls `listener` with each message the child sends over IPC (`process.send`). */
  onMessage(listener: (message: unknown) => void): void {
    if (!this.child) throw new Error(`${this.spec.name} was not started`);
    this.child.on('message', listener);
  }

  /** Sends `message` to the child over IPC (its `process.on('message')`). */
  send(message: Serializable): void {
    if (!this.child) throw new Error(`${this.spec.name} was not started`);
    this.child.send(message);
  }

  /**
   * Resolves with `accept`'s value for the first IPC message it does not return undefined for.
   * Throws, with the child's last output, when the child exits first or `timeoutMs` passes.
   */
  nextMessage<T>(accept: (message: unknown) => T | undefined, timeoutMs: number): Promise<T> {
    const child = this.child;
    if (!child || !this.exit) throw new Error(`${this.spec.name} was not started`);
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        child.off('message', listener);
      };
      const listener = (message: unknown) => {
        const value = accept(message);
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.spec.name} did not answer within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      child.on('message', listener);
      void this.exit!.then(() => {
        done();
        reject(new Error(`${this.spec.name} exited before answering:\n${this.output}`));
      });
    });
  }

  /**
   * Polls `ready` every `intervalMs` until it is true. Throws, with the child's last output, when the
   * child exits first or `timeoutMs` passes.
   */
  async waitUntil(ready: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.spec.name} exited during start:\n${this.output}`);
      if (await ready()) return;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    throw new Error(`${this.spec.name} was not ready within ${timeoutMs} ms:\n${this.output}`);
  }

  /**
   * SIGTERM, then SIGKILL if it is still there after `graceMs`. Resolves once it has exited; at once
   * if it was never started or has already exited.
   */
  async stop(graceMs = 8000): Promise<ChildExit | undefined> {
    if (!this.child || !this.exit) return undefined;
    const child = this.child;
    if (this.running) child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const exit = await this.exit;
    clearTimeout(force);
    return exit;
  }

  private keep(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
  }
}
