import { measureInterleaved, type TargetRuns } from '../load';
import { spawnRawServer } from '../servers';
import type { ScenarioContext } from './context';

/** GET /api/products, the same page of products, through each path. */
export interface ProductsResult {
  /** Size of the answer, which the raw hop serves as well. */
  bodyBytes: number;
  /** A bare node:http server answering those bytes: the floor of any service here. */
  rawHop: TargetRuns;
  /** The mesh's backend alone, straight to DynamoDB. */
  backend: TargetRuns;
  /** The mesh's chain: frontend -> backend -> DynamoDB. */
  chain: TargetRuns;
  /** The serverless twin: the API Gateway emulation -> the products function -> DynamoDB. */
  lambda: TargetRuns;
}

/** The products list through both twins and the raw hop, in interleaved rounds. */
export async function productsScenario(ctx: ScenarioContext): Promise<ProductsResult> {
  const { settings, log } = ctx;
  const stack = await ctx.stack('plain');
  const body = await (await fetch(`${stack.url('frontend')}/api/products`)).text();
  const raw = await spawnRawServer(ctx.cleanup, body);
  // CPU time is accounted per process: the services, the launcher (dynalite, the DynamoDB stand-in)
  // and autocannon, which shares the machine with them.
  const common = { dynalite: stack.launcherPid, autocannon: process.pid };
  log(`  ${settings.rounds} rounds x ${settings.duration} s per path, ${settings.connections} connections`);
  const runs = await measureInterleaved(
    [
      { name: 'raw node:http hop', url: raw.url, pids: { 'raw server': raw.pid, autocannon: process.pid } },
      {
        name: 'mesh: backend direct',
        url: `${stack.url('backend')}/products`,
        pids: { ...stack.pids('backend'), ...common },
      },
      {
        name: 'mesh: frontend -> backend',
        url: `${stack.url('frontend')}/api/products`,
        pids: { ...stack.pids('frontend', 'backend'), ...common },
      },
      {
        name: 'Lambda: API Gateway -> products',
        url: `${stack.url('lambda')}/Prod/products`,
        pids: { 'API Gateway + Lambda emulator': stack.pids('lambda').lambda as number, ...common },
      },
    ],
    settings,
    log,
  );
  await raw.stop();
  return {
    bodyBytes: Buffer.byteLength(body),
    rawHop: runs('raw node:http hop'),
    backend: runs('mesh: backend direct'),
    chain: runs('mesh: frontend -> backend'),
    lambda: runs('Lambda: API Gateway -> products'),
  };
}
