import { z } from 'zod';
import { functionArn } from '../runtime/context';
import type { HttpResponse } from './api-gateway';
import { json, userError } from './invoke-api';
import type { LambdaService } from './lambda-service';
import { aliasProblem, aliasTarget, aliasRouting, describeIssue } from './versions';

/** UpdateAlias's request: what it omits stays as it is. */
const updateAlias = z.object({
  FunctionVersion: aliasRouting.shape.FunctionVersion.optional(),
  RoutingConfig: aliasRouting.shape.RoutingConfig,
  Description: z.string().optional(),
  RevisionId: z.string().optional(),
});

/**
 * GetAlias and UpdateAlias of the Lambda API, so the alias's weights shift at run time with the same
 * call as in AWS (`aws lambda update-alias --endpoint-url ... --function-name ProductsFunction --name
 * live --routing-config AdditionalVersionWeights={2=0.5}`). Answers the AliasConfiguration; 404
 * ResourceNotFoundException for an unknown function or alias; 400 InvalidParameterValueException
 * naming the field for a request Lambda would refuse.
 */
export function handleAlias(
  service: LambdaService,
  method: string,
  name: string,
  aliasName: string,
  body: Buffer,
): HttpResponse {
  const alias = service.alias(name);
  if (!alias || alias.name !== aliasName) {
    return userError(404, 'ResourceNotFoundException', `Alias not found: ${functionArn(name, aliasName)}`);
  }
  if (method === 'PUT') {
    let request: unknown;
    try {
      request = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
    } catch (err) {
      return userError(
        400,
        'InvalidRequestContentException',
        `Could not parse request body into json: ${(err as Error).message}`,
      );
    }
    const parsed = updateAlias.safeParse(request);
    if (!parsed.success) return userError(400, 'InvalidParameterValueException', describeIssue(parsed.error));
    const target = aliasTarget({
      FunctionVersion: parsed.data.FunctionVersion ?? alias.target.functionVersion,
      RoutingConfig: parsed.data.RoutingConfig ?? {
        AdditionalVersionWeights: alias.target.additionalVersionWeights,
      },
    });
    const problem = aliasProblem(target, service.publishedVersions(name));
    if (problem) return userError(400, 'InvalidParameterValueException', problem);
    service.updateAlias(name, target);
  } else if (method !== 'GET') {
    return userError(405, 'MethodNotAllowedException', `${method} is not an alias operation`);
  }
  const current = service.alias(name)!;
  return json(200, {
    AliasArn: functionArn(name, current.name),
    Name: current.name,
    FunctionVersion: current.target.functionVersion,
    Description: '',
    RoutingConfig: { AdditionalVersionWeights: current.target.additionalVersionWeights },
    RevisionId: current.revisionId,
  });
}
