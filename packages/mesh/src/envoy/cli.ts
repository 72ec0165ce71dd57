// render-envoy: writes (or checks) the Envoy config of docker compose's sidecars, rendered from the
// Istio resources. Run from the repository with `npm run -s render-envoy -- [options]`.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '@twin/service-kit/cli';
import { MeshConfigError } from '../errors';
import { listStages, loadMeshConfig, type MeshConfig } from '../load';
import { resolveRoutes, virtualServiceFor } from '../policy';
import { COMPOSE } from './compose';
import { compareWithDir, DEFAULT_STAGE, ENVOY_DIR, renderStage } from './files';

const USAGE = `Usage: npm run -s render-envoy -- [--canary N | --stage NAME] [--out DIR] [--check]
       npm run -s render-envoy -- --splits HOST

Renders the Envoy config of each sidecar of docker-compose.yml from the Istio resources of k8s/istio
with the overlay of one stage, as istiod would program the sidecars, into DIR/<app>.yaml.

  --canary N    the stage k8s/overlays/canary-N (0, 10, 50, 100)
  --stage NAME  the stage k8s/overlays/NAME (default ${DEFAULT_STAGE}, what \`docker compose up\` runs)
  --out DIR     where to write (default ${ENVOY_DIR}/)
  --check       write nothing: exit 1 naming each file of DIR that differs from a fresh render
  --splits HOST print one line per stage: its name and the weight of each subset of HOST,
                e.g. "canary-10 v1=90 v2=10" (only when every route of HOST splits alike)
  --root DIR    the repository (default: the one holding this package)
  -h, --help    show this help

Exit status: 0 done (or, with --check, every file is current); 1 a file differs, or the resources do not
load or cannot be rendered (each problem named by file and field); 2 bad usage.`;

/** Each stage's split of `host`: `<stage> <subset>=<weight> ...`, or `<stage> mixed` when its routes differ. */
function splits(root: string, host: string): string[] {
  return listStages(root).map((stage) => {
    const config: MeshConfig = loadMeshConfig({ root, stage });
    const vs = virtualServiceFor(config, host, COMPOSE.namespace);
    if (!vs) throw new UsageError(`no VirtualService routes ${host}`);
    const perRoute = resolveRoutes(vs).map((route) =>
      route.destinations.map((d) => `${d.subset ?? d.host}=${d.weight}`).join(' '),
    );
    return `${stage} ${new Set(perRoute).size === 1 ? perRoute[0] : 'mixed'}`;
  });
}

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        canary: { type: 'string' },
        stage: { type: 'string' },
        out: { type: 'string' },
        check: { type: 'boolean', default: false },
        splits: { type: 'string' },
        root: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = path.resolve(values.root ?? path.join(__dirname, '../../../..'));
  if (values.splits !== undefined) {
    process.stdout.write(`${splits(root, values.splits).join('\n')}\n`);
    return 0;
  }
  if (values.canary !== undefined && values.stage !== undefined)
    throw new UsageError('give --canary or --stage, not both');
  if (values.canary !== undefined && !/^\d+$/.test(values.canary))
    throw new UsageError(`--canary: '${values.canary}' is not a percentage such as 0, 10, 50 or 100`);
  const stage = values.canary !== undefined ? `canary-${values.canary}` : (values.stage ?? DEFAULT_STAGE);
  const out = path.resolve(values.out ?? path.join(root, ENVOY_DIR));
  const rendered = renderStage(root, stage);
  const shown = path.relative(process.cwd(), out) || '.';
  if (values.check) {
    const problems = compareWithDir(rendered, out, shown);
    for (const problem of problems) process.stderr.write(`render-envoy: ${problem}\n`);
    if (problems.length) {
      process.stderr.write(
        `render-envoy: the files are rendered from k8s/istio: run \`npm run -s render-envoy\` to update them\n`,
      );
      return 1;
    }
    process.stdout.write(`${shown}: ${rendered.length} sidecar configs, current for ${stage}\n`);
    return 0;
  }
  fs.mkdirSync(out, { recursive: true });
  for (const { fileName, text } of rendered) fs.writeFileSync(path.join(out, fileName), text);
  process.stdout.write(`${shown}: ${rendered.map((r) => r.fileName).join(', ')} rendered for ${stage}\n`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`render-envoy: ${err.message} (see --help)\n`);
      process.exitCode = 2;
    } else if (err instanceof MeshConfigError) {
      process.stderr.write(`render-envoy: the Istio resources do not load:\n${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`render-envoy: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}
