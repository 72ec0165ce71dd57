// LAMBDA_VERSIONS_FILE as a relative path, given to the launcher started either way a user starts it:
// through npm (which sets INIT_CWD) and with node directly (no INIT_CWD), from the checkout's root.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { invokePath } from '@twin/lambda/dist/emulator/paths';
import { killGroup, REPOSITORY_ROOT, type RunningStack, startStackProcess, waitGone } from './launcher';

describe('LAMBDA_VERSIONS_FILE relative to where the launcher runs', () => {
  let stack: RunningStack | undefined;
  afterEach(() => {
    killGroup(stack);
    stack = undefined;
  });

  it.each(['npm', 'node'] as const)(
    'via %s, lambda/canary.json publishes version 2 at 10%%',
    async (via) => {
      stack = await startStackProcess(
        via,
        { LAMBDA_VERSIONS_FILE: 'lambda/canary.json', LOG_LEVEL: 'warn' },
        ['--no-mesh', '--thumbnails', 'lambda'],
      );
      const lambda = stack.rows.find((row) => row.name === 'lambda')?.url;
      const alias = await fetch(`${lambda}/2015-03-31/functions/ProductsFunction/aliases/live`);
      expect(alias.status).toBe(200);
      expect(await alias.json()).toMatchObject({
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } },
      });
      const version2 = await fetch(`${lambda}${invokePath('ProductsFunction:2')}`, {
        method: 'POST',
        body: readFileSync(path.join(REPOSITORY_ROOT, 'lambda', 'events', 'version.json')),
      });
      expect(version2.status).toBe(200);
      expect(JSON.parse(((await version2.json()) as { body: string }).body)).toMatchObject({
        version: '2.0.0',
      });
      process.kill(stack.launcher, 'SIGTERM');
      expect(await waitGone(stack.pids, 40_000)).toEqual([]);
    },
    150_000,
  );
});
