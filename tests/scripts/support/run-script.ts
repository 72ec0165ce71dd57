import { spawn } from 'node:child_process';
import path from 'node:path';

export const SCRIPTS_DIR = path.resolve(__dirname, '..', '..', '..', 'scripts');

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args` from the repository root and collects its output. With `timeoutMs`, a command
 * still running then is killed (SIGKILL) and the promise rejects with what it printed; without it,
 * only the test's own timeout bounds the run.
 */
export function runCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs?: number,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: path.dirname(SCRIPTS_DIR),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL');
            reject(
              new Error(
                `${path.basename(args[0] ?? command)} ${args.slice(1).join(' ')} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`,
              ),
            );
          }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs scripts/<name> with bash, as a user would from the repository root, and collects its output. */
export function runScript(
  name: string,
  args: string[] = [],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ScriptResult> {
  return runCommand('bash', [path.join(SCRIPTS_DIR, name), ...args], env, timeoutMs);
}
