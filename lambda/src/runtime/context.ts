import { randomBytes } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from '../template/template';

/** The account id AWS uses in its documentation examples; nothing local has a real one. */
export const LOCAL_ACCOUNT_ID = '123456789012';

function unsupported(): never {
  throw new Error('callback-style context methods are not supported: return a promise');
}

/** A Lambda context object for one invocation of `spec`, whose deadline is `deadline` (epoch ms). */
export function createContext(spec: FunctionSpec, requestId: string, deadline: number): Context {
  const region = process.env.AWS_REGION || 'us-east-1';
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.logicalId,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${spec.logicalId}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${spec.logicalId}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
