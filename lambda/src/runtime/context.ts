import type { IncomingHttpHeaders } from 'node:http';
import type { Context } from 'aws-lambda';

/** The account id AWS uses in its documentation examples; nothing local has a real one. */
export const LOCAL_ACCOUNT_ID = '123456789012';

/** arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>], as Lambda names functions. */
export function functionArn(name: string, qualifier?: string): string {
  const region = process.env.AWS_REGION || 'us-east-1';
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

function unsupported(): never {
  throw new Error('callback-style context methods are not supported: return a promise');
}

const header = (headers: IncomingHttpHeaders, name: string) => String(headers[name] ?? '');

/**
 * The context object of one invocation, built as the Node.js runtime builds it: the request id,
 * deadline and invoked ARN from the `/runtime/invocation/next` answer's headers, the rest from the
 * environment's reserved variables (AWS_LAMBDA_FUNCTION_NAME, ..._VERSION, ..._MEMORY_SIZE,
 * AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME).
 */
export function createContext(headers: IncomingHttpHeaders, env: NodeJS.ProcessEnv = process.env): Context {
  const deadline = Number(header(headers, 'lambda-runtime-deadline-ms'));
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: header(headers, 'lambda-runtime-invoked-function-arn'),
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    awsRequestId: header(headers, 'lambda-runtime-aws-request-id'),
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
