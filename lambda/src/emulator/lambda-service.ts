import { randomUUID } from 'node:crypto';
import { type Context, ROOT_CONTEXT } from '@opentelemetry/api';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Logger } from '@twin/observability/logger';
import os from 'node:os';
import path from 'node:path';
import { bundleFunctions, bundleTracingLayer } from '../bundle';
import { functionArn } from '../runtime/context';
import type { LogSink } from '../runtime/environment';
import type { FunctionError } from '../runtime/function-error';
import { type FunctionSpec, LAMBDA_DIR, type SamTemplate } from '../template/template';
import { AccountConcurrency, DEFAULT_ACCOUNT_CONCURRENCY, type ThrottleReason } from './concurrency';
import { EnvironmentPool, type PoolStats } from './environment-pool';
import {
  type AliasTarget,
  aliasProblem,
  type FunctionVersions,
  routeAlias,
  VersionsFileError,
} from './versions';
import { billedDurationMs, endLine, type Report, reportLine, startLine } from './platform-log';
import type { PlatformTracing, Trigger } from './platform-tracing';

/** Lambda does not publish how long an idle environment lives; observed lifetimes are 5 to 15 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60 * 1000;

export interface LambdaServiceOptions {
  template: SamTemplate;
  /** Only these functions of the template (default: all). */
  functions?: FunctionSpec[];
  /** Concurrent executions for the whole account (default DEFAULT_ACCOUNT_CONCURRENCY). */
  accountConcurrency?: number;
  /** How long an idle environment is kept before it is shut down (ms; default DEFAULT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
  /** The functions' variables (default: this process's environment). */
  environment?: NodeJS.ProcessEnv;
  /**
   * Receives every line of the functions' log streams: Lambda's START, END and REPORT lines and what
   * the code writes to stdout and stderr. Default: this process's stdout.
   */
  logs?: LogSink;
  /**
   * Gets one JSON `invocation` record per invocation (function, version, requestId, coldStart,
   * durationMs, billedDurationMs, initDurationMs, maxMemoryUsedMb, outcome): the REPORT line's
   * figures for programs to read.
   */
  logger?: Logger;
  /**
   * Versions published after version 1 and where aliases point, by function (readVersionsFile).
   * Only functions with an AutoPublishAlias have versions; the others run $LATEST alone.
   */
  versions?: Record<string, FunctionVersions>;
  /**
   * Records the platform's spans of every invocation and loads the tracing layer into every
   * environment. Without it nothing is traced and environments load no tracing code.
   */
  tracing?: PlatformTracing;
}

/** Where an invocation comes from, for its span: the caller's trace context and the trigger. */
export interface InvocationOrigin {
  parent: Context;
  trigger: Trigger;
}

/** A function's alias: where it points now, and a revision id that changes with each update. */
export interface Alias {
  name: string;
  target: AliasTarget;
  revisionId: string;
}

/** One invocation's result. A throttled one never reached an environment. */
export type InvokeResult =
  | { status: 'throttled'; reason: ThrottleReason }
  | {
      status: 'ok' | 'error';
      requestId: string;
      /** The version that ran (X-Amz-Executed-Version). */
      executedVersion: string;
      /** The function's result, or its error document (JSON). */
      payload: Buffer;
      /** For errors: the error document's type (e.g. Sandbox.Timedout, Runtime.ExitError). */
      errorType?: string;
      report: Report;
    };

export interface FunctionStats {
  name: string;
  reservedConcurrency?: number;
  /** The template's AutoPublishAlias and where it points. */
  alias?: { name: string; functionVersion: string; additionalVersionWeights: Record<string, number> };
  /** Invocations in flight now. */
  concurrentExecutions: number;
  throttles: number;
  versions: PoolStats[];
}

export interface ServiceStats {
  account: { concurrencyLimit: number; unreservedConcurrency: number; concurrentExecutions: number };
  functions: FunctionStats[];
}

interface LambdaFunction {
  spec: FunctionSpec;
  /** By version: the published ones (1, 2, ...) and $LATEST, each with environments of its own. */
  pools: Map<string, EnvironmentPool>;
  alias?: Alias;
  throttles: number;
}

