// The one IPC message between a launcher and the data plane process, in a module of its own so that
// a launcher can check it without loading the data plane (`@twin/mesh/app-message`).

/**
 * What a launcher sends the data plane process over IPC when an app that starts after it (the
 * frontend, whose BACKEND_URL is its sidecar's outbound listener) listens: the proxy, the app's
 * host:port and PID. The process sends the same message back once the sidecar points at the app.
 */
export interface AppMessage {
  type: 'app';
  proxy: string;
  address: string;
  pid?: number;
}

/** Whether an IPC message is an {@link AppMessage}. */
export function isAppMessage(message: unknown): message is AppMessage {
  const m = message as Partial<AppMessage> | null;
  return m?.type === 'app' && typeof m.proxy === 'string' && typeof m.address === 'string';
}
