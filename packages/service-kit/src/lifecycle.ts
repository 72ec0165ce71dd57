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

/**
 * What a process tells the launcher that started it, over its IPC channel, once it listens: the
 * port it got. A launcher that wants no port picked ahead of time (another process could take it
 * before the child binds it) gives the child port 0 and learns the port from this message.
 */
export interface ListeningMessage {
  type: 'listening';
  port: number;
}

/** Whether an IPC message is a {@link ListeningMessage}. */
export function isListeningMessage(message: unknown): message is ListeningMessage {
  const m = message as Partial<ListeningMessage> | null;
  return m?.type === 'listening' && Number.isInteger(m.port);
}

/**
 * Sends a {@link ListeningMessage} with `port` to the parent, when this process was started with an
 * IPC channel that is still open (the local launcher's children are); otherwise does nothing.
 */
export function reportListening(port: number): void {
  if (process.send && process.connected) process.send({ type: 'listening', port } satisfies ListeningMessage);
}
