// The local stack (what `npm start` runs) in a child process of the bench, so that dynalite,
// s3rver and event delivery get their own event loop instead of sharing the load generator's.
import type { Cleanup } from './cleanup';
import { ReadyChild } from './ready-child';
import type { StackInfo, StackRunnerOptions } from './stack-runner';

/** A running local stack: its endpoints, its processes, and a way to stop it. */
export class LocalStack {
  constructor(
    readonly info: StackInfo,
    private readonly child: ReadyChild<StackInfo>,
  ) {}

  /** An endpoint's URL (frontend, backend, lambda, dynamodb, s3...); throws when the stack has none. */
  url(name: string): string {
    const found = this.info.urls[name];
    if (!found) throw new Error(`the stack has no ${name} endpoint`);
    return found;
  }

  /** Process ids by name; `stack` is the launcher's own process (dynalite, s3rver, event delivery). */
  pids(...names: string[]): Record<string, number> {
    return Object.fromEntries(
      names
        .filter((name) => this.info.pids[name] !== undefined)
        .map((name) => [name, this.info.pids[name] as number]),
    );
  }

  /** The launcher's process: dynalite, s3rver and event delivery run in it. */
  get launcherPid(): number {
    return this.info.pids.stack as number;
  }

  onLog(listener: (service: string, line: string) => void): void {
    this.child.onLog(listener);
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

/** Starts the local stack in a child process, registered for cleanup; resolves once it is ready. */
export async function launchLocalStack(cleanup: Cleanup, options: StackRunnerOptions): Promise<LocalStack> {
  const child = cleanup.stopping(
    ReadyChild.start<StackInfo>(
      `local stack (${options.thumbnails})`,
      'stack-runner.js',
      [JSON.stringify(options)],
      120_000,
    ),
  );
  return new LocalStack(await child.ready, child);
}

/** Creates `count` products through the frontend, so a list returns a realistic page. */
export async function seedProducts(frontend: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const response = await fetch(`${frontend}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Product ${i + 1}`, price: Math.round((9.99 + i * 7.5) * 100) / 100 }),
    });
    if (response.status !== 201)
      throw new Error(`seeding products: ${response.status} ${await response.text()}`);
  }
}
