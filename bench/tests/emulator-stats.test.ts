import { createLogger } from '@twin/observability';
import { type Emulator, startEmulator } from '@twin/lambda/dist/emulator/server';
import { type LoggedInvocation, parseInvocation } from '../src/emulator-log';
import { waitFor } from '../../lambda/tests/helpers';
import { between, functionSnapshot } from '../src/emulator-stats';

// The burst scenario's counting, against the real emulator (lambda/template.yaml's hello function,
// which needs no store), with an idle time short enough to watch environments be reclaimed: cold
// starts from the admin endpoint, their inits from the invocation records the emulator logs.

const FUNCTION = 'HelloFunction';

describe("the emulator's counters for one function", () => {
  let emulator: Emulator;
  const records: LoggedInvocation[] = [];
  const inits = () => records.flatMap((r) => (r.initDurationMs === undefined ? [] : [r.initDurationMs]));

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      logger: createLogger('bench-test', 'info', {
        write: (line: string) => {
          const record = parseInvocation(line);
          if (record?.function === FUNCTION) records.push(record);
        },
      }),
      idleTimeoutMs: 300,
      logs: () => undefined,
    });
  }, 120_000);
  afterAll(() => emulator.close());

  it('counts the cold starts of a burst with their inits, then the reclaim that makes the next one cold', async () => {
    const before = await functionSnapshot(emulator.url, FUNCTION);
    expect(before).toMatchObject({ alive: 0, coldStarts: 0, invocations: 0, reclaimed: 0 });

    const answers = await Promise.all(Array.from({ length: 3 }, () => fetch(`${emulator.url}/hello`)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const after = await functionSnapshot(emulator.url, FUNCTION);
    const burst = between(before, after);
    // However the three overlapped on this machine, each new environment is one cold start; one that
    // finished early may already be reclaimed (after 300 ms idle) when the snapshot is taken.
    expect(burst.invocations).toBe(3);
    expect(burst.coldStarts).toBeGreaterThanOrEqual(1);
    expect(after.alive + burst.reclaimed).toBe(burst.coldStarts);

    const idle = await waitFor(async () => {
      const now = await functionSnapshot(emulator.url, FUNCTION);
      return now.alive === 0 ? now : undefined;
    }, 'the idle environments to be reclaimed');
    expect(between(before, idle)).toMatchObject({
      reclaimed: burst.coldStarts,
      coldStarts: burst.coldStarts,
    });
    // The reclaimed environments are gone from the endpoint; each cold start's init is in its record.
    await waitFor(
      async () => (records.length >= 3 && inits().length >= burst.coldStarts ? true : undefined),
      'the records',
    );
    expect(records).toHaveLength(3);
    expect(inits()).toHaveLength(burst.coldStarts);
    expect(inits().every((ms) => ms > 0)).toBe(true);

    records.length = 0;
    expect((await fetch(`${emulator.url}/hello`)).status).toBe(200);
    const again = between(idle, await functionSnapshot(emulator.url, FUNCTION));
    expect(again).toMatchObject({ invocations: 1, coldStarts: 1 });
    await waitFor(async () => (inits().length >= 1 ? true : undefined), 'the record of the cold start');
    expect(inits()).toHaveLength(1);
  }, 120_000);

  it('names a function the emulator does not have', async () => {
    await expect(functionSnapshot(emulator.url, 'NoSuchFunction')).rejects.toThrow(
      'the emulator has no function NoSuchFunction',
    );
  });
});
