import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAMBDA_DIR } from '../template/template';

/**
 * Where the handlers find their stores when they run on this machine: the `npm start` stack's
 * dynalite and s3rver, its bucket and table. Each applies only when its variable is unset.
 */
export const LOCAL_DEFAULTS: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
  TABLE_NAME: 'products',
  BUCKET: 'images',
};

/** s3rver's own credentials: it checks signatures against these and accepts no others; dynalite accepts any. */
export const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

/**
 * What a running `npm start` records about itself while it runs, so that tools started beside it
 * (`npm run invoke -w lambda`) find its stores on whatever ports it was given.
 */
export interface LocalStackRecord {
  /** The launcher's process id: the record holds only while that process lives. */
  pid: number;
  /**
   * The stack's values of the `LOCAL_DEFAULTS` variables (AWS_ENDPOINT_URL_DYNAMODB,
   * AWS_ENDPOINT_URL_S3, TABLE_NAME, BUCKET), as its functions get them.
   */
  env: Record<string, string>;
  /** Every endpoint, as the ready table prints them. */
  endpoints: Array<{ name: string; url: string }>;
}

/** The record's place: `LOCAL_STACK_FILE`, or `.local/stack.json` in this checkout. */
export function localStackFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCAL_STACK_FILE || path.join(LAMBDA_DIR, '..', '.local', 'stack.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The running stack's record, or undefined when there is none, it is not readable, or the process
 * that wrote it is gone (a launcher killed by SIGKILL leaves its file behind).
 */
export function readLocalStack(file = localStackFile()): LocalStackRecord | undefined {
  let record: LocalStackRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as LocalStackRecord;
  } catch {
    return undefined;
  }
  return Number.isInteger(record?.pid) && alive(record.pid) && typeof record.env === 'object'
    ? record
    : undefined;
}

/** Writes the record (atomically: a reader sees the old file or the new one, never half of it). */
export function writeLocalStack(record: LocalStackRecord, file = localStackFile()): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(partial, file);
}

/** Removes the record if this process wrote it (another stack may have replaced it since). */
export function removeLocalStack(file = localStackFile()): void {
  let record: Partial<LocalStackRecord> | undefined;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalStackRecord>;
  } catch {
    return;
  }
  if (record?.pid === process.pid) rmSync(file, { force: true });
}

/**
 * Fills in where the handlers find their stores: each variable the environment leaves unset takes
 * the running stack's value (`stack`, from `readLocalStack()`), else its `LOCAL_DEFAULTS` value. An
 * endpoint variable set to the empty string is removed instead, so the SDK uses the service's own
 * endpoint (AWS). Credentials are added only when neither a key nor a profile is configured. Call it
 * before a handler module is loaded: handlers read the environment once, when their container starts.
 */
export function applyLocalDefaults(env: NodeJS.ProcessEnv = process.env, stack?: LocalStackRecord): void {
  for (const [name, value] of Object.entries(LOCAL_DEFAULTS)) {
    if (env[name] === undefined) env[name] = stack?.env[name] ?? value;
    else if (env[name] === '' && name.startsWith('AWS_ENDPOINT_URL_')) delete env[name];
  }
  if (env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined)
    Object.assign(env, LOCAL_CREDENTIALS);
}
