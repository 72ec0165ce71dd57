import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@twin/observability';
import { type Emulator, startEmulator } from '../src/emulator/server';
import { readVersionsFile, VersionsFileError } from '../src/emulator/versions';
import { LAMBDA_DIR, requireBuilt } from './helpers';

// Versions behind an alias, as AutoPublishAlias publishes them, with the alias's weights shifted at
// run time through Lambda's own UpdateAlias call.

const FIXTURES = path.join(__dirname, 'fixtures');
type Served = { version: string; release: string; invokedFunctionArn: string };

describe('versions and the live alias', () => {
  let emulator: Emulator;
  const at = (url: string, init?: RequestInit) => fetch(`${emulator.url}${url}`, init);
  const aliasPath = '/2015-03-31/functions/VersionedFunction/aliases/live';
  const shift = (weights: Record<string, number>) =>
    at(aliasPath, {
      method: 'PUT',
      body: JSON.stringify({ RoutingConfig: { AdditionalVersionWeights: weights } }),
    });
  /** `count` requests through API Gateway, one at a time; what served each. */
  const serve = async (count: number): Promise<Served[]> => {
    const served: Served[] = [];
    for (let i = 0; i < count; i += 1) served.push((await (await at('/versioned')).json()) as Served);
    return served;
  };

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      logger: createLogger('aliases-test', 'silent'),
      templatePath: path.join(FIXTURES, 'template.yaml'),
      versions: readVersionsFile(path.join(FIXTURES, 'versions.json')),
      logs: () => undefined,
    });
  }, 60_000);
  afterAll(() => emulator.close());

  it('routes API Gateway through the alias, by its weights, each version with its own variables', async () => {
    expect((await (await at(aliasPath)).json()) as unknown).toEqual({
      AliasArn: 'arn:aws:lambda:us-east-1:123456789012:function:VersionedFunction:live',
      Name: 'live',
      FunctionVersion: '1',
      Description: '',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0 } },
      RevisionId: expect.any(String),
    });
    // Weight 0: version 1 alone, with the template's variables.
    for (const served of await serve(5)) {
      expect(served).toEqual({
        version: '1',
        release: 'one',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:VersionedFunction:live',
      });
    }

    const shifted = await shift({ '2': 1 });
    expect(shifted.status).toBe(200);
    expect(await shifted.json()).toMatchObject({ RoutingConfig: { AdditionalVersionWeights: { '2': 1 } } });
    for (const served of await serve(5)) expect(served).toMatchObject({ version: '2', release: 'two' });

    // Half and half: both versions serve (all 60 on one side has odds of 2^-59).
    expect((await shift({ '2': 0.5 })).status).toBe(200);
    const versions = new Set((await serve(60)).map((served) => served.version));
    expect(versions).toEqual(new Set(['1', '2']));

    // Each version runs environments of its own.
    const stats = emulator.stats().functions.find((fn) => fn.name === 'VersionedFunction')!;
    expect(stats.alias).toEqual({
      name: 'live',
      functionVersion: '1',
      additionalVersionWeights: { '2': 0.5 },
    });
    const alive = Object.fromEntries(stats.versions.map((v) => [v.version, v.environments.alive]));
    expect(alive).toEqual({ '1': 1, '2': 1, $LATEST: 0 });
  }, 120_000);

  it('refuses an alias update Lambda would refuse, naming what is wrong', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { RoutingConfig: { AdditionalVersionWeights: { '2': 2 } } },
        /AdditionalVersionWeights\.2: must be from 0 to 1/,
      ],
      [{ RoutingConfig: { AdditionalVersionWeights: { '3': 0.1 } } }, /version 3 is not published/],
      [
        { FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } },
        /must differ from FunctionVersion/,
      ],
      [{ FunctionVersion: '$LATEST' }, /FunctionVersion: must be a published version number/],
    ];
    for (const [body, message] of cases) {
      const response = await at(aliasPath, { method: 'PUT', body: JSON.stringify(body) });
      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('InvalidParameterValueException');
      expect(((await response.json()) as { message: string }).message).toMatch(message);
    }
    const garbage = await at(aliasPath, { method: 'PUT', body: '{nope' });
    expect(garbage.status).toBe(400);
    const missing = await at('/2015-03-31/functions/VersionedFunction/aliases/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect((await at('/2015-03-31/functions/EchoFunction/aliases/live')).status).toBe(404);
  });

  it('invokes a version, the alias or $LATEST by qualifier, and says which version ran', async () => {
    const invoke = (qualified: string, query = '') =>
      at(`/2015-03-31/functions/${qualified}/invocations${query}`, { method: 'POST', body: '{}' });
    const version2 = await invoke('VersionedFunction:2');
    expect(version2.headers.get('x-amz-executed-version')).toBe('2');
    expect(JSON.parse(((await version2.json()) as { body: string }).body)).toMatchObject({ release: 'two' });

    const byQuery = await invoke('VersionedFunction', '?Qualifier=1');
    expect(byQuery.headers.get('x-amz-executed-version')).toBe('1');

    // $LATEST is what was deployed last: version 2's code and variables, in environments of its own.
    const latest = await invoke('VersionedFunction');
    expect(latest.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(JSON.parse(((await latest.json()) as { body: string }).body)).toMatchObject({ release: 'two' });

    const unknown = await invoke('VersionedFunction:9');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      Type: 'User',
      message: 'Function not found: arn:aws:lambda:us-east-1:123456789012:function:VersionedFunction:9',
    });
  }, 60_000);
});

