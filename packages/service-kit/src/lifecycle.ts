/** What asked a process to stop: a signal, the launcher's IPC channel closing, or the parent exiting. */
export type StopReason = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'disconnect' | 'parent exited';

export interface StopRequestOptions {
  /**
   * Also stop when the parent process exits (this process is re-parented), checked every
   * `parentCheckMs` (default 500 ms). For a launcher whose parent (npm, a supervisor, a test) may be
   * killed without passing a signal on; a service started by it has the IPC channel instead.
   */
  watchParent?: boolean;
  parentCheckMs?: number;
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * Calls `stop` once, on the first of: SIGTERM (an orchestrator, Node as PID 1), SIGINT (Ctrl-C),
 * SIGHUP (the terminal closed); the IPC channel to the parent closing, when this process was started
 * with one (the launcher that started it died, even by SIGKILL); with `watchParent`, the parent
 * exiting. Later signals are ignored rather than killing a process that is already draining; its
 * own deadline bounds the stop. Returns a function that removes every listener.
 */
export function onStopRequest(
  stop: (reason: StopReason) => void,
  { watchParent = false, parentCheckMs = 500 }: StopRequestOptions = {},
): () => void {
  let requested = false;
  const request = (reason: StopReason) => {
    if (requested) return;
    requested = true;
    stop(reason);
  };
  const handlers = SIGNALS.map((signal) => [signal, () => request(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);

  const onDisconnect = () => request('disconnect');
  if (process.connected) process.once('disconnect', onDisconnect);

  const parent = process.ppid;
  const parentCheck = watchParent
    ? setInterval(() => process.ppid !== parent && request('parent exited'), parentCheckMs).unref()
    : undefined;

  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    process.off('disconnect', onDisconnect);
    clearInterval(parentCheck);
  };
}
