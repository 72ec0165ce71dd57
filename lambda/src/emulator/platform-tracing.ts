import type { IncomingHttpHeaders } from 'node:http';
import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createExporter } from '@twin/observability/exporters';
import { createPropagator } from '@twin/observability/propagation';
import type { PropagatorName, TracesExporter } from '@twin/observability/settings';
import { LOCAL_ACCOUNT_ID } from '../runtime/context';

/** Jaeger's service for the API Gateway spans (X-Ray shows the API's stage as a node of its own). */
export const API_GATEWAY_SERVICE = 'api-gateway';

/** X-Ray's name for the INIT phase of a cold start, a subsegment of the function's segment. */
export const INIT_SPAN_NAME = 'Initialization';

/** What caused an invocation (faas.trigger), and for an S3 event the object it is about. */
export type Trigger =
  | { type: 'http' }
  | { type: 'datasource'; bucket: string; key: string; operation: string; time?: string }
  | { type: 'other' };

/** The function version one invocation runs in. */
export interface InvocationTarget {
  functionName: string;
  version: string;
  memoryMb: number;
  /** The ARN the caller invoked, with its qualifier (an alias, a version, or none). */
  invokedArn: string;
  /** The function's ARN with the version that runs (an alias resolved). */
  resourceArn: string;
}

/** How one invocation ended, for its span's status. */
export interface InvocationEnd {
  coldStart: boolean;
  /** The environment's log stream (faas.instance). */
  instance: string;
  /** Lambda's error type when it failed (Unhandled function errors included). */
  errorType?: string;
}

/**
 * The trigger of an invocation, as a Lambda instrumentation reads it off the event: an S3
 * notification is a datasource event (faas.document.* name the object); anything else is `other`.
 * API Gateway's invocations are known as `http` without looking.
 */
export function triggerOf(event: unknown): Trigger {
  const record = (event as { Records?: unknown[] } | null)?.Records?.[0] as
    { eventSource?: unknown; eventName?: unknown; eventTime?: unknown; s3?: unknown } | undefined;
  const s3 = record?.s3 as { bucket?: { name?: unknown }; object?: { key?: unknown } } | undefined;
  if (record?.eventSource !== 'aws:s3' || typeof s3?.bucket?.name !== 'string') return { type: 'other' };
  const eventName = String(record.eventName ?? '');
  return {
    type: 'datasource',
    bucket: s3.bucket.name,
    key: String(s3.object?.key ?? ''),
    operation: eventName.startsWith('ObjectRemoved') ? 'delete' : 'insert',
    ...(typeof record.eventTime === 'string' ? { time: record.eventTime } : {}),
  };
}

function triggerAttributes(trigger: Trigger): Attributes {
  if (trigger.type !== 'datasource') return { 'faas.trigger': trigger.type };
  return {
    'faas.trigger': 'datasource',
    'faas.document.collection': trigger.bucket,
    'faas.document.name': trigger.key,
    'faas.document.operation': trigger.operation,
    ...(trigger.time ? { 'faas.document.time': trigger.time } : {}),
  };
}

/**
 * The spans the Lambda platform itself records when tracing is active (X-Ray's "active tracing"),
 * as OpenTelemetry's AWS Lambda semantic conventions lay them out: the API Gateway request (a
 * SERVER span named by its route), each invocation (a SERVER span named after the function, with
 * faas.invocation_id, faas.trigger, faas.coldstart, cloud.resource_id, aws.lambda.invoked_arn) and,
 * on a cold start, its INIT phase. The function's own spans continue the invocation's through the
 * trace header Lambda hands the runtime (Lambda-Runtime-Trace-Id, in X-Ray's format), which
 * `invocationTraceHeader` writes. Spans go out through the exporter OTEL_TRACES_EXPORTER names,
 * in batches; `shutdown` sends what is left.
 */
export class PlatformTracing {
  private readonly providers = new Map<string, BasicTracerProvider>();
  private readonly propagator: TextMapPropagator;
  private readonly xray = new AWSXRayPropagator();

  /** `exporter` and `propagators` as readTracingSettings reads OTEL_TRACES_EXPORTER and OTEL_PROPAGATORS. */
  constructor(
    private readonly exporter: Exclude<TracesExporter, 'none'>,
    propagators: PropagatorName[],
    private readonly region = process.env.AWS_REGION || 'us-east-1',
  ) {
    this.propagator = createPropagator(propagators);
  }

