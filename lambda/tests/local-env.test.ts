import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  applyLocalDefaults,
  LOCAL_CREDENTIALS,
  LOCAL_DEFAULTS,
  localStackFile,
  type LocalStackRecord,
  readLocalStack,
  removeLocalStack,
  writeLocalStack,
} from '../src/runtime/local-env';

describe('local defaults of the invoke CLI and the emulator', () => {
  it('points the handlers at the npm start stack when nothing is set', () => {
    const env: NodeJS.ProcessEnv = {};
    applyLocalDefaults(env);
    expect(env).toEqual({ ...LOCAL_DEFAULTS, ...LOCAL_CREDENTIALS });
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      TABLE_NAME: 'products',
      BUCKET: 'images',
    });
  });

  it('keeps what the environment sets, and an empty endpoint means AWS’s own', () => {
    const env: NodeJS.ProcessEnv = {
      TABLE_NAME: 'other',
      AWS_ENDPOINT_URL_S3: '',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:9000',
      AWS_PROFILE: 'dev',
    };
    applyLocalDefaults(env);
    expect(env.TABLE_NAME).toBe('other');
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toBe('http://localhost:9000');
    expect(env).not.toHaveProperty('AWS_ENDPOINT_URL_S3');
    expect(env).not.toHaveProperty('AWS_ACCESS_KEY_ID');
  });
});

describe('the running stack’s record', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'local-stack-'));
    file = path.join(dir, '.local', 'stack.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const record = (pid: number): LocalStackRecord => ({
    pid,
    env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:31500', TABLE_NAME: 'stacked' },
    endpoints: [{ name: 'dynamodb', url: 'http://127.0.0.1:31500' }],
  });

  it('is read while the process that wrote it lives, and its values fill what is unset', () => {
    writeLocalStack(record(process.pid), file);
    const stack = readLocalStack(file);
    expect(stack).toEqual(record(process.pid));

    const env: NodeJS.ProcessEnv = { TABLE_NAME: 'mine' };
    applyLocalDefaults(env, stack);
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:31500',
      TABLE_NAME: 'mine',
      AWS_ENDPOINT_URL_S3: LOCAL_DEFAULTS.AWS_ENDPOINT_URL_S3,
    });
  });

  it('is ignored once its process is gone (a launcher killed by SIGKILL leaves it behind)', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeLocalStack(record(gone), file);
    expect(readLocalStack(file)).toBeUndefined();
    expect(readLocalStack(path.join(dir, 'missing.json'))).toBeUndefined();
  });

  it('is removed only by the process that wrote it', () => {
    writeLocalStack(record(process.ppid), file);
    removeLocalStack(file);
    expect(existsSync(file)).toBe(true);
    writeLocalStack(record(process.pid), file);
    removeLocalStack(file);
    expect(existsSync(file)).toBe(false);
  });

  it('lives in the checkout’s .local/ unless LOCAL_STACK_FILE names another file', () => {
    expect(localStackFile({})).toBe(path.resolve(__dirname, '..', '..', '.local', 'stack.json'));
    expect(localStackFile({ LOCAL_STACK_FILE: file })).toBe(file);
  });
});
