import http, { type IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { createContext } from './context';
import { type FunctionError, toFunctionError } from './function-error';
import { installedInvocationHook } from './invocation-hook';

// The process of one execution environment: a runtime interface client of Lambda's Runtime API
// (version 2018-06-01), as AWS's Node.js runtime interface client drives it. It loads the handler
// (the INIT phase), then asks for events one at a time and posts each result or error back. The
// emulator starts it with the variables Lambda sets: AWS_LAMBDA_RUNTIME_API, _HANDLER,
// LAMBDA_TASK_ROOT and the AWS_LAMBDA_FUNCTION_* ones.

type Handler = (event: unknown, context: Context) => unknown;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const RUNTIME_API = `/2018-06-01/runtime`;
const [host, port] = (process.env.AWS_LAMBDA_RUNTIME_API ?? '').split(':');
// One connection, kept alive, as the runtime interface client keeps it.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One Runtime API call. No timeout: `next` waits as long as the environment stays idle. */
function call(method: string, route: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const request = http.request(
      { host, port, method, path: `${RUNTIME_API}${route}`, agent, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function postError(route: string, error: FunctionError): Promise<Answer> {
  return call('POST', route, JSON.stringify(error), {
    'content-type': 'application/json',
    'lambda-runtime-function-error-type': error.errorType,
  });
}

/** `<file>.<export>` under LAMBDA_TASK_ROOT, with the error types the Node.js runtime reports. */
function loadHandler(): Handler {
  const name = process.env._HANDLER ?? '';
  const match = /^([^.]+)\.([^.]+)$/.exec(name);
  if (!match) {
    throw Object.assign(new Error(`Bad handler ${name}`), { name: 'Runtime.MalformedHandlerName' });
  }
  const [, file, exportName] = match as unknown as [string, string, string];
  let module: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    module = require(path.join(process.env.LAMBDA_TASK_ROOT ?? '.', file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw Object.assign(new Error(`Error: Cannot find module '${file}'`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${name} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler as Handler;
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    handler = loadHandler();
  } catch (err) {
    await postError('/init/error', toFunctionError(err));
    process.exit(1);
  }
  // A layer loaded before the runtime (the tracing layer) may run each invocation inside its own hook.
  const hook = installedInvocationHook();
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`invocation/next answered ${next.status}: ${next.body}`);
    const context = createContext(next.headers);
    const route = `/invocation/${encodeURIComponent(context.awsRequestId)}`;
    // As the Node.js runtime does: the invocation's trace header, for the code and its tracing.
    const traceHeader = next.headers['lambda-runtime-trace-id'];
    if (typeof traceHeader === 'string') process.env._X_AMZN_TRACE_ID = traceHeader;
    else delete process.env._X_AMZN_TRACE_ID;
    try {
      const event: unknown = JSON.parse(next.body);
      const result = await (hook ? hook(async () => handler(event, context)) : handler(event, context));
      await call('POST', `${route}/response`, JSON.stringify(result ?? null), {
        'content-type': 'application/json',
      });
    } catch (err) {
      await postError(`${route}/error`, toFunctionError(err));
    }
  }
}

// The Runtime API is gone only when the emulator is: nothing left to serve.
main().catch((err: Error) => {
  process.stderr.write(`runtime interface client stopped: ${err.message}\n`);
  process.exit(1);
});
