import { type EnvironmentConfig, ExecutionEnvironment, type LogSink } from '../runtime/environment';

/** Counts of one function version's environments, as the emulator's admin endpoint shows them. */
export interface PoolStats {
  version: string;
  environments: { alive: number; initializing: number; busy: number; idle: number };
  coldStarts: number;
  invocations: number;
  /** Environments reclaimed after their idle time. */
  reclaimed: number;
  /** Environments discarded after a timeout, an exit or an init error. */
  discarded: number;
  /** Each environment alive, with its process and init duration (ms). */
  instances: Array<{
    id: string;
    pid?: number;
    state: string;
    initDurationMs?: number;
    invocations: number;
    logStream: string;
  }>;
}

/**
 * The execution environments of one function version, as Lambda keeps them: an invocation takes an
 * idle (warm) environment when there is one and otherwise starts a new one (a cold start); an
 * environment left idle for `idleTimeoutMs` is shut down, so a later invocation starts cold again.
 * The concurrency limit is checked before an environment is taken (AccountConcurrency).
 */
export class EnvironmentPool {
  private readonly alive = new Set<ExecutionEnvironment>();
  /** Most recently used last: reuse takes the warmest one, the others age out. */
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly idleTimers = new Map<ExecutionEnvironment, NodeJS.Timeout>();
  private coldStarts = 0;
  private invocations = 0;
  private reclaimed = 0;
  private discarded = 0;

  constructor(
    readonly config: EnvironmentConfig,
    private readonly idleTimeoutMs: number,
    private readonly log: LogSink,
  ) {}

  /** A warm environment, or a new one still initializing (`cold`). */
  async acquire(): Promise<{ environment: ExecutionEnvironment; cold: boolean }> {
    this.invocations += 1;
    for (let warm = this.idle.pop(); warm; warm = this.idle.pop()) {
      clearTimeout(this.idleTimers.get(warm));
      this.idleTimers.delete(warm);
      // Its process may have died while idle (killed from outside): then it is gone.
      if (warm.state !== 'stopped') return { environment: warm, cold: false };
      this.alive.delete(warm);
      this.discarded += 1;
    }
    this.coldStarts += 1;
    const environment = await ExecutionEnvironment.start(this.config, this.log);
    this.alive.add(environment);
    return { environment, cold: true };
  }

  /** Back to the idle list, or forgotten when the invocation ended it. */
  release(environment: ExecutionEnvironment): void {
    if (environment.state === 'stopped') {
      this.alive.delete(environment);
      this.discarded += 1;
      return;
    }
    this.idle.push(environment);
    const timer = setTimeout(() => {
      this.idleTimers.delete(environment);
      const at = this.idle.indexOf(environment);
      if (at >= 0) this.idle.splice(at, 1);
      this.alive.delete(environment);
      this.reclaimed += 1;
      environment.stop();
    }, this.idleTimeoutMs);
    timer.unref();
    this.idleTimers.set(environment, timer);
  }

  stats(): PoolStats {
    const instances = [...this.alive];
    const count = (state: string) => instances.filter((environment) => environment.state === state).length;
    return {
      version: this.config.version,
      environments: {
        alive: instances.length,
        initializing: count('initializing'),
        busy: count('busy'),
        idle: count('idle'),
      },
      coldStarts: this.coldStarts,
      invocations: this.invocations,
      reclaimed: this.reclaimed,
      discarded: this.discarded,
      instances: instances.map((environment) => ({
        id: environment.id,
        pid: environment.pid,
        state: environment.state,
        initDurationMs: environment.initDurationMs,
        invocations: environment.invocations,
        logStream: environment.logStream,
      })),
    };
  }

  /** Stops every environment. */
  close(): void {
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    this.idle.length = 0;
    for (const environment of this.alive) environment.stop();
    this.alive.clear();
  }
}
