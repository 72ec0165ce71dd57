// The external commands the judge runs (promote.sh, kubectl, docker compose, the AWS CLI), with their
// output kept for the report and a clear error when one fails.
import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  override name = 'CommandError';
}

/** A command line as a person would type it: each word quoted when the shell would need it. */
export function shellLine(argv: readonly string[]): string {
  return argv
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/**
 * Runs `argv` (no shell) and resolves with its output.
 * @throws CommandError naming the command, its exit status and the end of its stderr when it fails
 * or cannot start.
 */
export function run(
  argv: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(
      file!,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const why =
          (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : err.message.split('\n')[0];
        const tail = stderr.trim().split('\n').slice(-5).join('\n');
        reject(new CommandError(`${shellLine(argv)}: ${why}${tail ? `\n${tail}` : ''}`));
      },
    );
  });
}