const byNumber = (a: string, b: string) => Number(a) - Number(b);

/** node_modules folders from lambda/ up, standing in for the layers' /opt/nodejs/node_modules (sharp). */
function nodeModulesPath(): string[] {
  const folders: string[] = [];
  for (let dir = LAMBDA_DIR; ; dir = path.dirname(dir)) {
    folders.push(path.join(dir, 'node_modules'));
    if (path.dirname(dir) === dir) return folders;
  }
}

const errorTypeOf = (payload: Buffer) => {
  try {
    return String((JSON.parse(payload.toString('utf8')) as FunctionError).errorType);
  } catch {
    return 'Runtime.Unknown';
  }
};

/**
 * The Lambda service as the emulator runs it: each function of the template built as `sam build`
 * builds it (esbuild, its BuildProperties), served by execution environments that are processes of
 * their own (EnvironmentPool), within the account's and the functions' concurrency
 * (AccountConcurrency), every invocation logged with Lambda's START, END and REPORT lines.
 */
export class LambdaService {
  private readonly functions = new Map<string, LambdaFunction>();

  private constructor(
    private readonly concurrency: AccountConcurrency,
    private readonly bundlesDir: string,
    private readonly log: LogSink,
    private readonly logger?: Logger,
    private readonly tracing?: PlatformTracing,
  ) {}

