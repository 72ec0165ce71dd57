// Runs `npm start` (or the launcher alone) as a user does, and reads what it prints: the processes
// of the stack, and the addresses they listen on.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REPOSITORY_ROOT = path.join(__dirname, '..', '..');
export const MAIN = path.join(REPOSITORY_ROOT, 'local', 'dist', 'main.js');

/** The ready table's rows of the default stack (the mesh: three backend pods), in order. */
export const DEFAULT_STACK_ROWS = [
  'frontend',
  'backend-v1-0',
  'backend-v1-1',
  'backend-v2-0',
  'thumbnailer',
  'lambda',
  'dynamodb',
  's3',
  'jaeger',
  'mesh',
];

/** Every port of the stack picked by the OS. */
export const ANY_PORTS = {
  FRONTEND_PORT: '0',
  BACKEND_PORT: '0',
  THUMBNAILER_PORT: '0',
  LAMBDA_PORT: '0',
  DYNAMODB_PORT: '0',
  S3_PORT: '0',
  JAEGER_PORT: '0',
  MESH_ADMIN_PORT: '0',
};

export interface ReadyRow {
  name: string;
  url: string;
  pid: number;
}

export interface RunningStack {
  /** The process that was spawned: npm, or the launcher itself. */
  process: ChildProcess;
  /** Where it records its endpoints while it runs (LOCAL_STACK_FILE; a file of its own per test stack). */
  stackFile: string;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  rows: ReadyRow[];
  /** The launcher's pid (the one of the in-process stores). */
  launcher: number;
  /** The launcher's children: services, pods, the data plane, the Lambda emulator. */
  children: number[];
  /** Every pid of the stack: the spawned process, the launcher, and every process below it. */
  pids: number[];
}

/** The processes whose parent is `pid` (pgrep, Linux and macOS). */
export function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/** Every process below `pid`: its children, theirs (e.g. esbuild's service, Lambda environments)... */
export function descendants(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [child, ...descendants(child)]);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}

/** The rows of the ready table: `  name  url  pid N  what`. */
export function readyRows(banner: string): ReadyRow[] {
  return [...banner.matchAll(/^ {2}(\S+) +(http:\/\/\S+) +pid (\d+) /gm)].map(([, name, url, pid]) => ({
    name: name as string,
    url: url as string,
    pid: Number(pid),
  }));
}

let stacks = 0;

/**
 * A file of its own for a launcher a test starts to record its endpoints in (its LOCAL_STACK_FILE),
 * so that no test run overwrites or removes the checkout's .local/stack.json of a running npm start.
 */
export function ownStackFile(): string {
  return path.join(tmpdir(), `twin-stack-${process.pid}-${++stacks}.json`);
}

/**
 * Starts the stack through `npm start` (`via: 'npm'`) or `node [nodeArgs] local/dist/main.js`, in its own
 * process group so a test can signal the group as a closed terminal does, and waits for the ready
 * table. It records its endpoints in a temporary file of its own (not the checkout's .local/), unless
 * `env` names one.
 */
export async function startStackProcess(
  via: 'npm' | 'node',
  env: Record<string, string> = {},
  args: string[] = [],
  nodeArgs: string[] = [],
): Promise<RunningStack> {
  const [command, ...commandArgs] =
    via === 'npm'
      ? ['npm', 'start', ...(args.length ? ['--', ...args] : [])]
      : [process.execPath, ...nodeArgs, MAIN, ...args];
  const stackFile = ownStackFile();
  // npm sets INIT_CWD to where it was run; a user running node directly has none (jest's npm has).
  const { INIT_CWD: _npmCwd, ...inherited } = process.env;
  const child = spawn(command as string, commandArgs, {
    cwd: REPOSITORY_ROOT,
    env: { ...inherited, ...ANY_PORTS, LOCAL_STACK_FILE: stackFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const banner = await waitForOutput(child, /Ctrl-C stops everything/, 90_000);
  const rows = readyRows(banner);
  const launcher = rows.find((row) => row.name === 'dynamodb')?.pid;
  if (!launcher) throw new Error(`no ready table in:\n${banner}`);
  return {
    process: child,
    stackFile: env.LOCAL_STACK_FILE ?? stackFile,
    output: () => output,
    rows,
    launcher,
    children: childrenOf(launcher),
    pids: [
      ...new Set([child.pid as number, launcher, ...descendants(launcher), ...rows.map((row) => row.pid)]),
    ],
  };
}

/** Waits until none of `pids` is alive; returns those still alive at the deadline. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return pids.filter(alive);
}

/** Kills whatever is left of a stack started by `startStackProcess` (its whole process group). */
export function killGroup(stack: RunningStack | undefined): void {
  if (!stack?.process.pid) return;
  try {
    process.kill(-stack.process.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  for (const pid of stack.pids.filter(alive)) process.kill(pid, 'SIGKILL');
}

/**
 * The addresses listening on a TCP port, from /proc/net/tcp and tcp6 (Linux): `127.0.0.1:8080` or
 * `0.0.0.0:8080` for IPv4, the raw hex address in brackets for IPv6 (`[0000...0000]:8080` is ::).
 */
export function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local) continue; // 0A: LISTEN
      const [hex = '', portHex = ''] = local.split(':');
      if (parseInt(portHex, 16) !== port) continue;
      // IPv4 is one little-endian 32-bit word.
      const ipv4 = (hex.match(/../g) ?? []).map((byte) => parseInt(byte, 16)).reverse();
      found.push(`${hex.length === 8 ? ipv4.join('.') : `[${hex}]`}:${port}`);
    }
  }
  return found;
}
