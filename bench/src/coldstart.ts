import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isListeningMessage } from '@twin/service-kit/lifecycle';
import type { FunctionCase } from './bundles';
import type { DriverReport } from './lambda-driver';
import { median, round, summarize, type Summary } from './stats';

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
  testCase: FunctionCase,
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
  cases: FunctionCase[],
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

/**
 * Warm invocations of one function in one process: each one's duration (the Lambda "Duration" of a
 * warm call, ms) and the bytes of log it writes per invocation on average.
 */
export async function warmInvocations(
  testCase: FunctionCase,
  count: number,
  env: NodeJS.ProcessEnv,
): Promise<{ durations: number[]; logBytesPerInvocation: number }> {
  if (!testCase.bundle) throw new Error('warm invocations need a bundle');
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
  const report = JSON.parse(output.trim().split('\n').pop() ?? '{}') as DriverReport;
  return { durations: report.warmMs, logBytesPerInvocation: count > 0 ? report.warmLogBytes / count : 0 };
}

/**
 * A mesh workload's cold start: the backend spawned as its container starts it, timed until
 * /readyz answers 200 (polled every 5 ms), `runs` times after one untimed run; ms each. It binds port
 * 0 and reports the port over IPC, as under the local launcher, so no port is picked ahead of it.
 */
export async function backendStart(env: NodeJS.ProcessEnv, runs: number): Promise<number[]> {
  const dir = path.dirname(require.resolve('@twin/backend/package.json'));
  const times: number[] = [];
  for (let run = 0; run <= runs; run += 1) {
    const started = performance.now();
    const child = spawn(process.execPath, ['--require', './dist/instrumentation.js', 'dist/main.js'], {
      cwd: dir,
      env: {
        ...env,
        PORT: '0',
        APP_VERSION: '1.0.0',
        OTEL_TRACES_EXPORTER: 'none',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    let port: number | undefined;
    child.on('message', (message) => {
      if (isListeningMessage(message)) port = message.port;
    });
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`backend exited with ${child.exitCode} during start`);
        if (performance.now() - started > 30_000) throw new Error('backend not ready within 30 s');
        const ok =
          port !== undefined &&
          (await fetch(`http://127.0.0.1:${port}/readyz`).then(
            (response) => response.ok,
            () => false,
          ));
        if (ok) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // The first run warms the OS page cache and is not counted, as for the functions.
      if (run > 0) times.push(performance.now() - started);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  }
  return times;
}
