import { between, type FunctionSnapshot, functionSnapshot } from '../emulator-stats';
import { measureInterleaved, type TargetRuns } from '../load';
import { BACKEND_POD } from '../mesh';
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
  /** The mesh's apps with no proxy between them: frontend -> backend -> DynamoDB. */
  chain: TargetRuns;
  /**
   * The mesh as npm start runs it: the ingress gateway, the frontend's sidecar, the frontend, its
   * sidecar, mutual TLS to the backend pod's sidecar, the backend; every proxy a Node sidecar of the
   * local data plane (not Envoy).
   */
  sidecars: TargetRuns;
  /** The serverless twin: the API Gateway emulation -> the products function -> DynamoDB. */
  lambda: TargetRuns;
  /**
   * The function's execution environments over the rounds and the load before each (after the
   * warm-ups): a steady load runs on warm environments, so cold starts here would make it measure
   * something else.
   */
  lambdaEnvironments: { coldStarts: number; invocations: number };
}

const FUNCTION = 'ProductsFunction';

/** The products list through both twins, the mesh with and without its sidecars, and the raw hop, in interleaved rounds. */
export async function productsScenario(ctx: ScenarioContext): Promise<ProductsResult> {
  const { settings, log } = ctx;
  const stack = await ctx.stack('plain');
  const mesh = await ctx.stack('mesh');
  const body = await (await fetch(`${stack.url('frontend')}/api/products`)).text();
  const raw = await spawnRawServer(ctx.cleanup, body);
  // CPU time is accounted per process: the services, the launcher (dynalite, the DynamoDB stand-in)
  // and autocannon, which shares the machine with them.
  const common = { dynalite: stack.launcherPid, autocannon: process.pid };
  const lambdaUrl = stack.url('lambda');
  let warm: FunctionSnapshot | undefined;
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
        name: 'mesh: frontend -> backend, no proxy',
        url: `${stack.url('frontend')}/api/products`,
        pids: { ...stack.pids('frontend', 'backend'), ...common },
      },
      {
        name: 'mesh: gateway -> frontend -> backend, Node sidecars',
        url: `${mesh.url('frontend')}/api/products`,
        pids: {
          'data plane': mesh.pids('mesh').mesh as number,
          ...mesh.pids('frontend'),
          backend: mesh.pids(BACKEND_POD)[BACKEND_POD] as number,
          dynalite: mesh.launcherPid,
          autocannon: process.pid,
        },
      },
      {
        name: 'Lambda: API Gateway -> products',
        url: `${lambdaUrl}/Prod/products`,
        pids: { 'API Gateway + Lambda emulator': stack.pids('lambda').lambda as number, ...common },
      },
    ],
    settings,
    log,
    async () => {
      warm = await functionSnapshot(lambdaUrl, FUNCTION);
    },
  );
  const { coldStarts, invocations } = between(warm!, await functionSnapshot(lambdaUrl, FUNCTION));
  log(
    `  the function over the rounds (each with the load before it): ${invocations} invocations, ${coldStarts} cold starts`,
  );
  await raw.stop();
  return {
    bodyBytes: Buffer.byteLength(body),
    rawHop: runs('raw node:http hop'),
    backend: runs('mesh: backend direct'),
    chain: runs('mesh: frontend -> backend, no proxy'),
    sidecars: runs('mesh: gateway -> frontend -> backend, Node sidecars'),
    lambda: runs('Lambda: API Gateway -> products'),
    lambdaEnvironments: { coldStarts, invocations },
  };
}
