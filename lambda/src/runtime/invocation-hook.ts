/**
 * Where a layer loaded before the runtime (node --require) puts the function that runs each
 * invocation, so that the runtime, which loads no tracing code of its own, runs the handler inside
 * it: the tracing layer runs it in the trace context of _X_AMZN_TRACE_ID.
 */
export const INVOCATION_HOOK = Symbol.for('@twin/lambda/invocation-hook');

/** Runs one invocation's handler call (`run`); _X_AMZN_TRACE_ID holds that invocation's trace header. */
export type InvocationHook = <T>(run: () => Promise<T>) => Promise<T>;

/** The hook a layer installed, if any. */
export function installedInvocationHook(): InvocationHook | undefined {
  return (globalThis as { [INVOCATION_HOOK]?: InvocationHook })[INVOCATION_HOOK];
}

/** Installs `hook` for the runtime to find (a layer does this when it loads). */
export function installInvocationHook(hook: InvocationHook): void {
  (globalThis as { [INVOCATION_HOOK]?: InvocationHook })[INVOCATION_HOOK] = hook;
}
