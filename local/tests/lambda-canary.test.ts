import type { ServiceStats } from '@twin/lambda';
import { aliasPath, FUNCTIONS_PATH } from '@twin/lambda/dist/emulator/paths';
import type { Stack } from '../src';
import { startTestStack } from '../../tests/support/stack';

// npm start -- --lambda-canary 50: the products function's version 2 published from lambda/canary.json
// and half its invocations sent there by the live alias, as the mesh's --canary splits the backend.

const REQUESTS = 100;

describe('npm start -- --lambda-canary: the Lambda canary in the local stack', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startTestStack({ lambdaCanary: 50 });
  }, 90_000);
  afterAll(() => stack?.stop());

  it("routes the products function's live alias 50/50 between versions 1 and 2", async () => {
    const lambda = stack.url('lambda');
    const alias = (await (await fetch(`${lambda}${aliasPath('ProductsFunction', 'live')}`)).json()) as {
      FunctionVersion: string;
      RoutingConfig: { AdditionalVersionWeights: Record<string, number> };
    };
    expect(alias).toMatchObject({
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
    });
    expect(stack.endpoints.find((e) => e.name === 'lambda')?.what).toContain('ProductsFunction:live 50/50');

    const counts: Record<string, number> = {};
    for (let i = 0; i < REQUESTS; i++) {
      const response = await fetch(`${lambda}/Prod/version`);
      expect(response.status).toBe(200);
      const { version } = (await response.json()) as { version: string };
      counts[version] = (counts[version] ?? 0) + 1;
    }
    // Binomial(100, 0.5) falls outside 25..75 about once in 5 million runs.
    expect(Object.keys(counts).sort()).toEqual(['1.0.0', '2.0.0']);
    expect(counts['2.0.0']).toBeGreaterThanOrEqual(25);
    expect(counts['2.0.0']).toBeLessThanOrEqual(75);
    // Each answer came from the version the emulator counted it under.
    const stats = (await (await fetch(`${lambda}${FUNCTIONS_PATH}`)).json()) as ServiceStats;
    const versions = stats.functions.find((fn) => fn.name === 'ProductsFunction')!.versions;
    const invocations = Object.fromEntries(versions.map((pool) => [pool.version, pool.invocations]));
    expect(invocations).toMatchObject({ '1': counts['1.0.0'], '2': counts['2.0.0'] });
  }, 120_000);
});
