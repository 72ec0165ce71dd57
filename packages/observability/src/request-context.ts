import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Envoy and Istio correlate a request across hops by x-request-id, and their traces fall apart
 * unless each app copies it from the inbound request to its outbound calls.
 */
export const REQUEST_ID_HEADER = 'x-request-id';

const requestIds = new AsyncLocalStorage<string>();
const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Middleware: adopts the caller's x-request-id (or makes one) for the rest of the request. */
export function requestContext() {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const inbound = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof inbound === 'string' && VALID_REQUEST_ID.test(inbound) ? inbound : randomUUID();
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    requestIds.run(requestId, next);
  };
}

let invocationRequestId: string | undefined;

/**
 * Sets (or, with undefined, clears) the id of the invocation a Lambda execution environment is
 * running. Lambda runs one invocation at a time in an environment, so one value for the process is
 * that invocation's, as Powertools for AWS Lambda keeps its per-invocation log keys; and it costs
 * nothing, where an AsyncLocalStorage would slow every promise of a cold invocation (Node 20).
 */
export function setInvocationRequestId(requestId: string | undefined): void {
  invocationRequestId = requestId;
}

/** The id of the request being served (requestContext) or of the invocation running, if any. */
export function currentRequestId(): string | undefined {
  return requestIds.getStore() ?? invocationRequestId;
}

/** Headers an outbound call must carry for the mesh; trace headers are added by the instrumentation. */
export function forwardedHeaders(): Record<string, string> {
  const requestId = currentRequestId();
  return requestId ? { [REQUEST_ID_HEADER]: requestId } : {};
}
