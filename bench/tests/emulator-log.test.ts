import { parseInvocation } from '../src/emulator-log';

describe("the emulator's invocation records", () => {
  it('reads a warm invocation and a cold one with its init', () => {
    const line = (extra: Record<string, unknown>) =>
      JSON.stringify({
        level: 'info',
        msg: 'invocation',
        function: 'ProductsFunction',
        durationMs: 3.2,
        ...extra,
      });
    expect(parseInvocation(line({ coldStart: false }))).toEqual({
      function: 'ProductsFunction',
      durationMs: 3.2,
      initDurationMs: undefined,
      coldStart: false,
    });
    expect(parseInvocation(line({ initDurationMs: 180.5 }))).toMatchObject({
      coldStart: true,
      initDurationMs: 180.5,
    });
    expect(parseInvocation(line({ coldStart: true }))?.coldStart).toBe(true);
  });

  it('passes over every other line', () => {
    expect(parseInvocation('REPORT RequestId: 1\tDuration: 2 ms')).toBeUndefined();
    expect(parseInvocation('{"msg":"invocation" broken')).toBeUndefined();
    expect(parseInvocation(JSON.stringify({ msg: 'invocation', function: 'F' }))).toBeUndefined();
    expect(parseInvocation(JSON.stringify({ msg: 'started', function: 'F', durationMs: 1 }))).toBeUndefined();
  });
});
