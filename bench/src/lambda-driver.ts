// A child process entry that plays one Lambda execution environment from its first instant:
//   node lambda-driver.js BUNDLE EXPORT EVENT_FILE [WARM_INVOCATIONS]
// loads the esbuild bundle (the function's init), invokes the handler once (the cold invocation),
// optionally WARM more times, prints its timings as one JSON line and exits. Node built-ins only,
// so the driver itself adds next to nothing to what is measured.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface DriverReport {
  /** Process start to the moment the bundle began loading (node's own boot), ms. */
  bootMs: number;
  /** Loading the bundle: the function's init phase, ms. */
  initMs: number;
  /** The first invocation, ms. */
  firstInvokeMs: number;
  /** Later invocations in the same process, ms each. */
  warmMs: number[];
  /** Bytes the handler wrote to stdout and stderr (its log, which Lambda sends to CloudWatch) over the warm invocations. */
  warmLogBytes: number;
  statusCode?: number;
}

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode?: number } | undefined>;

async function main(): Promise<void> {
  const [bundle, exportName, eventFile, warm = '0'] = process.argv.slice(2);
  if (!bundle || !exportName || !eventFile)
    throw new Error('usage: lambda-driver.js BUNDLE EXPORT EVENT_FILE [WARM]');
  const bootMs = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const handler = (require(bundle) as Record<string, Handler>)[exportName];
  const initMs = performance.now() - bootMs;
  if (typeof handler !== 'function') throw new Error(`${bundle} has no export ${exportName}`);
  const event: unknown = JSON.parse(readFileSync(eventFile, 'utf8'));
  const context = {
    awsRequestId: 'bench',
    functionName: exportName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10_000,
  };
  const t0 = performance.now();
  const first = await handler(event, context);
  const firstInvokeMs = performance.now() - t0;
  const warmMs: number[] = [];
  let warmLogBytes = 0;
  const count = (stream: NodeJS.WriteStream) => {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      warmLogBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      return write(chunk, ...rest);
    }) as typeof stream.write;
    return () => (stream.write = write as typeof stream.write);
  };
  const restore = [count(process.stdout), count(process.stderr)];
  for (let i = 0; i < Number(warm); i += 1) {
    const t = performance.now();
    await handler(event, context);
    warmMs.push(performance.now() - t);
  }
  for (const undo of restore) undo();
  const report: DriverReport = {
    bootMs,
    initMs,
    firstInvokeMs,
    warmMs,
    warmLogBytes,
    statusCode: first?.statusCode,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  // The SDK keeps sockets open; a Lambda environment would be frozen here, this one just ends.
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
