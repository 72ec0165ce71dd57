import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runScript, SCRIPTS_DIR } from './support/run-script';

const SCRIPTS = [
  'canary.sh',
  'promote.sh',
  'products.sh',
  'upload.sh',
  'traces.sh',
  'circuit-breaker.sh',
  'mtls-check.sh',
];

describe.each(SCRIPTS)('scripts/%s', (name) => {
  it('parses, and --help explains it and exits 0', async () => {
    expect(spawnSync('bash', ['-n', path.join(SCRIPTS_DIR, name)]).status).toBe(0);
    const result = await runScript(name, ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: scripts/${name.replace('.', '\\.')}`));
    expect(result.stdout).toContain('Exit status:');
  });

  it('refuses an unknown option with exit 2', async () => {
    const result = await runScript(name, ['--no-such-option']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${name.replace('.', '\\.')}: `));
  });
});
