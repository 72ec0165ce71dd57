// The driver that plays a Lambda execution environment, as the bench runs it: a child process on the
// built dist/ (npm test builds first), loading a handler file and invoking it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DriverReport } from '../src/lambda-driver';

const DRIVER = path.join(__dirname, '..', 'dist', 'lambda-driver.js');

describe('lambda-driver', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-driver-'));
    // A handler that logs 100 bytes to stderr per invocation, and 7 to stdout, as a function's logger would.
    fs.writeFileSync(
      path.join(dir, 'handler.js'),
      "exports.handler = async () => { process.stderr.write('x'.repeat(99) + '\\n'); console.log('logged'); " +
        'return { statusCode: 200 }; };',
    );
    fs.writeFileSync(path.join(dir, 'event.json'), '{}');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('times the init, the first invocation and each warm one, and counts the log bytes of the warm ones', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      DRIVER,
      path.join(dir, 'handler.js'),
      'handler',
      path.join(dir, 'event.json'),
      '5',
    ]);
    const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as DriverReport;
    expect(report.statusCode).toBe(200);
    expect(report.warmMs).toHaveLength(5);
    expect(report.warmLogBytes).toBe(5 * (100 + 7));
    for (const ms of [report.initMs, report.firstInvokeMs, ...report.warmMs])
      expect(ms).toBeGreaterThanOrEqual(0);
  }, 30_000);

  it('fails with a clear message when the export is missing', async () => {
    await expect(
      promisify(execFile)(process.execPath, [
        DRIVER,
        path.join(dir, 'handler.js'),
        'nothing',
        path.join(dir, 'event.json'),
      ]),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('has no export nothing') });
  }, 30_000);
});
