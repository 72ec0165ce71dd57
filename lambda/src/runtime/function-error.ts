/**
 * The error document Lambda returns for a failed invocation (with `X-Amz-Function-Error: Unhandled`):
 * what the Node.js runtime posts for a thrown error, or what the platform writes for a timeout or a
 * runtime that exited.
 */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/**
 * A thrown value as AWS's Node.js runtime interface client reports it (`Errors.toRapidResponse`):
 * an Error's name, message and stack lines; anything else by its type and string form.
 */
export function toFunctionError(err: unknown): FunctionError {
  if (err instanceof Error) {
    return { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? '').split('\n') };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

/** What Lambda answers when the function outlives its `Timeout` (seconds). */
export function timeoutError(timeoutSeconds: number): FunctionError {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
  };
}

/**
 * What Lambda answers when the runtime process ends during an invocation (a heap past `MemorySize`,
 * `process.exit`, a crash). The termination reads as Go's `exec.ExitError` does, as the Runtime
 * Interface Emulator's supervisor renders it: `exit status 1`, `signal: aborted`.
 */
export function runtimeExitError(
  requestId: string,
  code: number | null,
  signal: NodeJS.Signals | null,
): FunctionError {
  const reason =
    code === 0
      ? 'Runtime exited without providing a reason'
      : `Runtime exited with error: ${signal ? `signal: ${SIGNAL_NAMES[signal] ?? signal}` : `exit status ${code}`}`;
  return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: ${reason}` };
}

/** Go's names for the signals a runtime process dies of (syscall.Signal.String()). */
const SIGNAL_NAMES: Partial<Record<NodeJS.Signals, string>> = {
  SIGABRT: 'aborted',
  SIGKILL: 'killed',
  SIGSEGV: 'segmentation fault',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGBUS: 'bus error',
};
