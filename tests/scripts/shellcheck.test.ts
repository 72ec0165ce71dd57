// Every shell script of the repository (by its #! line: the demo scripts, envoy's, .ci/run; files git
// tracks or would add) is shellcheck-clean. .ci/run installs Debian's shellcheck.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\0')
  .filter((file) => file && existsSync(path.join(ROOT, file)));
const shellScripts = files.filter((file) =>
  /^#!.*\b(ba)?sh\b/.test(readFileSync(path.join(ROOT, file), 'utf8').split('\n', 1)[0] ?? ''),
);

describe('shell scripts', () => {
  it('include the demo scripts and CI', () => {
    expect(shellScripts).toEqual(
      expect.arrayContaining(['.ci/run', 'scripts/canary.sh', 'scripts/traces.sh']),
    );
  });

  it.each(shellScripts)('%s is shellcheck-clean', (file) => {
    const result = spawnSync('shellcheck', [file], { cwd: ROOT, encoding: 'utf8' });
    if (result.error)
      throw new Error(
        `shellcheck is not installed (Debian: apt-get install shellcheck): ${result.error.message}`,
      );
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});
