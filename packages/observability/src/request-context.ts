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

export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}

/** Headers an outbound call must carry for the mesh; trace headers are added by the instrumentation. */
export function forwardedHeaders(): Record<string, string> {
  const requestId = currentRequestId();
  return requestId ? { [REQUEST_ID_HEADER]: requestId } : {};
}