  /** The caller's trace context from a request's headers (traceparent, b3...), as OTEL_PROPAGATORS says. */
  extract(headers: IncomingHttpHeaders): Context {
    return this.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  }

  /**
   * The API Gateway span of one request; `finish` sets the answer's status (5xx is an error, as for
   * any HTTP server span) and ends it.
   */
  startApiRequest(
    parent: Context,
    request: { method: string; path: string; host?: string; userAgent?: string; clientAddress: string },
  ): Span {
    const [address, port] = (request.host ?? '').split(':');
    return this.tracer(API_GATEWAY_SERVICE, {}).startSpan(
      request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.path,
          'url.scheme': 'http',
          'client.address': request.clientAddress,
          ...(address ? { 'server.address': address } : {}),
          ...(port ? { 'server.port': Number(port) } : {}),
          ...(request.userAgent ? { 'user_agent.original': request.userAgent } : {}),
        },
      },
      parent,
    );
  }

  /** Names the API Gateway span by the route it matched (`GET /products/{id}`). */
  routeMatched(span: Span, method: string, route: string): void {
    span.updateName(`${method} ${route}`);
    span.setAttribute('http.route', route);
  }

  finishApiRequest(span: Span, statusCode: number, requestId?: string): void {
    span.setAttribute('http.response.status_code', statusCode);
    if (requestId) span.setAttribute('aws.request_id', requestId);
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  /** The span of one invocation, from the moment Lambda accepts it. */
  startInvocation(parent: Context, target: InvocationTarget, requestId: string, trigger: Trigger): Span {
    return this.functionTracer(target).startSpan(
      target.functionName,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'faas.invocation_id': requestId,
          'cloud.resource_id': target.resourceArn,
          'aws.lambda.invoked_arn': target.invokedArn,
          'cloud.account.id': LOCAL_ACCOUNT_ID,
          ...triggerAttributes(trigger),
        },
      },
      parent,
    );
  }

  /** A cold start's INIT phase, from the environment's start (epoch ms) until its runtime asked for work. */
  recordInit(invocation: Span, target: InvocationTarget, startedAt: number, endedAt: number): void {
    this.functionTracer(target)
      .startSpan(
        INIT_SPAN_NAME,
        { kind: SpanKind.INTERNAL, startTime: startedAt },
        trace.setSpan(ROOT_CONTEXT, invocation),
      )
      .end(endedAt);
  }

  /**
   * The value of Lambda-Runtime-Trace-Id for an invocation: X-Ray's trace header
   * (`Root=1-<8 hex>-<24 hex>;Parent=<span id>;Sampled=1`), the runtime's _X_AMZN_TRACE_ID.
   */
  invocationTraceHeader(invocation: Span): string | undefined {
    const carrier: Record<string, string> = {};
    this.xray.inject(trace.setSpan(ROOT_CONTEXT, invocation), carrier, defaultTextMapSetter);
    return Object.values(carrier)[0];
  }

  finishInvocation(span: Span, end: InvocationEnd): void {
    span.setAttribute('faas.coldstart', end.coldStart);
    span.setAttribute('faas.instance', end.instance);
    if (end.errorType) {
      span.setAttribute('error.type', end.errorType);
      span.setStatus({ code: SpanStatusCode.ERROR, message: end.errorType });
    }
    span.end();
  }

  /** Exports what is still batched and stops. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.providers.values()].map((provider) => provider.shutdown()));
    this.providers.clear();
  }

  private functionTracer(target: InvocationTarget): Tracer {
    // The faas and cloud resource of a function version, as OpenTelemetry's AWS Lambda resource
    // detector describes an environment (faas.max_memory in bytes).
    return this.tracer(`${target.functionName}:${target.version}`, {
      'service.name': target.functionName,
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_lambda',
      'cloud.region': this.region,
      'faas.name': target.functionName,
      'faas.version': target.version,
      'faas.max_memory': target.memoryMb * 1024 * 1024,
    });
  }

  private tracer(key: string, attributes: Attributes): Tracer {
    let provider = this.providers.get(key);
    if (!provider) {
      provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': key, ...attributes }),
        spanProcessors: [new BatchSpanProcessor(createExporter(this.exporter))],
      });
      this.providers.set(key, provider);
    }
    return provider.getTracer('@twin/lambda/emulator');
  }
}
