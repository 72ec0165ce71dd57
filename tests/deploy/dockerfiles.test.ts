// The service images: the one recipe, services/Dockerfile, is parsed and held against the repository
// (what it copies exists and is not dropped by .dockerignore, what it builds for a service is what
// npm installs for it, skaffold and compose name real services), its manifests stage is run for
// real on a copy of the tree's layout, and its CMD is run on the output of the same `tsc -b`.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { freePort } from '../../local/src/ports';
import {
  readSkaffold,
  renderOverlay,
  repoRoot,
  SERVICES,
  type ServiceName,
  serviceDeployments,
} from './manifests';
import {
  copies,
  dependencyClosure,
  envOf,
  ignored,
  last,
  RECIPE,
  readJson,
  recipeStages,
  rootPackage,
  runs,
  sourcesOf,
  workspaceReferences,
} from './recipe';

const stages = recipeStages();
const manifests = stages.find((s) => s.name === 'manifests');
const build = stages.find((s) => s.name === 'build');
const runtime = stages[stages.length - 1];
const argsOf = (stage: typeof build) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === 'ARG').map((i) => i.words[0]);

// --- helpers for running the built service

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
const withTimeout = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms).unref();
    }),
  ]);

/**
 * The environment the Deployment gives the service (canary-10 render), made runnable here: Secret
 * values resolved, cluster URLs pointed at a closed local port, tracing off, its own free PORT.
 */
async function environmentFromManifest(name: ServiceName, port: number): Promise<Record<string, string>> {
  const objs = renderOverlay('canary-10');
  const deployment = serviceDeployments(objs, name)[0];
  const container = deployment?.spec.template.spec.containers[0];
  if (!container) throw new Error(`no Deployment for ${name} in the render`);
  const closed = await freePort();
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const secret = ref && objs.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
    let value = ref ? Buffer.from(secret?.data?.[ref.key] ?? '', 'base64').toString('utf8') : (e.value ?? '');
    if (/^https?:\/\//.test(value)) {
      const url = new URL(value);
      if (url.hostname !== 'localhost')
        value = `http://127.0.0.1:${closed}${url.pathname.replace(/\/$/, '')}`;
    }
    env[e.name] = value;
  }
  delete env.CREATE_TABLE; // no DynamoDB here: start without touching the table
  return { ...env, PORT: String(port), OTEL_TRACES_EXPORTER: 'none' };
}

describe('.dockerignore', () => {
  it('keeps host builds and installs out of the context, but not the sources', () => {
    for (const file of ['node_modules', 'services/backend/dist', 'packages/products/tsconfig.tsbuildinfo'])
      expect([file, ignored(file)]).toEqual([file, true]);
    for (const file of [
      'package.json',
      'package-lock.json',
      'tsconfig.base.json',
      'packages/products/src/index.ts',
    ])
      expect([file, ignored(file)]).toEqual([file, false]);
  });
});

describe('npm install scripts', () => {
  it('are all denied by allowScripts, so `npm ci --ignore-scripts` in the images skips nothing allowed', () => {
    const lock = readJson<{ packages: Record<string, { hasInstallScript?: boolean }> }>('package-lock.json');
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([key]) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
    for (const name of withScripts) expect([name, rootPackage.allowScripts?.[name]]).toEqual([name, false]);
  });
});

