import { context, propagation, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import type { RecordResult } from './results';

const tracer = trace.getTracer('@twin/thumbnails');

/** One name for every record (the key is an attribute), so Jaeger groups them as one operation. */
export const THUMBNAIL_SPAN_NAME = 'create thumbnail';

export interface ThumbnailSpanTarget {
  readonly bucket: string;
  readonly key: string;
  readonly thumbnailKey: string;
  readonly sourceBytes: number | undefined;
}

/**
 * Runs one record's work in a span that continues the upload's trace: the uploader stores W3C `traceparent` /
 * `tracestate` in the object's user metadata. Without them the span is a child of the active context (e.g. the
 * incoming request). With them, the active span, if any, is linked instead, so both traces lead to this span.
 */
export async function withThumbnailSpan(
  target: ThumbnailSpanTarget,
  sourceMetadata: Record<string, string>,
  work: () => Promise<RecordResult>,
): Promise<RecordResult> {
  const active = context.active();
  const parent = propagation.extract(active, sourceMetadata);
  const activeSpan = trace.getSpanContext(active);
  const links: Link[] =
    activeSpan && activeSpan.spanId !== trace.getSpanContext(parent)?.spanId ? [{ context: activeSpan }] : [];
  const attributes = {
    'aws.s3.bucket': target.bucket,
    'aws.s3.key': target.key,
    'thumbnail.key': target.thumbnailKey,
    ...(target.sourceBytes === undefined ? {} : { 'thumbnail.source.size': target.sourceBytes }),
  };
  return tracer.startActiveSpan(
    THUMBNAIL_SPAN_NAME,
    { kind: SpanKind.CONSUMER, attributes, links },
    parent,
    async (span) => {
      try {
        const result = await work();
        span.setAttribute('thumbnail.outcome', result.outcome);
        if ('reason' in result) span.setAttribute('thumbnail.reason', result.reason);
        if (result.outcome === 'failed') {
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.message });
        }
        return result;
      } catch (error) {
        span.setAttribute('thumbnail.outcome', 'transient-error');
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * The user metadata an uploader stores on an object so that the thumbnail's span continues the
 * upload's trace: W3C `traceparent` and `tracestate` of the active context (empty when there is none).
 */
export function traceMetadata(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.fromEntries(
    Object.entries(carrier).filter(([name]) => name === 'traceparent' || name === 'tracestate'),
  );
}
