// onStopRequest in real processes: each trigger, once.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const LIFECYCLE = path.join(__dirname, '..', 'dist', 'lifecycle.js');

/** A process that reports each stop request on stdout, then exits 0 after `exitAfterMs`. */
const STOPPABLE = `
const { onStopRequest } = require(${JSON.stringify(LIFECYCLE)});
onStopRequest((reason) => {
  process.stdout.write('stop ' + reason + '\\n');
  setTimeout(() => process.exit(0), Number(process.env.EXIT_AFTER_MS));
}, { watchParent: process.env.WATCH_PARENT === '1', parentCheckMs: 50 });
setInterval(() => undefined, 1000);
process.stdout.write('ready ' + process.pid + '\\n');
`;

/** Starts `node -e STOPPABLE` with `stdio`, resolving once it is listening for stop requests. */
function startStoppable(
  stdio: 'ipc' | 'pipe',
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; lines: string[]; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['-e', STOPPABLE], {
    env: { ...process.env, EXIT_AFTER_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit', ...(stdio === 'ipc' ? (['ipc'] as const) : [])],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (lines.some((line) => line.startsWith('ready'))) resolve({ child, lines, exited });
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
  });
}

/** A parent that starts STOPPABLE with watchParent, prints the child's pid, then waits. */
const PARENT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', process.env.CHILD], {
  env: { ...process.env, WATCH_PARENT: '1', EXIT_AFTER_MS: '0' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
setInterval(() => undefined, 1000);
`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('onStopRequest', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('stops on %s', async (signal) => {
    const { child, lines, exited } = await startStoppable('pipe');
    child.kill(signal);
    expect(await exited).toBe(0);
    expect(lines.filter((line) => line.startsWith('stop'))).toEqual([`stop ${signal}`]);
  });

  it('calls stop once: later signals neither call it again nor kill the process', async () => {
    const { child, lines, exited } = await startStoppable('pipe', { EXIT_AFTER_MS: '1500' });
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGINT');
    child.kill('SIGHUP');
    expect(await exited).toBe(0);
    expect(lines.filter((line) => line.startsWith('stop'))).toEqual(['stop SIGTERM']);
  });

  it('stops when the IPC channel to its parent closes', async () => {
    const { child, lines, exited } = await startStoppable('ipc');
    child.disconnect();
    expect(await exited).toBe(0);
    expect(lines.filter((line) => line.startsWith('stop'))).toEqual(['stop disconnect']);
  });

  it('with watchParent, stops when its parent is killed with SIGKILL', async () => {
    const parent = spawn(process.execPath, ['-e', PARENT], {
      env: { ...process.env, CHILD: STOPPABLE },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const output: string[] = [];
    const pid = await new Promise<number>((resolve) =>
      parent.stdout.on('data', (chunk: Buffer) => {
        output.push(chunk.toString());
        const ready = /ready (\d+)/.exec(output.join(''));
        if (ready) resolve(Number(ready[1]));
      }),
    );
    // The child keeps writing to the pipe the test reads, so its last words arrive here.
    parent.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive(pid)).toBe(false);
    expect(output.join('')).toContain('stop parent exited');
  });
});
