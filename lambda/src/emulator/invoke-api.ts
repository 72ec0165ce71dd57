import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '@twin/observability/logger';
import { functionArn } from '../runtime/context';
import type { HttpResponse } from './api-gateway';
import type { InvocationOrigin, InvokeResult, LambdaService } from './lambda-service';
import { type PlatformTracing, triggerOf } from './platform-tracing';
import { MAX_PAYLOAD_BYTES } from '../runtime/runtime-api';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  };
}

export function userError(statusCode: number, errorType: string, message: string): HttpResponse {
  return json(statusCode, { Type: 'User', message }, { 'x-amzn-ErrorType': errorType });
}

/**
 * FunctionName may be a name, a partial or a full ARN, with or without a qualifier (a version or an
 * alias after the name: `ProductsFunction:live`).
 */
export function parseFunctionName(segment: string): { name: string; qualifier?: string } {
  const text = decodeURIComponent(segment);
  const arn = /^(?:arn:[^:]+:lambda:[^:]*:[^:]*:)?(?:function:)?([^:]+)(?::([^:]+))?$/.exec(text);
  if (!arn) return { name: text };
  return { name: arn[1] as string, ...(arn[2] ? { qualifier: arn[2] } : {}) };
}

export interface InvokeApiOptions {
  service: LambdaService;
  logger: Logger;
  /** Waits before the retries of a failed `Event` invocation (Lambda waits about 1 and then 2 minutes). */
  retryDelaysMs: number[];
  /** First wait before retrying a throttled `Event` invocation; it doubles up to 5 minutes (Lambda: 1 s). */
  throttleRetryMs: number;
  /** With it, each invocation continues the caller's trace (its request's traceparent, b3...). */
  tracing?: PlatformTracing;
}

/** Lambda's longest wait between the retries of a throttled asynchronous event. */
const MAX_THROTTLE_RETRY_MS = 5 * 60 * 1000;

/**
 * The Invoke API of `sam local start-lambda`: RequestResponse (the default) answers with the
 * handler's result, or with its error and X-Amz-Function-Error, or 429 TooManyRequestsException when
 * the function is throttled; Event answers 202 at once and runs the function in the background,
 * retrying a function error as Lambda retries asynchronous events
 * (EventInvokeConfig.MaximumRetryAttempts) and a throttled event with a backoff from 1 s to 5 minutes
 * until MaximumEventAgeInSeconds, without counting those as attempts; DryRun only checks the function
 * exists.
 */
export class InvokeApi {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: InvokeApiOptions) {}

  /** `query` is the request's query string: `Qualifier` may name the version or alias there instead. */
  async handle(
    nameSegment: string,
    query: URLSearchParams,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<HttpResponse> {
    const parsed = parseFunctionName(nameSegment);
    const { name } = parsed;
    const qualifier = parsed.qualifier ?? query.get('Qualifier') ?? undefined;
    const { service } = this.options;
    if (!service.hasQualifier(name, qualifier ?? '$LATEST')) {
      return userError(
        404,
        'ResourceNotFoundException',
        `Function not found: ${functionArn(name, qualifier)}`,
      );
    }
    if (body.length > MAX_PAYLOAD_BYTES) {
      return userError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
      );
    }
    const payload = body.length > 0 ? body : Buffer.from('{}');
    let event: unknown;
    try {
      event = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return userError(
        400,
        'InvalidRequestContentException',
        `Could not parse request body into json: ${(err as Error).message}`,
      );
    }
    const { tracing } = this.options;
    const origin = tracing && { parent: tracing.extract(headers), trigger: triggerOf(event) };
    const type = String(headers['x-amz-invocation-type'] ?? 'RequestResponse');
    switch (type) {
      case 'RequestResponse':
        return this.respond(await this.run(name, qualifier, payload, 'invoke', origin));
      case 'Event':
        this.runAsync(name, qualifier, payload, origin, 1, Date.now());
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

  private async run(
    name: string,
    qualifier: string | undefined,
    payload: Buffer,
    trigger: string,
    origin: InvocationOrigin | undefined,
  ): Promise<InvokeResult> {
    const result = await this.options.service.invoke(name, payload, qualifier, origin);
    if (result.status === 'throttled') {
      this.options.logger.warn({ function: name, trigger, reason: result.reason }, 'throttled');
    } else if (result.status === 'error') {
      this.options.logger.warn(
        {
          function: name,
          trigger,
          requestId: result.requestId,
          error: JSON.parse(result.payload.toString('utf8')),
        },
        'function error',
      );
    }
    return result;
  }

  private respond(result: InvokeResult): HttpResponse {
    if (result.status === 'throttled') {
      return json(
        429,
        { Reason: result.reason, Type: 'User', message: 'Rate Exceeded.' },
        { 'x-amzn-ErrorType': 'TooManyRequestsException' },
      );
    }
    const headers = {
      'content-type': 'application/json',
      'x-amz-executed-version': result.executedVersion,
      'x-amzn-RequestId': result.requestId,
      ...(result.status === 'error' ? { 'x-amz-function-error': 'Unhandled' } : {}),
    };
    return { statusCode: 200, headers, body: result.payload };
  }

  private later(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  private runAsync(
    name: string,
    qualifier: string | undefined,
    payload: Buffer,
    origin: InvocationOrigin | undefined,
    attempt: number,
    queuedAt: number,
    throttled = 0,
  ): void {
    const spec = this.options.service.spec(name);
    if (!spec) return;
    this.run(name, qualifier, payload, 'event', origin).then(
      (result) => {
        if (result.status === 'ok') return;
        if (result.status === 'throttled') {
          const delay = Math.min(this.options.throttleRetryMs * 2 ** throttled, MAX_THROTTLE_RETRY_MS);
          if (Date.now() + delay - queuedAt > spec.maximumEventAgeSeconds * 1000) {
            this.options.logger.error(
              { function: name, reason: result.reason },
              'asynchronous event expired while throttled; in AWS it goes to the on-failure destination',
            );
            return;
          }
          this.later(delay, () =>
            this.runAsync(name, qualifier, payload, origin, attempt, queuedAt, throttled + 1),
          );
          return;
        }
        if (attempt > spec.maximumRetryAttempts) {
          this.options.logger.error(
            { function: name, attempts: attempt, error: JSON.parse(result.payload.toString('utf8')) },
            'asynchronous invocation failed after its retries; in AWS the event goes to the on-failure destination',
          );
          return;
        }
        const delay = this.options.retryDelaysMs[attempt - 1] ?? this.options.retryDelaysMs.at(-1) ?? 0;
        this.later(delay, () =>
          this.runAsync(name, qualifier, payload, origin, attempt + 1, queuedAt, throttled),
        );
      },
      (err: Error) =>
        this.options.logger.error({ err, function: name }, 'asynchronous invocation failed to run'),
    );
  }
}
