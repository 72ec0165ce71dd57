import type { TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import type { PropagatorName } from './settings';

/** The propagators OTEL_PROPAGATORS names, in its order, as one (readTracingSettings parses the list). */
export function createPropagator(names: PropagatorName[]): TextMapPropagator {
  const byName: Record<PropagatorName, () => TextMapPropagator> = {
    tracecontext: () => new W3CTraceContextPropagator(),
    baggage: () => new W3CBaggagePropagator(),
    b3: () => new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }),
    b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  };
  return new CompositePropagator({ propagators: names.map((name) => byName[name]()) });
}
