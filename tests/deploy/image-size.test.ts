// What each service image adds over its Node base, held to a budget: the production dependency tree
// `npm ci --omit=dev --workspace services/<name>` installs (resolved by `npm ls --omit=dev` on this
// install, which is the same lockfile), less the files the recipe prunes, plus the compiled dist/
// and static files the recipe copies. A dependency that brings back a heavy tree (the all-in-one
// OpenTelemetry SDK with every exporter, for one) fails here rather than in a registry.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, SERVICES, type ServiceName } from './manifests';
import { recipeStages, runs, workspaceReferences } from './recipe';

const MB = 1_000_000;

/**
 * Megabytes of installed dependencies each image may hold: about 7 MB above what they held when the
 * budgets were set (backend 25, frontend 47, thumbnailer 45 on linux-x64). The frontend and the
 * thumbnailer carry sharp with libvips (about 18 MB) and the S3 client; the backend the DynamoDB
 * client. The all-in-one OpenTelemetry SDK alone would add about 27 MB.
 */
const DEPENDENCY_BUDGET_MB: Record<ServiceName, number> = { backend: 32, frontend: 55, thumbnailer: 52 };
/** The ceiling for everything an image adds over its Node base. */
const IMAGE_BUDGET_MB = 80;

const runtime = recipeStages().at(-1);
const install = runs(runtime).find((r) => /^npm ci\b/.test(r)) ?? '';

/** The recipe's `-name '<glob>'` patterns for what it deletes after `npm ci`, as regular expressions. */
const pruned = [...install.matchAll(/-name '([^']+)'/g)].map(
  ([, glob = '']) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
);

/** Bytes of the files under `dir` that survive pruning, not descending into nested packages. */
function keptBytes(dir: string): number {
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') bytes += keptBytes(file);
    } else if (entry.isFile() && !pruned.some((re) => re.test(entry.name))) bytes += fs.statSync(file).size;
  }
  return bytes;
}

/** Installed package folders of a service's production tree (workspaces, linked, excluded). */
function productionPackages(service: ServiceName): string[] {
  const listing = execFileSync(
    'npm',
    ['ls', '--omit=dev', '--all', '--parseable', '--workspace', `services/${service}`],
    { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return [...new Set(listing.split('\n'))].filter(
    (dir) => dir.includes(`${path.sep}node_modules${path.sep}`) && !fs.lstatSync(dir).isSymbolicLink(),
  );
}

describe('the recipe prunes what nothing in an image reads', () => {
  it('deletes source maps and declaration files after installing', () => {
    for (const name of ['index.js.map', 'index.d.ts', 'index.d.mts', 'index.d.cts'])
      expect([name, pruned.some((re) => re.test(name))]).toEqual([name, true]);
    for (const name of ['index.js', 'index.mjs', 'package.json', 'sharp-linux-x64.node'])
      expect([name, pruned.some((re) => re.test(name))]).toEqual([name, false]);
  });
});

describe.each(SERVICES)('the %s image', (service) => {
  it(`adds at most its budget over the Node base`, () => {
    const packages = productionPackages(service);
    expect(packages.length).toBeGreaterThan(10);
    const dependencies = packages.reduce((sum, dir) => sum + keptBytes(dir), 0);
    execFileSync(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-b', `services/${service}`], {
      cwd: repoRoot,
      stdio: 'pipe',
    });
    const own = [...workspaceReferences(`services/${service}`), `services/${service}/public`]
      .map((dir) => path.join(repoRoot, dir.endsWith('public') ? dir : `${dir}/dist`))
      .filter((dir) => fs.existsSync(dir))
      .reduce((sum, dir) => sum + keptBytes(dir), 0);
    const report = {
      service,
      dependenciesMB: Math.round(dependencies / MB),
      ownMB: Math.round((own / MB) * 10) / 10,
    };
    expect({ ...report, withinDependencyBudget: dependencies <= DEPENDENCY_BUDGET_MB[service] * MB }).toEqual(
      {
        ...report,
        withinDependencyBudget: true,
      },
    );
    expect({ ...report, withinImageBudget: dependencies + own <= IMAGE_BUDGET_MB * MB }).toEqual({
      ...report,
      withinImageBudget: true,
    });
  }, 180_000);
});