describe('versions file', () => {
  const write = (content: string) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'versions-')), 'versions.json');
    writeFileSync(file, content);
    return file;
  };

  it.each([
    ['{nope', /versions\.json: .*JSON/],
    ['{"F": {"Versions": {"two": {}}}}', /F\.Versions\.two: must be a published version number/],
    [
      '{"F": {"Alias": {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": -1}}}}}',
      /AdditionalVersionWeights\.2: must be from 0 to 1/,
    ],
    [
      '{"F": {"Alias": {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}}}}}',
      /at most one additional version/,
    ],
    ['{"F": {"Versions": {}, "Extra": 1}}', /F: Unrecognized key/],
  ])('refuses %s with the field named', (content, message) => {
    expect(() => readVersionsFile(write(content))).toThrow(VersionsFileError);
    expect(() => readVersionsFile(write(content))).toThrow(message);
  });

  it('refuses versions of a function the template does not have, or that has no alias', async () => {
    const templatePath = path.join(FIXTURES, 'template.yaml');
    const logger = createLogger('aliases-test', 'silent');
    await expect(
      startEmulator({ port: 0, logger, templatePath, versions: { Nope: { versions: {} } } }),
    ).rejects.toThrow('Nope: the template has no such function');
    await expect(
      startEmulator({ port: 0, logger, templatePath, versions: { EchoFunction: { versions: {} } } }),
    ).rejects.toThrow('EchoFunction: has no AutoPublishAlias');
    await expect(
      startEmulator({
        port: 0,
        logger,
        templatePath,
        versions: {
          VersionedFunction: {
            versions: {},
            alias: { functionVersion: '1', additionalVersionWeights: { '2': 0.1 } },
          },
        },
      }),
    ).rejects.toThrow('VersionedFunction.Alias: version 2 is not published');
  });

  it('stops the emulator with exit status 2 and the variable named when LAMBDA_VERSIONS_FILE does not hold', async () => {
    const child = spawn(process.execPath, [requireBuilt('emulator/main.js')], {
      cwd: LAMBDA_DIR,
      env: {
        ...process.env,
        PORT: '0',
        LAMBDA_VERSIONS_FILE: write('{"ProductsFunction": {"Versions": {"x": {}}}}'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^LAMBDA_VERSIONS_FILE: .*versions\.json: ProductsFunction\.Versions\.x: must be a published version number/,
    );
  }, 60_000);
});
