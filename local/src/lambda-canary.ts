import path from 'node:path';
// The template reader alone: the package's index loads the whole emulator.
import { aliasPath } from '@twin/lambda/dist/emulator/paths';
import { loadTemplate } from '@twin/lambda/dist/template/template';
import { REPO_ROOT } from './mesh';

/** The function `--lambda-canary` splits, the serverless twin of the mesh's backend. */
export const LAMBDA_CANARY_FUNCTION = 'ProductsFunction';

/** The versions file it publishes: version 2 of the products function, APP_VERSION 2.0.0. */
export const LAMBDA_CANARY_FILE = path.join(REPO_ROOT, 'lambda', 'canary.json');

/**
 * Sends `percent` (1..100) of the products function's invocations through its AutoPublishAlias to
 * version 2, with Lambda's UpdateAlias (PUT /2015-03-31/functions/{name}/aliases/{alias}) on the
 * emulator at `lambdaUrl`, as a CodeDeploy canary step does: the alias stays on version 1 with
 * version 2 as its additional version at percent/100, and at 100 the alias points at version 2.
 * The emulator must have been started with LAMBDA_CANARY_FILE as its LAMBDA_VERSIONS_FILE.
 * @throws Error naming the emulator's answer when it refuses.
 */
export async function routeLambdaCanary(lambdaUrl: string, percent: number): Promise<void> {
  const alias = loadTemplate().functions.find(
    (fn) => fn.logicalId === LAMBDA_CANARY_FUNCTION,
  )?.autoPublishAlias;
  if (!alias) throw new Error(`${LAMBDA_CANARY_FUNCTION} has no AutoPublishAlias in lambda/template.yaml`);
  const body =
    percent >= 100
      ? { FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }
      : { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': percent / 100 } } };
  const response = await fetch(`${lambdaUrl}${aliasPath(LAMBDA_CANARY_FUNCTION, alias)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(
      `UpdateAlias ${LAMBDA_CANARY_FUNCTION}:${alias} answered ${response.status}: ${await response.text()}`,
    );
}