describe(`${RECIPE}, the recipe of every service image`, () => {
  it('is what skaffold and compose build, each service by its folder name', () => {
    const compose = YAML.parse(fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as {
      services: Record<
        string,
        { build?: { context?: string; dockerfile?: string; args?: { SERVICE?: string } } }
      >;
    };
    const builds = [
      ...readSkaffold().build.artifacts.map((a) => ({
        dockerfile: a.docker?.dockerfile,
        service: a.docker?.buildArgs?.SERVICE,
      })),
      ...Object.values(compose.services)
        .filter((s) => s.build)
        .map((s) => ({ dockerfile: s.build?.dockerfile, service: s.build?.args?.SERVICE })),
    ];
    expect(builds.length).toBeGreaterThanOrEqual(2 * SERVICES.length);
    for (const b of builds)
      expect(b).toEqual({ dockerfile: RECIPE, service: expect.stringMatching(/^[a-z-]+$/) });
    expect([...new Set(builds.map((b) => b.service))].sort()).toEqual([...SERVICES].sort());
    for (const service of SERVICES)
      for (const file of ['package.json', 'tsconfig.json', 'src/main.ts', 'src/instrumentation.ts'])
        expect([file, fs.existsSync(path.join(repoRoot, 'services', service, file))]).toEqual([file, true]);
  });

  it('copies only paths that exist in the repository and that .dockerignore lets through', () => {
    const sources = stages
      .flatMap(copies)
      .filter((i) => !i.flags.from)
      .flatMap(sourcesOf);
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.base.json']),
    );
    for (const source of sources) {
      expect([source, fs.existsSync(path.join(repoRoot, source))]).toEqual([source, true]);
      expect([source, ignored(source)]).toEqual([source, false]);
    }
    for (const service of SERVICES)
      for (const workspace of dependencyClosure(`services/${service}`))
        for (const needed of ['src', 'tsconfig.json', 'package.json'])
          expect([`${workspace}/${needed}`, ignored(`${workspace}/${needed}`)]).toEqual([
            `${workspace}/${needed}`,
            false,
          ]);
  });

  it("keeps every workspace's package.json, and nothing else, in the manifests stage (run for real)", () => {
    // The context's layout under packages/ and services/ (files as .dockerignore lets them through,
    // empty), then the stage's RUN on it.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recipe-manifests-'));
    try {
      const listed = execFileSync('git', ['ls-files', 'packages', 'services'], {
        cwd: repoRoot,
        encoding: 'utf8',
      })
        .split('\n')
        .filter((file) => file && !ignored(file));
      for (const file of listed) {
        fs.mkdirSync(path.join(scratch, path.dirname(file)), { recursive: true });
        fs.writeFileSync(path.join(scratch, file), '');
      }
      const run = runs(manifests);
      expect(run).toHaveLength(1);
      execFileSync('bash', ['-euo', 'pipefail', '-c', run[0] ?? 'false'], { cwd: scratch });
      const kept = execFileSync('find', ['packages', 'services', '-mindepth', '1'], {
        cwd: scratch,
        encoding: 'utf8',
      })
        .split('\n')
        .filter(Boolean)
        .filter((entry) => fs.statSync(path.join(scratch, entry)).isFile())
        .sort();
      const expected = (rootPackage.workspaces ?? [])
        .filter((dir) => /^(packages|services)\//.test(dir))
        .map((dir) => `${dir}/package.json`)
        .sort();
      expect(kept).toEqual(expected);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it.each(SERVICES)(
    'builds for %s, from its tsconfig references, exactly the workspaces npm installs for it (its @twin/* dependencies)',
    (service) => {
      const dir = `services/${service}`;
      expect([...workspaceReferences(dir)].sort()).toEqual([...dependencyClosure(dir)].sort());
    },
  );

  it("compiles the service SERVICE names and gathers its dist/, its references' and its static files", () => {
    expect(argsOf(build)).toContain('SERVICE');
    expect(build?.platform).toBe('$BUILDPLATFORM');
    expect(manifests?.platform).toBe('$BUILDPLATFORM');
    expect(runs(build)).toContainEqual(expect.stringMatching(/^npm ci\b/));
    const compile = runs(build).find((r) => r.includes('tsc -b')) ?? '';
    expect(compile).toContain('npx tsc -b "services/${SERVICE}"');
    for (const gathered of ['packages/*/dist', '"services/${SERVICE}/dist"', '"services/${SERVICE}/public"'])
      expect([gathered, compile.includes(gathered)]).toEqual([gathered, true]);
    for (const pruned of ["-name '*.map'", "-name '*.d.ts'"]) expect(compile).toContain(pruned);
  });

  it('installs production dependencies in the target platform stage and takes only /out from the build', () => {
    expect(runtime).not.toBe(build);
    expect(runtime?.platform).toBeUndefined();
    expect(runtime?.image).toMatch(/^(node:24[.\-\w]*|gcr\.io\/distroless\/nodejs24[-\w]*(:[-\w.]+)?)$/);
    expect(argsOf(runtime)).toContain('SERVICE');
    const install = runs(runtime).find((r) => /^npm ci\b/.test(r)) ?? '';
    expect(install).toMatch(/--omit=dev/);
    expect(install).toContain('--workspace "services/${SERVICE}"');
    const fromStages = copies(runtime)
      .filter((i) => i.flags.from)
      .map((i) => [i.flags.from, ...sourcesOf(i)]);
    expect(fromStages).toEqual([
      ['manifests', '/app/'],
      ['build', '/out/'],
    ]);
  });

  it('runs node as PID 1 (exec form) as a numeric non-root user that is not 1337, from the workspace folder', () => {
    const user = last(runtime, 'USER')?.words[0] ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(['0', '1337']).not.toContain(user.split(':')[0]);
    expect(last(runtime, 'WORKDIR')?.words[0]).toBe('/app/services/${SERVICE}');
    expect(last(runtime, 'CMD')?.json).toEqual([
      'node',
      '--require',
      './dist/instrumentation.js',
      'dist/main.js',
    ]);
    expect(last(runtime, 'ENTRYPOINT')).toBeUndefined();
  });

  it('listens on every interface in the container (the service alone defaults to loopback)', () => {
    expect(envOf(runtime)).toMatchObject({ PORT: '8080', HOST: '0.0.0.0' });
  });
});

describe('the frontend image ships the web page', () => {
  it('compiles the page scripts with the service (web/ is a reference of its tsconfig), public/ beside them', () => {
    const tsconfig = readJson<{ references?: Array<{ path: string }> }>('services/frontend/tsconfig.json');
    expect(tsconfig.references?.map((r) => r.path)).toContain('./web');
    for (const file of ['services/frontend/web/main.ts', 'services/frontend/public/index.html'])
      expect([file, ignored(file)]).toEqual([file, false]);
    execFileSync(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-b', 'services/frontend'], {
      cwd: repoRoot,
      stdio: 'pipe',
    });
    // What index.html loads: its scripts from dist/web (copied with dist/), the rest from public/.
    const html = fs.readFileSync(path.join(repoRoot, 'services/frontend/public/index.html'), 'utf8');
    const assets = [...html.matchAll(/(?:src|href)="\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets).toEqual(expect.arrayContaining(['js/main.js', 'styles.css', 'vendor/chart.umd.min.js']));
    for (const asset of assets) {
      const file = asset.startsWith('js/')
        ? `services/frontend/dist/web/${asset.slice(3)}`
        : asset.startsWith('vendor/')
          ? `node_modules/chart.js/dist/${asset.slice(7)}`
          : `services/frontend/public/${asset}`;
      expect([asset, fs.existsSync(path.join(repoRoot, file))]).toEqual([asset, true]);
    }
  }, 120_000);
});

describe.each(SERVICES)('the %s image', (name) => {
  const dir = `services/${name}`;

  it('starts from the output of `tsc -b`: /healthz answers, and SIGTERM ends it with exit code 0', async () => {
    execFileSync(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-b', dir], { cwd: repoRoot, stdio: 'pipe' });
    const [command, ...args] = last(runtime, 'CMD')?.json ?? [];
    expect(command).toBe('node');
    const cwd = path.join(repoRoot, dir);
    for (const file of args.filter((a) => a.endsWith('.js')))
      expect([file, fs.existsSync(path.join(cwd, file))]).toEqual([file, true]);

    const port = await freePort();
    const env = await environmentFromManifest(name, port);
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH, ...envOf(runtime), ...env },
      stdio: 'pipe',
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const done = exited(child);
    try {
      const deadline = Date.now() + 30_000;
      let healthy = false;
      while (!healthy && Date.now() < deadline && child.exitCode === null) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`)
          .then((res) => res.status === 200)
          .catch(() => false);
        if (!healthy) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (!healthy) throw new Error(`${name} never answered GET /healthz with 200:\n${output}`);
      child.kill('SIGTERM');
      expect(await withTimeout(done, 20_000, `${name} after SIGTERM`)).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 180_000);
});
