import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { LAMBDA_DIR } from '../template/template';
import { type FunctionError, runtimeExitError, timeoutError } from './function-error';
import { type NextInvocation, type RuntimeApi, startRuntimeApi } from './runtime-api';

/** The runtime interface client each environment runs (always the compiled one: it is a child process). */
export const BOOTSTRAP_PATH = path.join(LAMBDA_DIR, 'dist', 'runtime', 'bootstrap.js');

/** Lambda gives the INIT phase 10 s (then retries it within the invocation's own timeout). */
export const INIT_TIMEOUT_MS = 10_000;

/** What one execution environment runs: one version of one function. */
export interface EnvironmentConfig {
  functionName: string;
  /** $LATEST or a published version number. */
  version: string;
  /** `<file>.<export>`, as the template's Handler. */
  handler: string;
  /** The folder holding the function's bundle (Lambda's /var/task). */
  taskRoot: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** The function's variables; Lambda's reserved ones are added. */
  environment: Record<string, string>;
  /** Folders searched for packages the bundle leaves external, as a layer's /opt/nodejs/node_modules. */
  nodePath: string[];
  /** Modules loaded before the runtime (`node --require`), as a layer's exec wrapper loads them. */
  preload?: string[];
}

/** How one invocation ended. `failed` (a timeout, the process gone) ends the environment too. */
export type EnvironmentOutcome =
  | { status: 'ok'; payload: Buffer }
  | { status: 'error'; payload: Buffer }
  | { status: 'failed'; reason: 'timeout' | 'exit'; error: FunctionError };

export type EnvironmentState = 'initializing' | 'idle' | 'busy' | 'stopped';

/** Where a log line comes from: a function version's log stream, one per environment. */
export interface LogSource {
  functionName: string;
  version: string;
  logStream: string;
}

/** Receives the lines of the functions' log streams. */
export type LogSink = (line: string, source: LogSource) => void;

export interface Invocation {
  requestId: string;
  payload: Buffer;
  invokedFunctionArn: string;
  /** X-Ray's trace header, handed to the runtime as Lambda-Runtime-Trace-Id. */
  traceHeader?: string;
}

interface Current {
  requestId: string;
  settle(outcome: EnvironmentOutcome): void;
}

/**
 * V8's heap limits for a function's memory size, as Lambda's Node.js bootstrap sets them: a tenth of
 * `MemorySize` for the young generation (half of it per semi-space), the rest for the old one. A
 * heap that outgrows them aborts the process, which Lambda reports as `Runtime.ExitError`.
 */
