// The service images' recipe (services/Dockerfile) as data: its stages and instructions, the
// .dockerignore rules, and the workspaces a service needs, read from package.json and tsconfig.json.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './manifests';

/** The one recipe of every service image; SERVICE names the folder under services/. */
export const RECIPE = 'services/Dockerfile';

// --- a small Dockerfile parser: instructions with their flags, grouped by stage

export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** Arguments after the flags (shell words; a JSON exec form stays whole in `json`). */
  words: string[];
  json?: string[];
}
export interface Stage {
  image: string;
  platform?: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
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

export const copies = (stage: Stage | undefined) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === 'COPY');
export const sourcesOf = (i: Instruction) => (i.json ?? i.words).slice(0, -1);
export const runs = (stage: Stage | undefined) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.words.join(' '));
export const last = (stage: Stage | undefined, keyword: string) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === keyword).pop();
/** The variables a stage's ENV instructions set (the KEY=value form). */
export const envOf = (stage: Stage | undefined): Record<string, string> =>
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
export const ignored = (file: string) =>
  ignorePatterns.some((re) => re.test(file.replace(/^\.?\/+|\/+$/g, '')));

// --- the workspaces

export interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  workspaces?: string[];
  allowScripts?: Record<string, boolean | string>;
}
export const readJson = <T>(file: string) =>
  JSON.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')) as T;
export const rootPackage = readJson<PackageJson>('package.json');
const workspaceDirByName = new Map(
  (rootPackage.workspaces ?? []).map((dir) => [readJson<PackageJson>(`${dir}/package.json`).name, dir]),
);
/** The workspace folder of a service and of every @twin/* package it needs, transitively. */
export function dependencyClosure(dir: string, seen = new Set<string>()): Set<string> {
  seen.add(dir);
  for (const dep of Object.keys(readJson<PackageJson>(`${dir}/package.json`).dependencies ?? {})) {
    const depDir = workspaceDirByName.get(dep);
    if (dep.startsWith('@twin/') && !depDir)
      throw new Error(`${dir} depends on ${dep}, which is no workspace`);
    if (depDir && !seen.has(depDir)) dependencyClosure(depDir, seen);
  }
  return seen;
}

/** The workspace folder of a project and of every project its tsconfig.json references, transitively. */
export function workspaceReferences(dir: string, seen = new Set<string>()): Set<string> {
  seen.add(dir);
  const tsconfig = readJson<{ references?: Array<{ path: string }> }>(`${dir}/tsconfig.json`);
  for (const reference of tsconfig.references ?? []) {
    const referenced = path.normalize(path.join(dir, reference.path));
    // A reference inside the workspace (the frontend's web/) is part of it.
    if (!referenced.startsWith(`${dir}/`) && !seen.has(referenced)) workspaceReferences(referenced, seen);
  }
  return seen;
}

/** The recipe's stages, parsed. */
export const recipeStages = (): Stage[] =>
  parseDockerfile(fs.readFileSync(path.join(repoRoot, RECIPE), 'utf8'));
