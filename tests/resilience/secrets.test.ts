// No secret in the repository: no private key, no AWS access key id in any file git tracks (or
// would track on the next commit), and every credential that does ship is a dev default, marked as
// such and overridable without editing the file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const repoRoot = path.resolve(__dirname, '../..');

/** What a secret looks like in a file. */
const SECRET_PATTERNS: Array<[string, RegExp]> = [
  ['a private key', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/],
  // Long-term (AKIA) and temporary (ASIA) access key ids, and the other prefixes AWS documents.
  ['an AWS access key id', /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/],
  ['an AWS secret access key', /aws_?secret_?access_?key\s*[:=]\s*["']?[A-Za-z0-9/+]{40}\b/i],
];
/** AWS's own documentation placeholder (AKIAIOSFODNN7EXAMPLE) is not a key. */
const PLACEHOLDER = /EXAMPLE\b/;

/** The secrets found in a text, as "<line>: <kind>". */
export function findSecrets(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [kind, pattern] of SECRET_PATTERNS) {
      const match = pattern.exec(line);
      if (match && !PLACEHOLDER.test(match[0])) found.push(`${i + 1}: ${kind}`);
    }
  });
  return found;
}

/** Files git tracks, plus new ones it would add (untracked and not ignored). */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return out.split('\0').filter((file) => file && fs.existsSync(path.join(repoRoot, file)));
}

describe('the secret scanner', () => {
  // Built at run time, so this file holds no secret-shaped text of its own.
  const key = ['-----BEGIN', 'RSA PRIVATE KEY-----'].join(' ');
  const id = ['AKIA', 'Z7QW3ERTYU2IOPAS'].join('');

  it.each([
    [`${key}\nMIIEow...\n`, '1: a private key'],
    [`x\n${['-----BEGIN', 'OPENSSH PRIVATE KEY-----'].join(' ')}`, '2: a private key'],
    [`${['-----BEGIN', 'PRIVATE KEY-----'].join(' ')}`, '1: a private key'],
    [`aws_access_key_id = ${id}`, '1: an AWS access key id'],
    [`"AccessKeyId": "${['ASIA', 'Z7QW3ERTYU2IOPAS'].join('')}"`, '1: an AWS access key id'],
    [`AWS_SECRET_ACCESS_KEY=${'abcd/EFGH+ijkl'.repeat(3).slice(0, 40)}`, '1: an AWS secret access key'],
  ])('finds %j', (text, expected) => {
    expect(findSecrets(text)).toContain(expected);
  });

  it.each([
    ['a public key', ['-----BEGIN', 'PUBLIC KEY-----'].join(' ')],
    ['a certificate', ['-----BEGIN', 'CERTIFICATE-----'].join(' ')],
    ["AWS's documented placeholder", ['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('')],
    ['a dev default', 'AWS_ACCESS_KEY_ID=meshdemodev'],
    ['a word that merely starts like a key id', 'AKIA is the prefix of access key ids'],
  ])('does not flag %s', (_name, text) => {
    expect(findSecrets(text)).toEqual([]);
  });
});

describe('the repository', () => {
  it('holds no private key and no AWS key in any file git tracks or would add', () => {
    const files = repositoryFiles();
    expect(files.length).toBeGreaterThan(100);
    const findings: string[] = [];
    for (const file of files) {
      const data = fs.readFileSync(path.join(repoRoot, file));
      if (data.subarray(0, 8000).includes(0)) continue; // binary
      for (const finding of findSecrets(data.toString('utf8'))) findings.push(`${file}:${finding}`);
    }
    expect(findings).toEqual([]);
  });

  it('keeps generated keys and certificates out of git', () => {
    const ignored = (file: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', '--no-index', file], { cwd: repoRoot });
        return true;
      } catch {
        return false;
      }
    };
    for (const file of ['envoy/certs/frontend.key', 'envoy/certs/ca.crt', 'server.pem', 'tls.key'])
      expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: true });
  });

  it('ships the cluster credentials as dev-only defaults, replaceable without editing them', () => {
    const env = fs.readFileSync(path.join(repoRoot, 'k8s/base/dev-credentials.env'), 'utf8');
    const comments = env
      .split('\n')
      .filter((line) => line.startsWith('#'))
      .join('\n');
    expect(comments).toMatch(/DEV-ONLY/);
    expect(comments).toMatch(/[Oo]verride/);
    const values = env
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=')[1] ?? '');
    expect(values.length).toBeGreaterThan(0);
    // Values that say what they are, not something that could pass for a real key.
    for (const value of values) expect(value).toMatch(/dev/i);
    // The Secret is generated from that file, so an overlay can replace it (behavior: replace).
    const kustomization = YAML.parse(
      fs.readFileSync(path.join(repoRoot, 'k8s/base/kustomization.yaml'), 'utf8'),
    ) as { secretGenerator?: Array<{ name: string; envs?: string[] }> };
    expect(kustomization.secretGenerator).toContainEqual(
      expect.objectContaining({ envs: ['dev-credentials.env'] }),
    );
  });

  it('ships the compose credentials as dev-only defaults, each overridable from the environment', () => {
    const text = fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
    expect(text).toMatch(/#.*[Cc]redentials.*development only|#.*[Dd]ev-only/);
    const compose = YAML.parse(text, { merge: true }) as {
      services: Record<string, { environment?: Record<string, unknown> | string[] }>;
    };
    const credential = /(?:ACCESS_KEY|SECRET|PASSWORD|ROOT_USER|TOKEN)/;
    const found: string[] = [];
    for (const [service, { environment = {} }] of Object.entries(compose.services)) {
      const entries = Array.isArray(environment)
        ? environment.map((item) => item.split('=', 2) as [string, string])
        : Object.entries(environment);
      for (const [name, value] of entries) {
        if (!credential.test(name)) continue;
        found.push(name);
        // ${NAME:-default}: the environment or a .env file wins over the default.
        expect({ service, name, value }).toEqual({
          service,
          name,
          value: expect.stringMatching(/^\$\{[A-Z_]+:-[^}]+\}$/),
        });
      }
    }
    expect(found.length).toBeGreaterThan(0);
  });
});