  /** Builds the bundles (into a temporary folder) and sets up the functions; no environment starts yet. */
  static async start(options: LambdaServiceOptions): Promise<LambdaService> {
    const specs = options.functions ?? options.template.functions;
    const reserved = new Map(
      specs.flatMap((spec) =>
        spec.reservedConcurrency === undefined ? [] : [[spec.logicalId, spec.reservedConcurrency] as const],
      ),
    );
    const versions = options.versions ?? {};
    for (const name of Object.keys(versions)) {
      const spec = specs.find((candidate) => candidate.logicalId === name);
      if (!spec) throw new VersionsFileError(`${name}: the template has no such function`);
      if (!spec.autoPublishAlias) {
        throw new VersionsFileError(`${name}: has no AutoPublishAlias to publish versions behind`);
      }
      const published = ['1', ...Object.keys(versions[name]?.versions ?? {})];
      const target = versions[name]?.alias;
      const problem = target && aliasProblem(target, published);
      if (problem) throw new VersionsFileError(`${name}.Alias: ${problem}`);
    }
    const concurrency = new AccountConcurrency(
      options.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY,
      reserved,
    );
    const bundlesDir = await mkdtemp(path.join(os.tmpdir(), 'lambda-emulator-'));
    const log: LogSink = options.logs ?? ((line) => process.stdout.write(`${line}\n`));
    const service = new LambdaService(concurrency, bundlesDir, log, options.logger, options.tracing);
    let preload: string[] = [];
    try {
      await bundleFunctions(bundlesDir, { ...options.template, functions: specs });
      if (options.tracing) preload = [await bundleTracingLayer(path.join(bundlesDir, 'layers'))];
    } catch (err) {
      await rm(bundlesDir, { recursive: true, force: true });
      throw err;
    }
    const environment = Object.fromEntries(
      Object.entries(options.environment ?? process.env).filter(
        // OTEL_SERVICE_NAME names the emulator's process; a function's spans go by its own name.
        (entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'OTEL_SERVICE_NAME',
      ),
    );
    const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    for (const spec of specs) {
      // Version 1 is the template as it is: its variables, overridden by this process's (the local
      // stack's endpoints, LOG_LEVEL); each later version changes some of them.
      const pool = (version: string, variables: Record<string, string>) =>
        new EnvironmentPool(
          {
            functionName: spec.logicalId,
            version,
            handler: spec.handler,
            taskRoot: path.join(bundlesDir, spec.logicalId),
            memoryMb: spec.memoryMb,
            timeoutSeconds: spec.timeoutSeconds,
            environment: { ...spec.environment, ...environment, ...variables },
            nodePath: nodeModulesPath(),
            preload,
          },
          idleTimeoutMs,
          log,
        );
      const pools = new Map<string, EnvironmentPool>();
      let alias: Alias | undefined;
      if (spec.autoPublishAlias) {
        const declared = versions[spec.logicalId];
        const later = declared?.versions ?? {};
        const published = ['1', ...Object.keys(later)].sort(byNumber);
        for (const version of published) pools.set(version, pool(version, later[version] ?? {}));
        // $LATEST holds what was deployed last: the newest version's code and variables.
        const newest = published.at(-1) as string;
        pools.set('$LATEST', pool('$LATEST', later[newest] ?? {}));
        // Without a routing of its own the alias points where a finished deployment leaves it.
        const target = declared?.alias ?? { functionVersion: newest, additionalVersionWeights: {} };
        alias = { name: spec.autoPublishAlias, target, revisionId: randomUUID() };
      } else {
        pools.set('$LATEST', pool('$LATEST', {}));
      }
      service.functions.set(spec.logicalId, { spec, pools, ...(alias ? { alias } : {}), throttles: 0 });
    }
    return service;
  }

  /** The function named `name` (a logical id of the template), if the service runs it. */
  spec(name: string): FunctionSpec | undefined {
    return this.functions.get(name)?.spec;
  }

  get names(): string[] {
    return [...this.functions.keys()];
  }

  /** Whether `qualifier` names something `name` can run: $LATEST, a published version or its alias. */
  hasQualifier(name: string, qualifier: string): boolean {
    const fn = this.functions.get(name);
    return fn !== undefined && (fn.pools.has(qualifier) || fn.alias?.name === qualifier);
  }

  /** The published versions of `name`, oldest first. */
  publishedVersions(name: string): string[] {
    return [...(this.functions.get(name)?.pools.keys() ?? [])].filter((version) => version !== '$LATEST');
  }

  alias(name: string): Alias | undefined {
    return this.functions.get(name)?.alias;
  }

  /** Points the function's alias at `target` (checked by the caller, see aliasProblem). */
  updateAlias(name: string, target: AliasTarget): Alias {
    const fn = this.functions.get(name);
    if (!fn?.alias) throw new Error(`${name} has no alias`);
    fn.alias = { ...fn.alias, target, revisionId: randomUUID() };
    return fn.alias;
  }

  /**
   * Invokes `name` with `payload` (the event as JSON bytes), at `qualifier` ($LATEST when omitted, a
   * version, or the alias, which picks a version by its weights): throttled past the concurrency
   * limits, otherwise on a warm environment of that version or a new one. With tracing, `origin`
   * parents and describes the invocation's span (a new trace of trigger `other` without it). Throws
   * for a function or qualifier the service does not have.
   */
  async invoke(
    name: string,
    payload: Buffer,
    qualifier = '$LATEST',
    origin?: InvocationOrigin,
  ): Promise<InvokeResult> {
    const fn = this.functions.get(name);
    if (!fn || !this.hasQualifier(name, qualifier)) throw new Error(`no function ${name}:${qualifier}`);
    const reason = this.concurrency.acquire(name);
    if (reason) {
      fn.throttles += 1;
      return { status: 'throttled', reason };
    }
    try {
      const version = fn.alias?.name === qualifier ? routeAlias(fn.alias.target) : qualifier;
      return await this.run(fn, fn.pools.get(version) as EnvironmentPool, payload, qualifier, origin);
    } finally {
      this.concurrency.release(name);
    }
  }

  private async run(
    fn: LambdaFunction,
    pool: EnvironmentPool,
    payload: Buffer,
    qualifier: string,
    origin?: InvocationOrigin,
  ): Promise<InvokeResult> {
    const { spec } = fn;
    const version = pool.config.version;
    const requestId = randomUUID();
    const invokedFunctionArn = functionArn(spec.logicalId, qualifier === '$LATEST' ? undefined : qualifier);
    const target = {
      functionName: spec.logicalId,
      version,
      memoryMb: spec.memoryMb,
      invokedArn: invokedFunctionArn,
      resourceArn: functionArn(spec.logicalId, version === '$LATEST' ? undefined : version),
    };
    const span = this.tracing?.startInvocation(
      origin?.parent ?? ROOT_CONTEXT,
      target,
      requestId,
      origin?.trigger ?? { type: 'other' },
    );
    const acquiredAt = Date.now();
    const { environment, cold } = await pool.acquire();
    const initError = await environment.initialize();
    if (span && cold) this.tracing?.recordInit(span, target, acquiredAt, Date.now());
    const log = (line: string) => this.log(line, environment.source);
    log(startLine(requestId, version));
    const outcome = initError
      ? ({ status: 'failed', reason: 'exit', error: initError, durationMs: 0 } as const)
      : await environment.invoke({
          requestId,
          payload,
          invokedFunctionArn,
          ...(span ? { traceHeader: this.tracing?.invocationTraceHeader(span) } : {}),
        });
    pool.release(environment);
    const report: Report = {
      requestId,
      durationMs: outcome.durationMs,
      memorySizeMb: spec.memoryMb,
      maxMemoryUsedMb: environment.maxMemoryUsedMb(),
      ...(cold && environment.initDurationMs !== undefined
        ? { initDurationMs: environment.initDurationMs }
        : {}),
    };
    if (outcome.status === 'failed') {
      const { error } = outcome;
      if (outcome.reason === 'timeout') {
        log(`${new Date().toISOString()} ${requestId} ${error.errorMessage}`);
        report.status = 'timeout';
      } else {
        log(error.errorMessage);
        log(error.errorType);
        report.status = 'error';
        report.errorType = error.errorType;
      }
    }
    // The code's last lines come through a pipe, the result through a socket: let the pipe drain first.
    await new Promise((resolve) => setImmediate(resolve));
    log(endLine(requestId));
    log(reportLine(report));
    this.logger?.info(
      {
        function: spec.logicalId,
        version,
        requestId,
        coldStart: cold,
        durationMs: report.durationMs,
        billedDurationMs: billedDurationMs(report),
        ...(report.initDurationMs !== undefined ? { initDurationMs: report.initDurationMs } : {}),
        maxMemoryUsedMb: report.maxMemoryUsedMb,
        outcome:
          outcome.status === 'failed' ? (outcome.reason === 'timeout' ? 'timeout' : 'error') : outcome.status,
      },
      'invocation',
    );
    const common = { requestId, executedVersion: version, report };
    const result: InvokeResult =
      outcome.status === 'ok'
        ? { status: 'ok', payload: outcome.payload, ...common }
        : outcome.status === 'error'
          ? { status: 'error', payload: outcome.payload, errorType: errorTypeOf(outcome.payload), ...common }
          : {
              status: 'error',
              payload: Buffer.from(JSON.stringify(outcome.error)),
              errorType: outcome.error.errorType,
              ...common,
            };
    if (span) {
      this.tracing?.finishInvocation(span, {
        coldStart: cold,
        instance: environment.logStream,
        ...(result.status === 'error' ? { errorType: result.errorType } : {}),
      });
    }
    return result;
  }

  stats(): ServiceStats {
    return {
      account: {
        concurrencyLimit: this.concurrency.limit,
        unreservedConcurrency: this.concurrency.unreserved,
        concurrentExecutions: this.concurrency.total,
      },
      functions: [...this.functions.values()].map(({ spec, pools, alias, throttles }) => ({
        name: spec.logicalId,
        ...(spec.reservedConcurrency !== undefined ? { reservedConcurrency: spec.reservedConcurrency } : {}),
        ...(alias ? { alias: { name: alias.name, ...alias.target } } : {}),
        concurrentExecutions: this.concurrency.inUse(spec.logicalId),
        throttles,
        versions: [...pools.values()].map((pool) => pool.stats()),
      })),
    };
  }

  /** Stops every environment and removes the bundles. */
  async close(): Promise<void> {
    for (const fn of this.functions.values()) for (const pool of fn.pools.values()) pool.close();
    await rm(this.bundlesDir, { recursive: true, force: true });
  }
}
