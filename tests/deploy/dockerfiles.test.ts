// The service images: each Dockerfile is parsed and held against the repository (what it copies
// exists, covers the workspace's @twin/* dependencies, is not dropped by .dockerignore), and its
// CMD is run for real on the output of the same `tsc -b` the image runs.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { renderOverlay, repoRoot, SERVICES, type ServiceName, serviceDeployments } from './manifests';

// --- a small Dockerfile parser: instructions with their flags, grouped by stage

interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** Arguments after the flags (shell words; a JSON exec form stays whole in `json`). */
  words: string[];
  json?: string[];
}
interface Stage {
  image: string;
  platform?: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  const expand = (s: string) => s.replace(/\$\{?(\w+)\}?/g, (m, name: string) => globalArgs[name] ?? m);
  for (const line of lines) {
    const [, keyword = '', rest = ''] = /^(\w+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    const flags: Record<string, string> = {};
    let body = rest;
    for (let m = /^--([\w-]+)(?:=(\S+))?\s*/.exec(body); m; m = /^--([\w-]+)(?:=(\S+))?\s*/.exec(body)) {
      flags[m[1] ?? ''] = m[2] ?? 'true';
      body = body.slice(m[0].length);
    }
    const json = body.startsWith('[') ? (JSON.parse(body) as string[]) : undefined;
    const instruction: Instruction = { keyword: upper, flags, words: body.split(/\s+/), json };
    if (upper === 'ARG' && !stages.length) {
      const [name = '', value = ''] = body.split('=');
      globalArgs[name] = value;
    } else if (upper === 'FROM') {
      const [image = '', as, name] = instruction.words;
      stages.push({
        image: expand(image),
        platform: flags.platform,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
    } else stages[stages.length - 1]?.instructions.push(instruction);
  }
  return stages;
}

const copies = (stage: Stage | undefined) => (stage?.instructions ?? []).filter((i) => i.keyword === 'COPY');
const sourcesOf = (i: Instruction) => (i.json ?? i.words).slice(0, -1);
const runs = (stage: Stage | undefined) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.words.join(' '));
const last = (stage: Stage | undefined, keyword: string) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === keyword).pop();
/** The variables a stage's ENV instructions set (the KEY=value form). */
const envOf = (stage: Stage | undefined): Record<string, string> =>
  Object.fromEntries(
    (stage?.instructions ?? [])
      .filter((i) => i.keyword === 'ENV')
      .flatMap((i) => i.words.map((word) => word.split('=', 2) as [string, string])),
  );

// --- .dockerignore, with the pattern rules the images rely on (**, *, ?, directory prefixes)

const ignorePatterns = fs
  .readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((pattern) => {
    const source = pattern
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .map((part) =>
        part === '**'
          ? '.*'
          : part
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
      )
      .join('/')
      .replace(/^\.\*\//, '(?:.*/)?');
    return new RegExp(`^${source}(?:/.*)?$`);
  });
const ignored = (file: string) => ignorePatterns.some((re) => re.test(file.replace(/^\.?\/+|\/+$/g, '')));

// --- the workspaces

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  workspaces?: string[];
  allowScripts?: Record<string, boolean | string>;
}
const readJson = <T>(file: string) => JSON.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')) as T;
const rootPackage = readJson<PackageJson>('package.json');
const workspaceDirByName = new Map(
  (rootPackage.workspaces ?? []).map((dir) => [readJson<PackageJson>(`${dir}/package.json`).name, dir]),
);
/** The workspace folder of a service and of every @twin/* package it needs, transitively. */
function dependencyClosure(dir: string, seen = new Set<string>()): Set<string> {
  seen.add(dir);
  for (const dep of Object.keys(readJson<PackageJson>(`${dir}/package.json`).dependencies ?? {})) {
    const depDir = workspaceDirByName.get(dep);
    if (dep.startsWith('@twin/') && !depDir)
      throw new Error(`${dir} depends on ${dep}, which is no workspace`);
    if (depDir && !seen.has(depDir)) dependencyClosure(depDir, seen);
  }
  return seen;
}

// --- helpers for running the built service

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
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

describe('services/frontend/Dockerfile ships the web page', () => {
  const stages = parseDockerfile(
    fs.readFileSync(path.join(repoRoot, 'services/frontend/Dockerfile'), 'utf8'),
  );
  const runtime = stages[stages.length - 1];

  it('compiles the page scripts with the service (web/ is a reference of its tsconfig) and copies public/', () => {
    const tsconfig = readJson<{ references?: Array<{ path: string }> }>('services/frontend/tsconfig.json');
    expect(tsconfig.references?.map((r) => r.path)).toContain('./web');
    const fromContext = copies(runtime)
      .filter((i) => !i.flags.from)
      .map((i) => sourcesOf(i).concat((i.json ?? i.words).slice(-1)));
    expect(fromContext).toContainEqual(['services/frontend/public/', 'services/frontend/public/']);
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

describe.each(SERVICES)('services/%s/Dockerfile', (name) => {
  const dir = `services/${name}`;
  const stages = parseDockerfile(fs.readFileSync(path.join(repoRoot, dir, 'Dockerfile'), 'utf8'));
  const build = stages.find((s) => s.name === 'build');
  const runtime = stages[stages.length - 1];
  const closure = [...dependencyClosure(dir)].sort();
  const packageName = readJson<PackageJson>(`${dir}/package.json`).name;

  it('copies only paths that exist in the repository and that .dockerignore lets through', () => {
    const sources = stages
      .flatMap(copies)
      .filter((i) => !i.flags.from)
      .flatMap(sourcesOf);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect([source, fs.existsSync(path.join(repoRoot, source))]).toEqual([source, true]);
      expect([source, ignored(source)]).toEqual([source, false]);
    }
    for (const workspace of closure)
      for (const needed of ['src', 'tsconfig.json', 'package.json'])
        expect([`${workspace}/${needed}`, ignored(`${workspace}/${needed}`)]).toEqual([
          `${workspace}/${needed}`,
          false,
        ]);
  });

  it('builds the workspaces of its @twin/* dependency closure, and only those', () => {
    const copied = (stage: Stage | undefined) =>
      copies(stage)
        .filter((i) => !i.flags.from)
        .flatMap(sourcesOf);
    const buildCopies = copied(build);
    expect(buildCopies).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.base.json']),
    );
    const manifests = buildCopies.filter((s) => /^(packages|services)\/[^/]+\/package\.json$/.test(s));
    const sources = buildCopies.filter((s) => /^(packages|services)\/[^/]+\/?$/.test(s));
    expect(manifests.map((s) => path.dirname(s)).sort()).toEqual(closure);
    expect(sources.map((s) => s.replace(/\/$/, '')).sort()).toEqual(closure);
    expect(runs(build)).toContainEqual(expect.stringMatching(/^npm ci\b/));
    expect(runs(build)).toContainEqual(`npx tsc -b ${dir}`);
  });

  it('installs production dependencies in the target platform stage and takes only dist/ from the build', () => {
    expect(build?.platform).toBe('$BUILDPLATFORM');
    expect(runtime).not.toBe(build);
    expect(runtime?.platform).toBeUndefined();
    expect(runtime?.image).toMatch(/^(node:22[.\-\w]*|gcr\.io\/distroless\/nodejs22[-\w]*(:[-\w.]+)?)$/);
    const install = runs(runtime).find((r) => /^npm ci\b/.test(r)) ?? '';
    expect(install).toMatch(/--omit=dev/);
    expect(install).toContain(`--workspace ${packageName}`);
    const local = copies(runtime)
      .filter((i) => !i.flags.from)
      .flatMap(sourcesOf);
    expect(
      local
        .filter((s) => s.endsWith('package.json') && s.includes('/'))
        .map((s) => path.dirname(s))
        .sort(),
    ).toEqual(closure);
    const fromBuild = copies(runtime).filter((i) => i.flags.from);
    expect(fromBuild.map((i) => i.flags.from)).toEqual(fromBuild.map(() => 'build'));
    expect(fromBuild.flatMap(sourcesOf).sort()).toEqual(closure.map((w) => `/app/${w}/dist`));
  });

  it('runs node as PID 1 (exec form) as a numeric non-root user that is not 1337, from the workspace folder', () => {
    const user = last(runtime, 'USER')?.words[0] ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(['0', '1337']).not.toContain(user.split(':')[0]);
    expect(last(runtime, 'WORKDIR')?.words[0]).toBe(`/app/${dir}`);
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
