import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DriverReport } from './lambda-driver';
import { median, round, summarize, type Summary } from './stats';

export interface ColdStartCase {
  name: string;
  /** Omitted: the empty Node process, `node -e 0`. */
  bundle?: string;
  exportName?: string;
  eventFile?: string;
}

export interface ColdStartResult {
  name: string;
  runs: number;
  /** Spawn to exit, as the parent sees it, ms. */
  wall: Summary;
  /** Medians of what the driver measured inside the process (absent for the empty process). */
  initMs?: number;
  firstInvokeMs?: number;
  bootMs?: number;
}

function runOnce(
  testCase: ColdStartCase,
  env: NodeJS.ProcessEnv,
): Promise<{ wallMs: number; report?: DriverReport }> {
  const args = testCase.bundle
    ? [
        path.join(__dirname, 'lambda-driver.js'),
        testCase.bundle,
        testCase.exportName ?? 'handler',
        testCase.eventFile ?? '',
      ]
    : ['-e', '0'];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`${testCase.name} exited with ${code}: ${stderr.slice(-500)}`));
      if (!testCase.bundle) return resolve({ wallMs });
      const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as DriverReport;
      if (report.statusCode !== undefined && report.statusCode >= 400) {
        return reject(new Error(`${testCase.name}: the handler answered ${report.statusCode}`));
      }
      resolve({ wallMs, report });
    });
  });
}

/**
 * Fresh processes, one per run: the empty one and the functions' cases take turns, so that a busy
 * moment of the machine hits them alike. Medians are what count.
 */
export async function measureColdStarts(
  cases: ColdStartCase[],
  runs: number,
  env: NodeJS.ProcessEnv,
): Promise<ColdStartResult[]> {
  const samples = new Map(cases.map((c) => [c.name, [] as Array<{ wallMs: number; report?: DriverReport }>]));
  // One untimed round: the OS page cache then holds node and the bundles, as it would on a warm host.
  for (const c of cases) await runOnce(c, env);
  for (let run = 0; run < runs; run += 1) {
    for (const c of cases) samples.get(c.name)?.push(await runOnce(c, env));
  }
  return cases.map((c) => {
    const list = samples.get(c.name) ?? [];
    const reports = list.map((s) => s.report).filter((r): r is DriverReport => r !== undefined);
    const med = (pick: (r: DriverReport) => number) =>
      reports.length > 0 ? round(median(reports.map(pick)), 1) : undefined;
    return {
      name: c.name,
      runs: list.length,
      wall: roundSummary(summarize(list.map((s) => s.wallMs))),
      initMs: med((r) => r.initMs),
      firstInvokeMs: med((r) => r.firstInvokeMs),
      bootMs: med((r) => r.bootMs),
    };
  });
}

export function roundSummary(summary: Summary, digits = 1): Summary {
  return Object.fromEntries(
    Object.entries(summary).map(([key, value]) => [key, key === 'n' ? value : round(value, digits)]),
  ) as unknown as Summary;
}

/** Warm invocation durations of one function in one process (the Lambda "Duration" of a warm call). */
export async function warmDurations(
  testCase: ColdStartCase,
  count: number,
  env: NodeJS.ProcessEnv,
): Promise<number[]> {
  if (!testCase.bundle) throw new Error('warm durations need a bundle');
  const args = [
    path.join(__dirname, 'lambda-driver.js'),
    testCase.bundle,
    testCase.exportName ?? 'handler',
    testCase.eventFile ?? '',
    String(count),
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(stderr.slice(-500)))));
  });
  return (JSON.parse(output.trim().split('\n').pop() ?? '{}') as DriverReport).warmMs;
}