export function heapArgs(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`];
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * One Lambda execution environment: a Node.js process of its own (own module state, own heap bounded
 * by `MemorySize`) running the runtime interface client against a Runtime API of its own. It serves
 * one invocation at a time; a timeout, an exit or an init error ends it (`stop`), as Lambda discards
 * such an environment, and nothing of it keeps running.
 */
export class ExecutionEnvironment {
  readonly id = randomBytes(16).toString('hex');
  /** Lambda's log stream name of this environment: yyyy/mm/dd/[version]<id>. */
  readonly logStream: string;
  readonly source: LogSource;
  state: EnvironmentState = 'initializing';
  /** From process start to the runtime's first `next` (ms); set once initialized. */
  initDurationMs?: number;
  invocations = 0;
  private child?: ChildProcess;
  private api?: RuntimeApi;
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private failInit!: (error: FunctionError) => void;
  private waiting?: (invocation: NextInvocation) => void;
  private queued?: NextInvocation;
  private current?: Current;
  private timer?: NodeJS.Timeout;
  private peakMemoryMb?: number;

  private constructor(
    readonly config: EnvironmentConfig,
    private readonly log: LogSink,
  ) {
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    this.logStream = `${day}/[${config.version}]${this.id}`;
    this.source = { functionName: config.functionName, version: config.version, logStream: this.logStream };
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failInit = (error) => reject(Object.assign(new Error(error.errorMessage), { document: error }));
    });
    // Awaited by initialize(); a failure before anyone waits must not surface as unhandled.
    this.ready.catch(() => undefined);
  }

  /** Starts the process; it initializes in the background (see `initialize`). */
  static async start(config: EnvironmentConfig, log: LogSink): Promise<ExecutionEnvironment> {
    const environment = new ExecutionEnvironment(config, log);
    await environment.spawn();
    return environment;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async spawn(): Promise<void> {
    const { config } = this;
    this.api = await startRuntimeApi({
      next: () => this.next(),
      response: (id, payload) => this.settle(id, { status: 'ok', payload }),
      error: (id, payload) => this.settle(id, { status: 'error', payload }),
      initError: (payload) => this.failInit(parseError(payload)),
    });
    const started = performance.now();
    this.ready.then(() => (this.initDurationMs = round(performance.now() - started))).catch(() => undefined);
    const preload = (config.preload ?? []).flatMap((file) => ['--require', file]);
    const child = spawn(process.execPath, [...heapArgs(config.memoryMb), ...preload, BOOTSTRAP_PATH], {
      cwd: config.taskRoot,
      env: {
        ...config.environment,
        NODE_PATH: config.nodePath.join(path.delimiter),
        AWS_LAMBDA_RUNTIME_API: this.api.address,
        _HANDLER: config.handler,
        LAMBDA_TASK_ROOT: config.taskRoot,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs',
        AWS_LAMBDA_FUNCTION_NAME: config.functionName,
        AWS_LAMBDA_FUNCTION_VERSION: config.version,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.functionName}`,
        AWS_LAMBDA_LOG_STREAM_NAME: this.logStream,
        TZ: ':UTC',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream)
        readline.createInterface({ input: stream }).on('line', (line) => this.log(line, this.source));
    }
    child.once('exit', (code, signal) => this.exited(code, signal));
    const initTimer = setTimeout(
      () => {
        this.failInit(timeoutError(INIT_TIMEOUT_MS / 1000 + config.timeoutSeconds));
        this.stop();
      },
      INIT_TIMEOUT_MS + config.timeoutSeconds * 1000,
    );
    this.ready.finally(() => clearTimeout(initTimer)).catch(() => undefined);
  }

  /**
   * Waits for the INIT phase of a new environment (at once for a warm one). Resolves with the error
   * Lambda reports when it failed (the handler did not load, the process exited, it ran out of time);
   * the environment is stopped then.
   */
  async initialize(): Promise<FunctionError | undefined> {
    try {
      await this.ready;
    } catch (err) {
      this.stop();
      return (err as { document: FunctionError }).document;
    }
    return this.state === 'stopped' ? runtimeExitError('(init)', null, 'SIGKILL') : undefined;
  }

  /** Runs one invocation on an initialized, idle environment; `durationMs` is Lambda's Duration. */
  invoke(invocation: Invocation): Promise<EnvironmentOutcome & { durationMs: number }> {
    if (this.state !== 'idle') throw new Error(`environment ${this.id} is ${this.state}, not idle`);
    this.state = 'busy';
    this.invocations += 1;
    const timeoutMs = this.config.timeoutSeconds * 1000;
    const started = performance.now();
    return new Promise((resolve) => {
      this.current = {
        requestId: invocation.requestId,
        settle: (outcome) => {
          clearTimeout(this.timer);
          this.current = undefined;
          this.readPeakMemory();
          if (outcome.status === 'failed') this.stop();
          else this.state = 'idle';
          resolve({ ...outcome, durationMs: round(performance.now() - started) });
        },
      };
      this.timer = setTimeout(
        () =>
          this.current?.settle({
            status: 'failed',
            reason: 'timeout',
            error: timeoutError(this.config.timeoutSeconds),
          }),
        timeoutMs,
      );
      this.deliver({ ...invocation, deadlineMs: Date.now() + timeoutMs });
    });
  }

  /** Peak resident memory of the process (MB), read from /proc as Lambda's "Max Memory Used". */
  maxMemoryUsedMb(): number | undefined {
    this.readPeakMemory();
    return this.peakMemoryMb;
  }

  /** Ends the process and the Runtime API at once (SIGKILL: Lambda does not let a discarded runtime finish). */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.timer);
    if (this.child?.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.api?.close();
  }

  private next(): Promise<NextInvocation> {
    if (this.state === 'initializing') {
      this.state = 'idle';
      this.markReady();
    }
    return new Promise((resolve) => {
      const queued = this.queued;
      this.queued = undefined;
      if (queued) resolve(queued);
      else this.waiting = resolve;
    });
  }

  private deliver(invocation: NextInvocation): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(invocation);
    else this.queued = invocation;
  }

  private settle(requestId: string, outcome: EnvironmentOutcome): boolean {
    if (!this.current || this.current.requestId !== requestId) return false;
    this.current.settle(outcome);
    return true;
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    const requestId = this.current?.requestId;
    if (requestId) {
      this.current?.settle({
        status: 'failed',
        reason: 'exit',
        error: runtimeExitError(requestId, code, signal),
      });
    } else if (this.state === 'initializing') {
      this.failInit(runtimeExitError('(init)', code, signal));
    }
    this.stop();
  }

  private readPeakMemory(): void {
    if (!this.child?.pid || this.state === 'stopped') return;
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
      if (kb) this.peakMemoryMb = Math.ceil(Number(kb) / 1024);
    } catch {
      // Not Linux, or the process is gone: keep the last reading.
    }
  }
}

function parseError(payload: Buffer): FunctionError {
  try {
    const document = JSON.parse(payload.toString('utf8')) as Partial<FunctionError>;
    if (typeof document.errorType === 'string' && typeof document.errorMessage === 'string') {
      return document as FunctionError;
    }
  } catch {
    // Fall through: the runtime posted something that is not an error document.
  }
  return { errorType: 'Runtime.Unknown', errorMessage: payload.toString('utf8') };
}
