import { readTracingSettings } from '../src/settings';

describe('readTracingSettings', () => {
  it("defaults to OTLP with OpenTelemetry's default propagation: W3C trace context and baggage", () => {
    expect(readTracingSettings('backend', {})).toEqual({
      serviceName: 'backend',
      exporter: 'otlp',
      propagators: ['tracecontext', 'baggage'],
    });
  });

  it('follows the standard variables', () => {
    expect(
      readTracingSettings('backend', {
        OTEL_SERVICE_NAME: 'backend-v2',
        OTEL_TRACES_EXPORTER: 'jaeger',
        OTEL_PROPAGATORS: 'tracecontext, b3',
      }),
    ).toEqual({ serviceName: 'backend-v2', exporter: 'jaeger', propagators: ['tracecontext', 'b3'] });
    expect(readTracingSettings('x', { OTEL_PROPAGATORS: 'none' }).propagators).toEqual([]);
  });

  it('names the variable and the choices when a value is wrong', () => {
    expect(() => readTracingSettings('x', { OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(
      "OTEL_TRACES_EXPORTER: 'zipkin' is not one of otlp, jaeger, console, none",
    );
    expect(() => readTracingSettings('x', { OTEL_PROPAGATORS: 'tracecontext,xray' })).toThrow(
      /OTEL_PROPAGATORS: 'xray'/,
    );
  });
});
