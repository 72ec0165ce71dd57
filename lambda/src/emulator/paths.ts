// The emulator's HTTP paths, in a module of their own so that a client (the local stack's launcher)
// can name them without loading the emulator.

/** GET: 200 once every function is bundled and the server listens. */
export const READY_PATH = '/__emulator/ready';
/** GET: the functions' environments, cold starts, throttles and concurrency (ServiceStats). */
export const FUNCTIONS_PATH = '/__emulator/functions';

/** Lambda's Invoke operation: POST /2015-03-31/functions/{FunctionName}/invocations. */
export const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** The Invoke operation's path for `functionName` (a name, an ARN, or either with `:qualifier`). */
export function invokePath(functionName: string): string {
  return `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
}

/** Lambda's GetAlias (GET) and UpdateAlias (PUT): /2015-03-31/functions/{FunctionName}/aliases/{Name}. */
export const ALIAS_PATH = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/;

/** The GetAlias and UpdateAlias path of the alias `aliasName` of `functionName`. */
export function aliasPath(functionName: string, aliasName: string): string {
  return `/2015-03-31/functions/${encodeURIComponent(functionName)}/aliases/${encodeURIComponent(aliasName)}`;
}
