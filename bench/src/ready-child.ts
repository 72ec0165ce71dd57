import path from 'node:path';
import { NodeChild } from '@twin/local';

const DIST = __dirname;

interface Message<T> {
  ready?: T;
  error?: string;
  log?: { service: string; line: string };
}

/**
 * A child process of this package (one of its entry scripts in dist/, run as the local stack's
 * `NodeChild`, so it goes when the bench goes) that prints one `{"ready": ...}` JSON line once it
 * serves, `{"log": {service, line}}` lines to forward, and `{"error": ...}` when it fails.
 */
export class ReadyChild<T> {
  private readonly logListeners: Array<(service: string, line: string) => void> = [];

  private constructor(
    private readonly child: NodeChild,
    readonly ready: Promise<T>,
  ) {}

  /**
   * Starts `script` with `args`. `ready` resolves with the child's ready message, or rejects, with
   * its last output, when it exits first or is not ready within `timeoutMs` (then it is killed).
   */
  static start<T>(name: string, script: string, args: string[], timeoutMs: number): ReadyChild<T> {
    let onMessage: (message: Message<T>) => void = () => undefined;
    const child = new NodeChild({ name, args: [path.join(DIST, script), ...args] }, (_, line) => {
      let message: Message<T>;
      try {
        message = JSON.parse(line) as Message<T>;
      } catch {
        return; // plain output: NodeChild keeps the last lines for error messages
      }
      onMessage(message);
    });
    child.start();
    const ready = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${child.output}`));
        void child.stop(0);
      }, timeoutMs);
      void child.exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${exit.code ?? exit.signal}:\n${child.output}`));
      });
      onMessage = (message) => {
        if (message.log) {
          for (const listener of instance.logListeners) listener(message.log.service, message.log.line);
        } else if (message.ready !== undefined) {
          clearTimeout(timer);
          resolve(message.ready);
        }
      };
    });
    // Avoid an unhandled rejection when nobody awaits `ready` before the child fails.
    ready.catch(() => undefined);
    const instance = new ReadyChild<T>(child, ready);
    return instance;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onLog(listener: (service: string, line: string) => void): void {
    this.logListeners.push(listener);
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves once the child is gone. */
  async stop(graceMs = 15_000): Promise<void> {
    await this.child.stop(graceMs);
  }
}
