import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LambdaService } from './emulator/lambda-service';
import { applyLocalDefaults } from './runtime/local-env';
import { findFunction, LAMBDA_DIR, loadTemplate, type SamTemplate } from './template/template';

class UsageError extends Error {}

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

The handlers use the stores of the local stack (npm start) unless a variable says otherwise:
  AWS_ENDPOINT_URL_DYNAMODB   http://127.0.0.1:8000   (set it empty for AWS's own endpoint)
  AWS_ENDPOINT_URL_S3         http://127.0.0.1:4569   (likewise)
  TABLE_NAME                  products
  BUCKET                      images; when set, the records of an S3 event are pointed at it
  AWS_REGION                  us-east-1
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   S3RVER, S3RVER unless a key or AWS_PROFILE is set
  LOG_LEVEL                   info

Exit status: 0 the function returned; 1 it threw (the error is printed as Lambda reports it);
2 bad arguments, an unknown function, or an event file that is missing or not JSON.`;

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
  if (process.env.BUCKET) retargetS3Event(event, process.env.BUCKET);
  applyLocalDefaults();

  const service = await LambdaService.start({
    template,
    functions: [spec],
    logs: (line) => process.stderr.write(`${line}\n`),
  });
  try {
    const result = await service.invoke(spec.logicalId, Buffer.from(JSON.stringify(event)));
    if (result.status === 'throttled') throw new Error(`throttled: ${result.reason}`);
    process.stdout.write(`${JSON.stringify(JSON.parse(result.payload.toString('utf8')), null, 2)}\n`);
    return result.status === 'ok' ? 0 : 1;
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
    process.stderr.write(`invoke: ${err.stack ?? err.message}\n`);
    process.exit(2);
  },
);
