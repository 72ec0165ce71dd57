import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import { type FunctionSpec, LAMBDA_DIR } from '../template/template';
import { createContext } from './context';

type Handler = (event: unknown, context: Context) => unknown;

/** The error document Lambda returns for a function that threw (X-Amz-Function-Error: Unhandled). */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** What Lambda's REPORT line tells about one invocation. */
export interface InvocationReport {
  function: string;
  requestId: string;
  /** The first invocation of this function in this process: it paid for loading the code. */
  coldStart: boolean;
  durationMs: number;
  /** Loading the handler's module (clients, processor...); reported on the cold invocation only. */
  initDurationMs?: number;
  outcome: 'ok' | 'error' | 'timeout';
}

export type Invocation = { report: InvocationReport } & (
  { ok: true; result: unknown } | { ok: false; error: FunctionError }
);

const round = (ms: number) => Math.round(ms * 100) / 100;

class TimeoutError extends Error {
  override name = 'Sandbox.Timedout';
}

export function toFunctionError(err: unknown): FunctionError {
  if (err instanceof Error) {
    const trace = (err.stack ?? '').split('\n').map((line) => line.trim());
    return { errorType: err.name, errorMessage: err.message, trace };
  }
  return { errorType: 'Error', errorMessage: String(err), trace: [] };
}

/**
 * The module that holds a function's handler: the compiled file under dist/ when this code runs
 * compiled, the TypeScript source when it runs under ts-jest.
 */
export function handlerModulePath(spec: FunctionSpec): string {
  const sources = path.join(LAMBDA_DIR, 'src') + path.sep;
  if (__filename.endsWith('.js') && spec.entryPath.startsWith(sources)) {
    return path.join(LAMBDA_DIR, 'dist', spec.entryPath.slice(sources.length)).replace(/\.ts$/, '.js');
  }
  return spec.entryPath;
}

/**
 * One function as a Lambda container would hold it: its module loaded once (module-scope clients
 * and all), then invoked with an event and a context, under the template's timeout.
 */
export class LocalFunction {
  private handler?: Handler;
  private initDurationMs = 0;
  private invocations = 0;

  constructor(readonly spec: FunctionSpec) {}

  get name(): string {
    return this.spec.logicalId;
  }

  /** Loads the handler's module; throws when it fails to load or does not export the handler. */
  load(): void {
    if (this.handler) return;
    const started = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported: unknown = require(handlerModulePath(this.spec))[this.spec.exportName];
    if (typeof exported !== 'function') {
      throw new Error(`${this.spec.logicalId}: ${this.spec.handler} is not an exported function`);
    }
    this.handler = exported as Handler;
    this.initDurationMs = performance.now() - started;
  }

  async invoke(event: unknown): Promise<Invocation> {
    this.load();
    const handler = this.handler as Handler;
    const coldStart = this.invocations++ === 0;
    const requestId = randomUUID();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const context = createContext(this.spec, requestId, Date.now() + timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`)),
        timeoutMs,
      );
    });
    const started = performance.now();
    const report = (outcome: InvocationReport['outcome']): InvocationReport => ({
      function: this.spec.logicalId,
      requestId,
      coldStart,
      durationMs: round(performance.now() - started),
      ...(coldStart ? { initDurationMs: round(this.initDurationMs) } : {}),
      outcome,
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => handler(event, context)), timedOut]);
      return { ok: true, result, report: report('ok') };
    } catch (err) {
      return {
        ok: false,
        error: toFunctionError(err),
        report: report(err instanceof TimeoutError ? 'timeout' : 'error'),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
