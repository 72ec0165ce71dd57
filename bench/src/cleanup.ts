import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onStopRequest } from '@twin/service-kit/lifecycle';

/** Something that can be stopped: a child process, a server. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

/** Children and temporary folders to clean up whatever happens, last registered first. */
export class Cleanup {
  private readonly steps: Array<() => Promise<unknown>> = [];

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  stopping<T extends Stoppable>(child: T): T {
    this.add(() => child.stop());
    return child;
  }

  /** A fresh temporary folder, removed at cleanup. */
  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    this.add(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await step().catch(() => undefined);
    this.steps.length = 0;
  }
}

/**
 * Runs a measurement with everything it starts registered for cleanup, which happens when it ends,
 * fails, or it is asked to stop (Ctrl-C, SIGTERM, SIGHUP: exit status 130 once the children are
 * stopped).
 */
export async function withCleanup<T>(work: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup();
  const unsubscribe = onStopRequest(() => void cleanup.run().then(() => process.exit(130)));
  try {
    return await work(cleanup);
  } finally {
    unsubscribe();
    await cleanup.run();
  }
}
