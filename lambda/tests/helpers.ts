import type { APIGatewayProxyEvent } from 'aws-lambda';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiRouter, buildProxyEvent } from '../src/emulator/api-gateway';
import { loadTemplate } from '../src/template/template';

export const LAMBDA_DIR = path.resolve(__dirname, '..');

const template = loadTemplate();
const router = new ApiRouter(template.functions, template.api);

/**
 * The REST API (v1) event API Gateway would send for this request, routed by the template's Api
 * events, as the emulator builds it.
 */
export function apiEvent(
  method: string,
  url: string,
  { body, contentType }: { body?: string | Buffer; contentType?: string } = {},
): APIGatewayProxyEvent {
  const match = router.match(method, url.split('?')[0] as string);
  if (!match) throw new Error(`the template has no route for ${method} ${url}`);
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const rawHeaders = ['Host', 'localhost', 'User-Agent', 'jest'];
  if (contentType) rawHeaders.push('Content-Type', contentType);
  if (body !== undefined) rawHeaders.push('Content-Length', String(bytes.length));
  return buildProxyEvent({ method, url, rawHeaders, body: bytes, sourceIp: '127.0.0.1' }, match, 'test');
}

/**
 * Sets the variables a handler reads when its module loads (as a container starts), then loads it.
 * Each test file has its own module registry, so each gets its own "container".
 */
export function loadHandlerModule<T extends object>(modulePath: string, env: Record<string, string>): T {
  Object.assign(process.env, env);
  return jest.requireActual<T>(modulePath);
}

/** The child-process tests run the compiled CLI and emulator, as users and the local stack do. */
export function requireBuilt(file: string): string {
  const built = path.join(LAMBDA_DIR, 'dist', file);
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npx tsc -b lambda\` first`);
  return built;
}

/** Polls `probe` every 50 ms until it gives a value; throws naming `what` after `ms`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node dist/invoke.js ...` from lambda/, as `npm run invoke -w lambda -- ...` runs it, with only
 * PATH, LOG_LEVEL=warn and `env` set; `LOCAL_STACK_FILE` names no file unless `env` names one, so a
 * stack a developer runs in this checkout is not found.
 */
export function runInvokeCli(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<CliRun> {
  const cli = requireBuilt('invoke.js');
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      {
        cwd: LAMBDA_DIR,
        env: {
          PATH: process.env.PATH,
          LOG_LEVEL: 'warn',
          LOCAL_STACK_FILE: path.join(tmpdir(), `no-local-stack-${process.pid}.json`),
          ...env,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
