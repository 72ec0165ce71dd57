import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadTemplate, TEMPLATE_PATH } from '@twin/lambda';
import { bundleFunctions, esbuildOptions } from '@twin/lambda/dist/bundle';
import { build } from 'esbuild';
import type { BundleSize } from './bench-report';
import type { ColdStartCase } from './coldstart';
import { startServer, startStackProcess, type ReadyChild } from './processes';
import type { StackInfo } from './stack-runner';

export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');
export const EVENTS_DIR = path.join(path.dirname(TEMPLATE_PATH), 'events');

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Children and temporary folders to clean up whatever happens. */
export class Cleanup {
  private readonly steps: Array<() => Promise<unknown>> = [];

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  child(child: ReadyChild<unknown>): void {
    this.add(() => child.stop());
  }

  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await step().catch(() => undefined);
    this.steps.length = 0;
  }
}

/**
 * Runs a measurement with everything it starts registered for cleanup, which happens when it ends,
 * fails, or the user interrupts it (Ctrl-C exits 130 once the children are stopped).
 */
export async function withCleanup<T>(work: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup();
  const stop = () => void cleanup.run().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await work(cleanup);
  } finally {
    await cleanup.run();
  }
}

export async function tempDir(cleanup: Cleanup, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export type StackUrls = Record<string, string>;

export interface LocalStack {
  urls: StackUrls;
  pids: Record<string, number>;
  child: ReadyChild<StackInfo>;
}

export function url(urls: StackUrls, name: string): string {
  const found = urls[name];
  if (!found) throw new Error(`the stack has no ${name} endpoint`);
  return found;
}

export async function startStack(
  cleanup: Cleanup,
  thumbnails: 'mesh' | 'lambda',
  logLevel: string,
  env: Record<string, string> = {},
  forwardLogs = false,
): Promise<LocalStack> {
  const { urls, pids, process: child } = await startStackProcess({ thumbnails, logLevel, env, forwardLogs });
  cleanup.child(child as ReadyChild<unknown>);
  return { urls, pids, child };
}

export async function startRawServer(
  cleanup: Cleanup,
  body: string,
): Promise<{ url: string; child: ReadyChild<string> }> {
  const dir = await tempDir(cleanup, 'bench-raw-');
  const file = path.join(dir, 'body.json');
  await writeFile(file, body);
  const { url: serverUrl, process: child } = await startServer('raw', file);
  cleanup.child(child as ReadyChild<unknown>);
  return { url: serverUrl, child };
}

export async function startSink(cleanup: Cleanup): Promise<{ url: string; child: ReadyChild<string> }> {
  const { url: sinkUrl, process: child } = await startServer('sink');
  cleanup.child(child as ReadyChild<unknown>);
  return { url: sinkUrl, child };
}

/** Creates `count` products through the frontend, so a list returns a realistic page. */
export async function seedProducts(frontend: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const response = await fetch(`${frontend}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Product ${i + 1}`, price: Math.round((9.99 + i * 7.5) * 100) / 100 }),
    });
    if (response.status !== 201)
      throw new Error(`seeding products: ${response.status} ${await response.text()}`);
  }
}

/** Which packages a bundle's bytes come from, largest first (KiB of minified output). */
export async function bundleComposition(
  logicalId: string,
  top = 6,
): Promise<Array<{ source: string; kib: number }>> {
  const spec = loadTemplate().functions.find((fn) => fn.logicalId === logicalId);
  if (!spec) throw new Error(`${logicalId} is not in the template`);
  const result = await build({
    ...esbuildOptions(spec, tmpdir()),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const bytes = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const source = match ? (match[1] as string) : 'project code';
      bytes.set(source, (bytes.get(source) ?? 0) + bytesInOutput);
    }
  }
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([source, size]) => ({ source, kib: Math.round((size / 1024) * 10) / 10 }));
}

export interface Bundles {
  sizes: BundleSize[];
  cases: { hello: ColdStartCase; products: ColdStartCase };
}

/** The functions' esbuild bundles, built exactly as `npm run bundle -w lambda` and `sam build` build them. */
export async function buildBundles(cleanup: Cleanup): Promise<Bundles> {
  const dir = await tempDir(cleanup, 'bench-bundles-');
  const template = loadTemplate();
  const bundles = await bundleFunctions(dir, template);
  const caseFor = (logicalId: string, name: string, event: string): ColdStartCase => {
    const spec = template.functions.find((fn) => fn.logicalId === logicalId);
    const bundle = bundles.find((b) => b.function === logicalId);
    if (!spec || !bundle) throw new Error(`${logicalId} is not in the template`);
    return {
      name,
      bundle: bundle.file,
      exportName: spec.exportName,
      eventFile: path.join(EVENTS_DIR, event),
    };
  };
  return {
    sizes: bundles.map(({ function: fn, bytes, gzipBytes }) => ({ function: fn, bytes, gzipBytes })),
    cases: {
      hello: caseFor('HelloFunction', 'hello', 'hello.json'),
      products: caseFor('ProductsFunction', 'products', 'list-products.json'),
    },
  };
}

/** The environment a function's process gets: the local stack's DynamoDB, dev credentials. */
export function functionEnv(dynamodb: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
    TABLE_NAME: 'products',
    LOG_LEVEL: 'info',
  };
  delete env.NODE_OPTIONS;
  return env;
}

/** Memory sizes from lambda/template.yaml, by logical id. */
export function functionMemory(): Record<string, number> {
  return Object.fromEntries(loadTemplate().functions.map((fn) => [fn.logicalId, fn.memoryMb]));
}

export function flag(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number < min)
    throw new Error(`--${name}: '${value}' is not a number >= ${min}`);
  return number;
}
