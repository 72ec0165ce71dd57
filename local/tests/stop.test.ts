// No process outlives the stack, whichever process of `npm start`'s chain (npm -> the launcher ->
// the services) is signalled, and the services go by themselves when the launcher is killed.
import {
  alive,
  DEFAULT_STACK_ROWS,
  descendants,
  killGroup,
  listeningAddresses,
  type RunningStack,
  startStackProcess,
  waitGone,
} from './launcher';

// Generous: the services drain for up to 8 s; this bounds a hang, it does not time the stop.
const GONE_WITHIN_MS = 40_000;

const ports = (stack: RunningStack) => stack.rows.map((row) => Number(new URL(row.url).port));

describe('stopping npm start', () => {
  let stack: RunningStack | undefined;
  afterEach(() => {
    killGroup(stack);
    stack = undefined;
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s to npm stops every process of the stack',
    async (signal) => {
      stack = await startStackProcess('npm');
      expect(stack.rows.map((row) => row.name)).toEqual(DEFAULT_STACK_ROWS);
      // Three backend pods, the thumbnailer, the frontend, the Lambda emulator, the data plane.
      expect(stack.children).toHaveLength(7);
      expect(stack.pids.every(alive)).toBe(true);

      process.kill(stack.process.pid as number, signal);
      expect(await waitGone(stack.pids, GONE_WITHIN_MS)).toEqual([]);
      // npm passes SIGTERM and SIGINT on; SIGHUP kills npm alone, and the launcher sees its parent go.
      expect(stack.output()).toContain(
        signal === 'SIGHUP' ? 'parent exited: stopping' : `${signal}: stopping`,
      );
      for (const port of ports(stack)) expect(listeningAddresses(port)).toEqual([]);
    },
    150_000,
  );

  it('SIGHUP to the whole process group (a terminal closing) stops every process', async () => {
    stack = await startStackProcess('npm');
    process.kill(-(stack.process.pid as number), 'SIGHUP');
    expect(await waitGone(stack.pids, GONE_WITHIN_MS)).toEqual([]);
  }, 150_000);

  it('the services stop by themselves when the launcher is killed with SIGKILL', async () => {
    stack = await startStackProcess('node');
    expect(stack.children).toHaveLength(7);
    // A function invoked once keeps its execution environment, a process of the emulator's.
    const before = descendants(stack.launcher);
    const lambda = stack.rows.find((row) => row.name === 'lambda')?.url;
    expect((await fetch(`${lambda}/hello`)).status).toBe(200);
    const processes = descendants(stack.launcher);
    expect(processes.length).toBeGreaterThan(before.length);
    process.kill(stack.launcher, 'SIGKILL');
    expect(await waitGone(processes, GONE_WITHIN_MS)).toEqual([]);
    for (const port of ports(stack)) expect(listeningAddresses(port)).toEqual([]);
  }, 150_000);
});
