// `npm run invoke -w lambda` beside a running `npm start` on ports of its own: the CLI finds the
// stack's stores through the record the launcher keeps while it runs, and says what to set once it
// is gone.
import { existsSync, readFileSync } from 'node:fs';
import { runInvokeCli } from '../../lambda/tests/helpers';
import { freePort } from '../src/ports';
import { killGroup, type RunningStack, startStackProcess, waitGone } from './launcher';

// Generous bounds on waits (a stack start, a function's bundle and cold start), never timings.
jest.setTimeout(180_000);

let stack: RunningStack | undefined;
afterAll(() => killGroup(stack));

const urlOf = (name: string) => {
  const url = stack?.rows.find((row) => row.name === name)?.url;
  if (!url) throw new Error(`no ${name} in the ready table`);
  return url;
};

describe('npm run invoke -w lambda against npm start', () => {
  it('finds the running stack on the ports it was given, and works on its table', async () => {
    stack = await startStackProcess('node', { LOG_LEVEL: 'warn' }, ['--no-mesh', '--table', 'stacked']);
    const record = JSON.parse(readFileSync(stack.stackFile, 'utf8'));
    expect(record).toMatchObject({
      pid: stack.launcher,
      env: {
        AWS_ENDPOINT_URL_DYNAMODB: urlOf('dynamodb'),
        AWS_ENDPOINT_URL_S3: urlOf('s3'),
        TABLE_NAME: 'stacked',
        BUCKET: 'images',
      },
    });
    expect(record.endpoints).toContainEqual({ name: 'lambda', url: urlOf('lambda') });

    // Nothing but the record tells the CLI where the stack is.
    const run = await runInvokeCli(['products', 'events/create-product.json'], {
      LOCAL_STACK_FILE: stack.stackFile,
    });
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(answer.statusCode).toBe(201);
    const created = JSON.parse(answer.body);
    const stored = await fetch(`${urlOf('backend')}/products/${created.id}`);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual(created);
  });

  it('forgets the stack once it stops, then names the variable to set', async () => {
    const running = stack as RunningStack;
    process.kill(running.launcher, 'SIGTERM');
    expect(await waitGone(running.pids, 60_000)).toEqual([]);
    expect(existsSync(running.stackFile)).toBe(false);

    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await runInvokeCli(['products', 'events/list-products.json'], {
      LOCAL_STACK_FILE: running.stackFile,
      AWS_ENDPOINT_URL_DYNAMODB: closed,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `nothing answers at ${closed} (AWS_ENDPOINT_URL_DYNAMODB): no npm start is running`,
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
