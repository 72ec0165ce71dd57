// The rendered files as the repository keeps them: envoy/<app>.yaml holds the render of the stage
// `docker compose up` runs, and a fresh render must equal them.
import fs from 'node:fs';
import path from 'node:path';
import { loadMeshConfig } from '../load';
import { renderComposeSidecars, type RenderedSidecar } from './render';
import { tracingSamplingPercent } from './telemetry';

/** The stage `docker compose up` runs, and the one the files under envoy/ are rendered from. */
export const DEFAULT_STAGE = 'canary-10';
/** Where the rendered files of the default stage live, relative to the repository root. */
export const ENVOY_DIR = 'envoy';

/**
 * Renders one stage (an overlay under k8s/overlays/) with the tracing sampling of the add-ons'
 * Telemetry resource.
 * @throws MeshConfigError when the resources do not load; Error when they cannot be rendered.
 */
export function renderStage(root: string, stage: string): RenderedSidecar[] {
  const config = loadMeshConfig({ root, stage });
  return renderComposeSidecars(config, { samplingPercent: tracingSamplingPercent(root) });
}

/**
 * The files of `dir` that differ from `rendered`: changed, missing, or a YAML file the render does not make.
 * @param shown how to name `dir` in the messages.
 * @returns one line per difference, e.g. `envoy/frontend.yaml differs from a fresh render`.
 */
export function compareWithDir(rendered: RenderedSidecar[], dir: string, shown = dir): string[] {
  const problems: string[] = [];
  for (const { fileName, text } of rendered) {
    const file = path.join(dir, fileName);
    if (!fs.existsSync(file)) problems.push(`${path.join(shown, fileName)} is missing`);
    else if (fs.readFileSync(file, 'utf8') !== text)
      problems.push(`${path.join(shown, fileName)} differs from a fresh render`);
  }
  const expected = new Set(rendered.map((r) => r.fileName));
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (/\.ya?ml$/.test(name) && !expected.has(name))
      problems.push(`${path.join(shown, name)} is not a rendered sidecar config`);
  }
  return problems;
}
