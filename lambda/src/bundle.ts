import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { build, type Format } from 'esbuild';
import {
  type BuildProperties,
  type FunctionSpec,
  LAMBDA_DIR,
  loadTemplate,
  type SamTemplate,
} from './template/template';

export const BUNDLES_DIR = path.join(LAMBDA_DIR, 'dist-bundles');

export interface Bundle {
  function: string;
  file: string;
  bytes: number;
  gzipBytes: number;
}

/** BuildProperties that SAM passes to esbuild and the template reader does not type. */
interface SamEsbuildProperties extends BuildProperties {
  /** --main-fields: package.json fields to resolve packages by, comma separated (e.g. module,main). */
  MainFields?: string;
}

/**
 * esbuild's options for a function exactly as `sam build` passes them (BuildMethod: esbuild):
 * --bundle --platform=node plus the BuildProperties, with SAM's defaults for those left out
 * (format cjs, minify on, target es2020, no source map, names not kept, esbuild's own main fields).
 */
export function esbuildOptions(spec: FunctionSpec, outdir: string) {
  const properties: SamEsbuildProperties = spec.buildProperties;
  const mainFields = properties.MainFields?.split(',').map((field) => field.trim());
  return {
    entryPoints: [spec.entryPath],
    bundle: true,
    platform: 'node' as const,
    format: (properties.Format ?? 'cjs') as Format,
    minify: properties.Minify ?? true,
    target: properties.Target ?? 'es2020',
    sourcemap: properties.Sourcemap ?? false,
    keepNames: properties.KeepNames ?? false,
    external: properties.External ?? [],
    ...(mainFields ? { mainFields } : {}),
    outdir,
    logLevel: 'warning' as const,
  };
}

/** One bundle per function of the template, in `<root>/<LogicalId>/`, as .aws-sam/build lays them out. */
export async function bundleFunctions(
  root = BUNDLES_DIR,
  template: SamTemplate = loadTemplate(),
): Promise<Bundle[]> {
  const bundles: Bundle[] = [];
  for (const spec of template.functions) {
    const outdir = path.join(root, spec.logicalId);
    await rm(outdir, { recursive: true, force: true });
    await build(esbuildOptions(spec, outdir));
    const file = path.join(outdir, `${spec.handler.split('.')[0]}.js`);
    bundles.push({
      function: spec.logicalId,
      file,
      bytes: (await stat(file)).size,
      gzipBytes: gzipSync(readFileSync(file)).length,
    });
  }
  return bundles;
}

/** The tracing layer's source (runtime/tracing-layer.ts): bundled like a function, one file to load. */
const TRACING_LAYER_ENTRY = path.join(LAMBDA_DIR, 'src', 'runtime', 'tracing-layer.ts');

/**
 * Bundles the environments' tracing layer into `<outdir>/tracing-layer.js` with the functions' own
 * esbuild settings (minified, ES modules first) and returns that file. The Jaeger exporter stays out,
 * since it cannot be bundled: it loads from node_modules, and only when OTEL_TRACES_EXPORTER asks for it.
 */
export async function bundleTracingLayer(outdir: string): Promise<string> {
  await build({
    entryPoints: [TRACING_LAYER_ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: true,
    target: 'es2022',
    mainFields: ['module', 'main'],
    external: ['@opentelemetry/exporter-jaeger'],
    outdir,
    logLevel: 'warning',
  });
  return path.join(outdir, 'tracing-layer.js');
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

if (require.main === module) {
  bundleFunctions().then(
    (bundles) => {
      const width = Math.max(...bundles.map((bundle) => bundle.function.length));
      for (const bundle of bundles) {
        process.stdout.write(
          `${bundle.function.padEnd(width)}  ${kib(bundle.bytes).padStart(10)}  (gzip ${kib(bundle.gzipBytes)})  ` +
            `${path.relative(process.cwd(), bundle.file)}\n`,
        );
      }
    },
    (err: Error) => {
      process.stderr.write(`bundle failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
