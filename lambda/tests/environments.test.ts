import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createLogger } from '@twin/observability';
import { type Emulator, startEmulator } from '../src/emulator/server';
import type { PoolStats } from '../src/emulator/environment-pool';
import { waitFor } from './helpers';

// Execution environments through the real emulator: each a process of its own. Tests hold
// invocations in flight with a gate (an HTTP server the fixture function calls and that answers only
// when the test opens it), so how many run at once never depends on the machine's speed.

const FIXTURES = path.join(__dirname, 'fixtures', 'template.yaml');
const quiet = createLogger('environments-test', 'silent');

interface Gate {
  url: string;
  /** Calls that reached the gate so far. */
  arrived(): number;
  waitForArrivals(count: number): Promise<void>;
  /** Answers every waiting call, and every later one at once. */
  open(): void;
  close(): Promise<void>;
}

async function startGate(): Promise<Gate> {
  const held: ServerResponse[] = [];
  let arrivals = 0;
  let opened = false;
  const server = createServer((_req, res) => {
    arrivals += 1;
    if (opened) res.end('open');
    else held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    arrived: () => arrivals,
    waitForArrivals: async (count) => {
      await waitFor(() => (arrivals >= count ? true : undefined), `${count} calls at the gate`);
    },
    open: () => {
      opened = true;
      for (const res of held.splice(0)) res.end('open');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function versionStats(emulator: Emulator, name: string): PoolStats {
  const fn = emulator.stats().functions.find((candidate) => candidate.name === name);
  if (!fn?.versions[0]) throw new Error(`no stats for ${name}`);
  return fn.versions[0];
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

type Served = { pid: number; calls: number; version: string };

describe('execution environments, as Lambda scales', () => {
  let emulator: Emulator;
  const reports: string[] = [];
  const at = (url: string, init?: RequestInit) => fetch(`${emulator.url}${url}`, init);

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      logger: quiet,
      templatePath: FIXTURES,
      throttleRetryMs: 50,
      logs: (line, source) => {
        if (line.startsWith('REPORT ')) reports.push(`${source.functionName} ${line}`);
      },
    });
  }, 60_000);
  afterAll(() => emulator.close());

  it('starts one environment per concurrent request, each cold, and reuses them warm', async () => {
    /** 20 requests held in flight together, then let go; what each environment said. */
    const burst = async (): Promise<Served[]> => {
      const gate = await startGate();
      try {
        const pending = Array.from({ length: 20 }, () => at(`/gated?gate=${encodeURIComponent(gate.url)}`));
        // All 20 are in flight at once: each needs an environment of its own.
        await gate.waitForArrivals(20);
        expect(versionStats(emulator, 'GatedFunction').environments).toMatchObject({ alive: 20, busy: 20 });
        gate.open();
        return await Promise.all(
          pending.map(async (request) => {
            const response = await request;
            expect(response.status).toBe(200);
            return (await response.json()) as Served;
          }),
        );
      } finally {
        gate.open();
        await gate.close();
      }
    };
    const gatedReports = () => reports.filter((line) => line.startsWith('GatedFunction '));

    const first = await burst();
    // Module state is per environment: every one counted its first call.
    expect(new Set(first.map((s) => s.pid)).size).toBe(20);
    expect(first.every((s) => s.calls === 1)).toBe(true);
    expect(gatedReports()).toHaveLength(20);
    for (const line of gatedReports()) expect(line).toMatch(/\tInit Duration: [\d.]+ ms$/);
    expect(versionStats(emulator, 'GatedFunction')).toMatchObject({
      coldStarts: 20,
      environments: { alive: 20, idle: 20 },
    });

    // The next burst finds 20 warm environments: no cold start, the same processes, their state kept.
    const second = await burst();
    expect(new Set(second.map((s) => s.pid))).toEqual(new Set(first.map((s) => s.pid)));
    expect(second.every((s) => s.calls === 2)).toBe(true);
    expect(gatedReports()).toHaveLength(40);
    for (const line of gatedReports().slice(20)) expect(line).not.toContain('Init Duration');
    expect(versionStats(emulator, 'GatedFunction')).toMatchObject({ coldStarts: 20, invocations: 40 });
  }, 180_000);

  it('throttles past ReservedConcurrentExecutions: 429 from API Gateway and from the Invoke API', async () => {
    const reserved = await startGate();
    try {
      const pending = [1, 2].map(() => at(`/reserved?gate=${encodeURIComponent(reserved.url)}`));
      await reserved.waitForArrivals(2);

      const third = await at(`/reserved?gate=${encodeURIComponent(reserved.url)}`);
      // The template's INTEGRATION_FAILURE gateway response turns Lambda's throttle into a 429.
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('1');
      const invoked = await at('/2015-03-31/functions/ReservedFunction/invocations', {
        method: 'POST',
        body: JSON.stringify({ gate: reserved.url }),
      });
      expect(invoked.status).toBe(429);
      expect(invoked.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
      expect(await invoked.json()).toEqual({
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        Type: 'User',
        message: 'Rate Exceeded.',
      });

      // An asynchronous event is accepted, throttled, and retried once there is room.
      const queued = await at('/2015-03-31/functions/ReservedFunction/invocations', {
        method: 'POST',
        headers: { 'x-amz-invocation-type': 'Event' },
        body: JSON.stringify({ gate: reserved.url }),
      });
      expect(queued.status).toBe(202);
      await waitFor(
        () =>
          emulator.stats().functions.find((fn) => fn.name === 'ReservedFunction')!.throttles >= 3
            ? true
            : undefined,
        'the event to be throttled',
      );
      expect(reserved.arrived()).toBe(2);

      reserved.open();
      for (const response of await Promise.all(pending)) expect(response.status).toBe(200);
      await reserved.waitForArrivals(3);
      const stats = emulator.stats().functions.find((fn) => fn.name === 'ReservedFunction');
      expect(stats).toMatchObject({ reservedConcurrency: 2 });
      expect(stats!.versions[0]!.environments.alive).toBeLessThanOrEqual(2);
    } finally {
      reserved.open();
      await reserved.close();
    }
  }, 60_000);

  it('stops a function at its Timeout and replaces its environment', async () => {
    const pending = at('/2015-03-31/functions/SlowFunction/invocations', { method: 'POST', body: '{}' });
    const busy = await waitFor(
      () => versionStats(emulator, 'SlowFunction').instances.find((instance) => instance.state === 'busy'),
      'the invocation to start',
    );
    const response = await pending;
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await response.json()).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 1.00 seconds',
    });
    // Nothing of it keeps running.
    await waitFor(() => (isAlive(busy.pid!) ? undefined : true), 'the timed-out process to end');
    expect(versionStats(emulator, 'SlowFunction')).toMatchObject({
      discarded: 1,
      environments: { alive: 0 },
    });

    await at('/2015-03-31/functions/SlowFunction/invocations', { method: 'POST', body: '{}' });
    expect(versionStats(emulator, 'SlowFunction')).toMatchObject({ coldStarts: 2, discarded: 2 });
    const slow = reports.filter((line) => line.startsWith('SlowFunction '));
    for (const line of slow) expect(line).toMatch(/\tInit Duration: [\d.]+ ms\tStatus: timeout$/);
  }, 60_000);

  it('ends an invocation whose heap outgrows MemorySize as Lambda reports it, and discards the environment', async () => {
    const response = await at('/2015-03-31/functions/HogFunction/invocations', {
      method: 'POST',
      body: '{}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    const error = await response.json();
    expect(error).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${response.headers.get('x-amzn-requestid')} Error: Runtime exited with error: signal: aborted`,
    });
    expect(versionStats(emulator, 'HogFunction')).toMatchObject({ discarded: 1, environments: { alive: 0 } });
    expect(reports.find((line) => line.startsWith('HogFunction '))).toMatch(
      /\tMemory Size: 128 MB\t.*\tStatus: error\tError Type: Runtime\.ExitError$/,
    );
  }, 60_000);

  it('reports a handler that does not load as the Node.js runtime does', async () => {
    const response = await at('/2015-03-31/functions/MissingHandlerFunction/invocations', {
      method: 'POST',
      body: '{}',
    });
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await response.json()).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'handlers.missing is undefined or not exported',
    });
    expect(versionStats(emulator, 'MissingHandlerFunction').environments.alive).toBe(0);
  }, 60_000);
});

describe('idle execution environments', () => {
  it('are reclaimed after the idle time, so the next request starts cold', async () => {
    const gate = await startGate();
    const reports: string[] = [];
    const emulator = await startEmulator({
      port: 0,
      logger: quiet,
      templatePath: FIXTURES,
      idleTimeoutMs: 200,
      logs: (line) => line.startsWith('REPORT ') && reports.push(line),
    });
    try {
      const burst = Array.from({ length: 5 }, () =>
        fetch(`${emulator.url}/gated?gate=${encodeURIComponent(gate.url)}`),
      );
      await gate.waitForArrivals(5);
      const pids = versionStats(emulator, 'GatedFunction').instances.map((instance) => instance.pid!);
      expect(pids).toHaveLength(5);
      gate.open();
      await Promise.all(burst);

      // Scale to zero: every environment shut down, every process gone.
      await waitFor(
        () => (versionStats(emulator, 'GatedFunction').environments.alive === 0 ? true : undefined),
        'the idle environments to be reclaimed',
      );
      expect(versionStats(emulator, 'GatedFunction')).toMatchObject({ reclaimed: 5 });
      await waitFor(() => (pids.some(isAlive) ? undefined : true), 'the reclaimed processes to end');

      const later = (await (await fetch(`${emulator.url}/gated`)).json()) as Served;
      expect(later.calls).toBe(1);
      expect(reports.at(-1)).toMatch(/\tInit Duration: [\d.]+ ms$/);
      expect(versionStats(emulator, 'GatedFunction')).toMatchObject({ coldStarts: 6 });
    } finally {
      await emulator.close();
      await gate.close();
    }
  }, 120_000);
});
