import {
  compareVersions,
  formatBytes,
  jaegerSearchUrl,
  jaegerTraceUrl,
  parseTraceResponse,
  parseWholeNumber,
  problemOf,
  productPayload,
  runPool,
  VersionSplit,
} from '../web/lib';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

describe('parseTraceResponse', () => {
  it('reads the trace id and the sampled flag', () => {
    expect(parseTraceResponse(`00-${TRACE_ID}-${SPAN_ID}-01`)).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      sampled: true,
    });
    expect(parseTraceResponse(` 00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-00 `)).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      sampled: false,
    });
  });

  it('ignores what is absent, malformed or invalid by W3C Trace Context', () => {
    for (const value of [
      null,
      undefined,
      '',
      'garbage',
      `00-${TRACE_ID}-${SPAN_ID}`,
      `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`,
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
    ])
      expect([value, parseTraceResponse(value)]).toEqual([value, undefined]);
  });
});

describe('Jaeger links', () => {
  it('build the search and trace pages under the UI base, with or without a path or trailing slash', () => {
    expect(jaegerSearchUrl('http://localhost:16686', 'frontend')).toBe(
      'http://localhost:16686/search?service=frontend',
    );
    expect(jaegerSearchUrl('https://example.com/jaeger/', 'front end')).toBe(
      'https://example.com/jaeger/search?service=front+end',
    );
    expect(jaegerTraceUrl('http://localhost:16686/', TRACE_ID)).toBe(
      `http://localhost:16686/trace/${TRACE_ID}`,
    );
    expect(jaegerTraceUrl('https://example.com/jaeger?x=1#top', TRACE_ID)).toBe(
      `https://example.com/jaeger/trace/${TRACE_ID}`,
    );
  });
});

describe('problemOf', () => {
  it("puts the API's message beside its field, without repeating the field's name", () => {
    expect(problemOf(400, { error: 'price: must not be negative', field: 'price' })).toEqual({
      message: 'Must not be negative',
      field: 'price',
    });
    expect(problemOf(400, { error: 'description: is not a known field', field: 'description' })).toEqual({
      message: 'Is not a known field',
      field: 'description',
    });
  });

  it('keeps messages that name no field whole, and explains bodies that are not API errors', () => {
    expect(problemOf(415, { error: 'file is not a supported image (jpeg, png)' })).toEqual({
      message: 'File is not a supported image (jpeg, png)',
    });
    expect(problemOf(503, null)).toEqual({ message: 'The request failed (HTTP 503).' });
    expect(problemOf(502, 'no healthy upstream')).toEqual({ message: 'The request failed (HTTP 502).' });
    expect(problemOf(400, { error: 42 })).toEqual({ message: 'The request failed (HTTP 400).' });
    expect(problemOf(500, [{ error: 'inside a list' }])).toEqual({
      message: 'The request failed (HTTP 500).',
    });
  });
});

describe('productPayload', () => {
  it('sends numbers as numbers, and anything else as typed for the API to judge', () => {
    expect(productPayload('Laptop', ' 999.99 ')).toEqual({ name: 'Laptop', price: 999.99 });
    expect(productPayload('Laptop', '-1')).toEqual({ name: 'Laptop', price: -1 });
    expect(productPayload('Laptop', 'abc')).toEqual({ name: 'Laptop', price: 'abc' });
    expect(productPayload('Laptop', '1e999')).toEqual({ name: 'Laptop', price: '1e999' });
    expect(productPayload('', '  ')).toEqual({ name: '' });
  });
});

describe('compareVersions', () => {
  it('orders numeric parts as numbers', () => {
    expect(['2.0.0', '1.10.0', '1.9.0', '1.0.0'].sort(compareVersions)).toEqual([
      '1.0.0',
      '1.9.0',
      '1.10.0',
      '2.0.0',
    ]);
    expect(['b', 'a', '1.0.0-rc'].sort(compareVersions)).toEqual(['1.0.0-rc', 'a', 'b']);
  });
});

describe('VersionSplit', () => {
  it('counts answers by version, in version order, with failures last, in percent of all', () => {
    const split = new VersionSplit();
    for (let i = 0; i < 90; i++) split.add('1.0.0');
    for (let i = 0; i < 7; i++) split.add('2.0.0');
    split.addFailure('HTTP 503');
    split.addFailure('HTTP 503');
    split.addFailure('no answer');
    expect(split.total).toBe(100);
    expect(split.rows()).toEqual([
      { label: '1.0.0', count: 90, percent: 90, failed: false },
      { label: '2.0.0', count: 7, percent: 7, failed: false },
      { label: 'HTTP 503', count: 2, percent: 2, failed: true },
      { label: 'no answer', count: 1, percent: 1, failed: true },
    ]);
  });

  it('rounds shares to one decimal, and has no rows before the first answer', () => {
    const split = new VersionSplit();
    expect([split.total, split.rows()]).toEqual([0, []]);
    split.add('2.0.0');
    split.add('1.0.0');
    split.add('1.0.0');
    expect(split.rows().map((row) => [row.label, row.percent])).toEqual([
      ['1.0.0', 66.7],
      ['2.0.0', 33.3],
    ]);
  });
});

describe('runPool', () => {
  const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

  it('runs every task once, never more than the bound at a time', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const started = await runPool(100, 6, async (index) => {
      most = Math.max(most, ++running);
      await tick();
      seen.push(index);
      running--;
    });
    expect(started).toBe(100);
    expect(most).toBe(6);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('uses no more workers than tasks, and at least one', async () => {
    let most = 0;
    let running = 0;
    const task = async () => {
      most = Math.max(most, ++running);
      await tick();
      running--;
    };
    await expect(runPool(3, 10, task)).resolves.toBe(3);
    expect(most).toBe(3);
    await expect(runPool(0, 10, task)).resolves.toBe(0);
    await expect(runPool(5, 0, task)).resolves.toBe(5);
  });

  it('starts no task after an abort, and lets the running ones finish', async () => {
    const controller = new AbortController();
    let finished = 0;
    const started = await runPool(
      50,
      4,
      async (index) => {
        if (index === 9) controller.abort();
        await tick();
        finished++;
      },
      controller.signal,
    );
    expect(started).toBe(10);
    expect(finished).toBe(10);
  });

  it('stops starting tasks after one throws, and rethrows its error once the others finish', async () => {
    let finished = 0;
    await expect(
      runPool(50, 3, async (index) => {
        await tick();
        if (index === 4) throw new Error('boom');
        finished++;
      }),
    ).rejects.toThrow('boom');
    expect(finished).toBeLessThan(10);
  });
});

describe('parseWholeNumber', () => {
  it('accepts whole numbers within bounds only', () => {
    expect(parseWholeNumber(' 100 ', 1, 1000)).toEqual({ value: 100 });
    expect(parseWholeNumber('1000', 1, 1000)).toEqual({ value: 1000 });
    for (const text of ['', '0', '1001', '-5', '2.5', '1e2', 'abc'])
      expect([text, parseWholeNumber(text, 1, 1000)]).toEqual([
        text,
        { message: 'Enter a whole number from 1 to 1000.' },
      ]);
  });
});

describe('formatBytes', () => {
  it('writes sizes as people read them', () => {
    expect([0, 512, 1000, 9_960, 12_345, 999_999, 4_500_000, 2_000_000_000].map(formatBytes)).toEqual([
      '0 B',
      '512 B',
      '1.0 kB',
      '10 kB',
      '12 kB',
      '1.0 MB',
      '4.5 MB',
      '2.0 GB',
    ]);
  });
});
