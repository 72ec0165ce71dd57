import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '@twin/service-kit/cli';
import { LambdaService } from './emulator/lambda-service';
import { applyLocalDefaults, localStackFile, readLocalStack } from './runtime/local-env';
import {
  type FunctionSpec,
  findFunction,
  LAMBDA_DIR,
  loadTemplate,
  type SamTemplate,
  type StoreService,
} from './template/template';

/** A failure the user can fix, reported in one message without a stack trace (exit status 1). */
class InvokeError extends Error {}

const usage = (template: SamTemplate) => `Usage: npm run invoke -w lambda -- <function> <event-file>

Runs one function of lambda/template.yaml in an execution environment, as Lambda runs it: built as
sam build builds it, in a Node.js process of its own with the template's MemorySize and Timeout. The
event is read from <event-file> (JSON; "-" reads standard input); what the function returned (or
its error) is printed as JSON on stdout; its log stream (START, its own lines, END and REPORT with
Duration, Billed Duration, Memory Size, Max Memory Used and Init Duration) goes to stderr.

  <function>    a logical id of the template, or the file its Handler names:
${template.functions.map((fn) => `                  ${fn.logicalId} (${fn.handler.split('.')[0]})`).join('\n')}
  <event-file>  e.g. events/hello.json; tried from where npm was run, then from lambda/
  -h, --help    this text

The handlers use the stores of the local stack (npm start) unless a variable says otherwise. While
npm start runs it records its endpoints in ${path.relative(process.cwd(), localStackFile()) || localStackFile()}
(or where LOCAL_STACK_FILE says), so they are found on whatever ports it was given; with no stack
running, these defaults (npm start's own) apply:
  AWS_ENDPOINT_URL_DYNAMODB   http://127.0.0.1:8000   (set it empty for AWS's own endpoint)
  AWS_ENDPOINT_URL_S3         http://127.0.0.1:4569   (likewise)
  TABLE_NAME                  products
  BUCKET                      images; when set (or the stack's), an S3 event's records are pointed at it
  AWS_REGION                  us-east-1
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   S3RVER, S3RVER unless a key or AWS_PROFILE is set
  LOG_LEVEL                   info
Before it runs a function, it checks that the stores the function's policies name answer.

Exit status: 0 the function returned (for an API Gateway event, a status below 500); 1 it threw
(printed as Lambda reports it), answered 5xx, or a store it uses does not answer; 2 bad arguments,
an unknown function, or an event file that is missing or not JSON.`;

function readEvent(file: string): unknown {
  let text: string;
  if (file === '-') {
    text = readFileSync(0, 'utf8');
  } else {
    // npm runs workspace scripts in lambda/; INIT_CWD is where the user ran npm.
    const candidates = [process.env.INIT_CWD, process.cwd(), LAMBDA_DIR]
      .filter((dir): dir is string => Boolean(dir))
      .map((dir) => path.resolve(dir, file));
    const found = candidates.find((candidate) => existsSync(candidate));
    if (!found) throw new UsageError(`event file not found: ${file}`);
    text = readFileSync(found, 'utf8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
}

/** Points every record of an S3 event at `bucket`, so a sample event can target any bucket. */
function retargetS3Event(event: unknown, bucket: string): void {
  const records = (event as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) return;
  for (const record of records as Array<{ s3?: { bucket?: { name?: string; arn?: string } } }>) {
    if (!record?.s3?.bucket) continue;
    record.s3.bucket.name = bucket;
    record.s3.bucket.arn = `arn:aws:s3:::${bucket}`;
  }
}

const STORE_NAMES: Record<StoreService, string> = { dynamodb: 'DynamoDB', s3: 'S3' };

/** Whether something accepts TCP connections at `url`'s host and port. */
function answers(url: URL): Promise<boolean> {
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    socket.setTimeout(10_000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Checks that each store the function uses answers at its endpoint (AWS's own endpoints are not
 * checked). @throws InvokeError naming the variable to set when one does not.
 */
async function checkStores(spec: FunctionSpec, stackFound: boolean): Promise<void> {
  for (const store of spec.stores) {
    const variable = `AWS_ENDPOINT_URL_${store.toUpperCase()}`;
    const endpoint = process.env[variable];
    if (!endpoint) continue;
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new UsageError(`${variable}: '${endpoint}' is not a URL`);
    }
    if (await answers(url)) continue;
    const where = stackFound
      ? 'the running npm start recorded it, but it does not answer'
      : `no npm start is running (${localStackFile()} records one while it runs)`;
    throw new InvokeError(
      `${spec.logicalId} uses ${STORE_NAMES[store]}, and nothing answers at ${endpoint} (${variable}): ${where}.\n` +
        `Start the stack (npm start), or set ${variable} to the ${STORE_NAMES[store]} endpoint to use ` +
        `(empty for AWS's own)${store === 'dynamodb' ? ' and TABLE_NAME' : ' and BUCKET'}.`,
    );
  }
}

/** An API Gateway proxy result that reports a server error (5xx). */
function isServerError(result: unknown): boolean {
  const status = (result as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 500;
}

async function run(args: string[]): Promise<number> {
  const template = loadTemplate();
  let values: { help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${usage(template)}\n`);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('expected <function> <event-file>');
  const [name, file] = positionals as [string, string];
  const spec = findFunction(template, name);
  if (!spec) {
    const known = template.functions.map((fn) => fn.logicalId).join(', ');
    throw new UsageError(`unknown function '${name}' (the template has ${known})`);
  }
  const event = readEvent(file);
  const stack = readLocalStack();
  // A bucket named by the user or by the running stack; the sample events' own otherwise.
  const bucket = process.env.BUCKET || stack?.env.BUCKET;
  if (bucket) retargetS3Event(event, bucket);
  applyLocalDefaults(process.env, stack);
  await checkStores(spec, stack !== undefined);

  const service = await LambdaService.start({
    template,
    functions: [spec],
    logs: (line) => process.stderr.write(`${line}\n`),
  });
  try {
    const result = await service.invoke(spec.logicalId, Buffer.from(JSON.stringify(event)));
    if (result.status === 'throttled') throw new Error(`throttled: ${result.reason}`);
    const payload: unknown = JSON.parse(result.payload.toString('utf8'));
    process.stdout.write(`${JSON.stringify(payload, null, 2)}\n`);
    return result.status === 'ok' && !isServerError(payload) ? 0 : 1;
  } finally {
    await service.close();
  }
}

run(process.argv.slice(2)).then(
  // The result is out; nothing else is worth waiting for.
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof UsageError) {
      process.stderr.write(`invoke: ${err.message}\nTry: npm run invoke -w lambda -- --help\n`);
      process.exit(2);
    }
    if (err instanceof InvokeError) {
      process.stderr.write(`invoke: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`invoke: ${err.stack ?? err.message}\n`);
    process.exit(2);
  },
);
