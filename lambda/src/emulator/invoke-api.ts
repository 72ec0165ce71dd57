import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '@twin/observability/logger';
import { LOCAL_ACCOUNT_ID } from '../runtime/context';
import type { Invocation, LocalFunction } from '../runtime/local-function';
import type { HttpResponse } from './api-gateway';

/** Lambda's Invoke operation: POST /2015-03-31/functions/{FunctionName}/invocations. */
export const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** Lambda's payload limit for synchronous invocations. */
export const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  };
}

function userError(statusCode: number, errorType: string, message: string): HttpResponse {
  return json(statusCode, { Type: 'User', message }, { 'x-amzn-ErrorType': errorType });
}

/** FunctionName may be a name, a partial or a full ARN, with or without a qualifier. */
export function functionNameOf(segment: string): string {
  const name = decodeURIComponent(segment);
  const arn = /^(?:arn:[^:]+:lambda:[^:]*:[^:]*:)?(?:function:)?([^:]+)(?::[^:]+)?$/.exec(name);
  return arn?.[1] ?? name;
}

export interface InvokeApiOptions {
  functions: LocalFunction[];
  logger: Logger;
  /** Waits before the retries of an `Event` invocation (Lambda waits about 1 and then 2 minutes). */
  retryDelaysMs: number[];
}

/**
 * The Invoke API of `sam local start-lambda`: RequestResponse (the default) answers with the
 * handler's result, or with its error and X-Amz-Function-Error; Event answers 202 at once and runs
 * the function in the background, retrying a failure as Lambda retries asynchronous events
 * (EventInvokeConfig.MaximumRetryAttempts); DryRun only checks the function exists.
 */
export class InvokeApi {
  private readonly byName: Map<string, LocalFunction>;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: InvokeApiOptions) {
    this.byName = new Map(options.functions.map((fn) => [fn.name, fn]));
  }

  async handle(nameSegment: string, headers: IncomingHttpHeaders, body: Buffer): Promise<HttpResponse> {
    const name = functionNameOf(nameSegment);
    const fn = this.byName.get(name);
    if (!fn) {
      const region = process.env.AWS_REGION || 'us-east-1';
      return userError(
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}`,
      );
    }
    if (body.length > MAX_INVOKE_PAYLOAD_BYTES) {
      return userError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_INVOKE_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
      );
    }
    let event: unknown = {};
    if (body.length > 0) {
      try {
        event = JSON.parse(body.toString('utf8'));
      } catch (err) {
        return userError(
          400,
          'InvalidRequestContentException',
          `Could not parse request body into json: ${(err as Error).message}`,
        );
      }
    }
    const type = String(headers['x-amz-invocation-type'] ?? 'RequestResponse');
    switch (type) {
      case 'RequestResponse':
        return this.respond(await this.run(fn, event, 'invoke'));
      case 'Event':
        this.runAsync(fn, event, 1);
        return { statusCode: 202, headers: {}, body: Buffer.alloc(0) };
      case 'DryRun':
        return { statusCode: 204, headers: {}, body: Buffer.alloc(0) };
      default:
        return userError(400, 'InvalidParameterValueException', `Unsupported invocation type ${type}`);
    }
  }

  /** Drops pending retries of asynchronous invocations. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async run(fn: LocalFunction, event: unknown, trigger: string): Promise<Invocation> {
    const invocation = await fn.invoke(event);
    this.options.logger.info({ ...invocation.report, trigger }, 'invocation');
    if (!invocation.ok) {
      this.options.logger.warn(
        { function: fn.name, requestId: invocation.report.requestId, error: invocation.error },
        'function error',
      );
    }
    return invocation;
  }

  private respond(invocation: Invocation): HttpResponse {
    const headers = { 'x-amz-executed-version': '$LATEST', 'x-amzn-RequestId': invocation.report.requestId };
    if (invocation.ok) return json(200, invocation.result ?? null, headers);
    return json(200, invocation.error, { ...headers, 'x-amz-function-error': 'Unhandled' });
  }

  private runAsync(fn: LocalFunction, event: unknown, attempt: number): void {
    this.run(fn, event, 'event').then(
      (invocation) => {
        if (invocation.ok) return;
        const retries = fn.spec.maximumRetryAttempts;
        if (attempt > retries) {
          this.options.logger.error(
            { function: fn.name, attempts: attempt, error: invocation.error },
            'asynchronous invocation failed after its retries; in AWS the event goes to the on-failure destination',
          );
          return;
        }
        const delay = this.options.retryDelaysMs[attempt - 1] ?? this.options.retryDelaysMs.at(-1) ?? 0;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.runAsync(fn, event, attempt + 1);
        }, delay);
        this.timers.add(timer);
      },
      (err: Error) =>
        this.options.logger.error({ err, function: fn.name }, 'asynchronous invocation failed to run'),
    );
  }
}
