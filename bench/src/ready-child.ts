import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const DIST = __dirname;

/**
 * A child process of this package (one of its entry scripts in dist/) that prints one
 * `{"ready": ...}` JSON line once it serves, `{"log": {service, line}}` lines to forward, and
 * `{"error": ...}` when it fails.
 */
export class ReadyChild<T> {
  private exited: Promise<number | null>;
  private readonly logListeners: Array<(service: string, line: string) => void> = [];
  private readonly output: string[] = [];

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly ready: Promise<T>,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start<T>(name: string, script: string, args: string[], timeoutMs: number): ReadyChild<T> {
    const child = spawn(process.execPath, [path.join(DIST, script), ...args], {
      // An IPC channel only so that the child notices when this process goes away.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: process.env,
    });
    let resolveReady: (value: T) => void = () => undefined;
    let rejectReady: (err: Error) => void = () => undefined;
    const ready = new Promise<T>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    const instance = new ReadyChild<T>(name, child, ready);
    const timer = setTimeout(() => {
      rejectReady(new Error(`${name} not ready within ${timeoutMs} ms:\n${instance.output.join('\n')}`));
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectReady(new Error(`${name} exited with ${code}:\n${instance.output.join('\n')}`));
    });
    readline.createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      instance.keep(line);
    });
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let message: { ready?: T; error?: string; log?: { service: string; line: string } };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        instance.keep(line);
        return;
      }
      if (message.log) {
        for (const listener of instance.logListeners) listener(message.log.service, message.log.line);
      } else if (message.ready !== undefined) {
        clearTimeout(timer);
        resolveReady(message.ready);
      } else if (message.error) {
        instance.keep(message.error);
      }
    });
    // Avoid an unhandled rejection when nobody awaits `ready` before the child fails.
    ready.catch(() => undefined);
    return instance;
  }

  private keep(line: string): void {
    this.output.push(line);
    if (this.output.length > 30) this.output.shift();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onLog(listener: (service: string, line: string) => void): void {
    this.logListeners.push(listener);
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves once the child is gone. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
