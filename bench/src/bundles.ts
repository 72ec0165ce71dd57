// The Lambda functions as AWS runs them: esbuild bundles built as `sam build` builds them, and the
// environment and memory each function gets.
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_CREDENTIALS, loadTemplate, TEMPLATE_PATH } from '@twin/lambda';
import { bundleFunctions, esbuildOptions } from '@twin/lambda/dist/bundle';
import { build } from 'esbuild';
import type { Cleanup } from './cleanup';

/** What a cold-start or warm-duration run loads: omit `bundle` for the empty process, `node -e 0`. */
export interface FunctionCase {
  name: string;
  bundle?: string;
  exportName?: string;
  eventFile?: string;
}

export interface BundleSize {
  function: string;
  /** Minified bundle, bytes. */
  bytes: number;
  gzipBytes: number;
}

export interface Bundles {
  sizes: BundleSize[];
  cases: { hello: FunctionCase; products: FunctionCase };
}

const EVENTS_DIR = path.join(path.dirname(TEMPLATE_PATH), 'events');

/** The functions' esbuild bundles, built exactly as `npm run bundle -w lambda` and `sam build` build them. */
export async function buildBundles(cleanup: Cleanup): Promise<Bundles> {
  const dir = await cleanup.tempDir('bench-bundles-');
  const template = loadTemplate();
  const bundles = await bundleFunctions(dir, template);
  const caseFor = (logicalId: string, name: string, event: string): FunctionCase => {
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

/** The environment a function's process gets: the local stack's DynamoDB, dev credentials. */
export function functionEnv(dynamodb: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    ...LOCAL_CREDENTIALS,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
    TABLE_NAME: 'products',
    LOG_LEVEL: 'info',
  };
  delete env.NODE_OPTIONS;
  return env;
}

/** Memory sizes (MB) from lambda/template.yaml, by logical id. */
export function functionMemory(): Record<string, number> {
  return Object.fromEntries(loadTemplate().functions.map((fn) => [fn.logicalId, fn.memoryMb]));
}
