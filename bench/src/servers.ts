// A child process entry for the two trivial servers of the benchmarks:
//   raw FILE  answers every request with FILE's bytes as JSON: one bare node:http hop, the floor
//             that any service on this machine and with this load generator starts from;
//   sink      accepts OTLP/HTTP exports (any POST), reads and discards them, answers {}: a tracing
//             backend that costs the services nothing but the export itself. It counts the spans
//             (a substring count, not a parse) and, between POST /detail/on and /detail/off, also
//             tallies them by service and instrumentation scope; GET /stats returns the counts.
// Prints {"ready": "<url>"} on stdout once listening.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { onStopRequest } from '@twin/service-kit/lifecycle';
import type { Cleanup } from './cleanup';
import { ReadyChild } from './ready-child';

export type ServerMode = 'raw' | 'sink';

function rawServer(body: Buffer): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': body.length,
      });
      res.end(body);
    });
  });
}

export interface SinkStats {
  exports: number;
  spans: number;
  /** "service scope" -> spans, counted while detail was on. */
  detail: Record<string, number>;
}

interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: unknown[] }>;
  }>;
}

function tally(body: string, detail: Record<string, number>): void {
  const payload = JSON.parse(body) as OtlpExport;
  for (const resourceSpans of payload.resourceSpans ?? []) {
    const service =
      resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
    for (const scope of resourceSpans.scopeSpans ?? []) {
      const key = `${service} ${scope.scope?.name ?? '?'}`;
      detail[key] = (detail[key] ?? 0) + (scope.spans?.length ?? 0);
    }
  }
}

function sinkServer(): http.Server {
  const stats: SinkStats = { exports: 0, spans: 0, detail: {} };
  let detail = false;
  const answer = (res: http.ServerResponse, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/stats') return answer(res, stats);
      if (req.method === 'POST' && (req.url === '/detail/on' || req.url === '/detail/off')) {
        detail = req.url === '/detail/on';
        if (detail) stats.detail = {};
        return answer(res, {});
      }
      const body = Buffer.concat(chunks).toString('utf8');
      stats.exports += 1;
      stats.spans += body.split('"spanId"').length - 1;
      if (detail) {
        try {
          tally(body, stats.detail);
        } catch {
          // Not OTLP JSON: counted as an export, nothing more.
        }
      }
      answer(res, {});
    });
  });
}

function main(): void {
  const [mode, file] = process.argv.slice(2);
  let server: http.Server;
  if (mode === 'raw' && file) server = rawServer(readFileSync(file));
  else if (mode === 'sink') server = sinkServer();
  else {
    process.stderr.write('usage: servers.js raw FILE | sink\n');
    process.exit(2);
  }
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ ready: `http://127.0.0.1:${port}` })}\n`);
  });
  // SIGTERM from the bench, or the bench gone (its IPC channel closed).
  onStopRequest(() => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

if (require.main === module) main();

/** One of these servers, running in a child process. */
export interface ServerHandle {
  url: string;
  stop(): Promise<void>;
  pid: number;
}

async function spawnServer(cleanup: Cleanup, args: string[]): Promise<ServerHandle> {
  const child = cleanup.stopping(ReadyChild.start<string>(args[0] as string, 'servers.js', args, 20_000));
  return { url: await child.ready, stop: () => child.stop(), pid: child.pid as number };
}

/** The raw node:http hop, answering every request with `body`. */
export async function spawnRawServer(cleanup: Cleanup, body: string): Promise<ServerHandle> {
  const file = path.join(await cleanup.tempDir('bench-raw-'), 'body.json');
  await writeFile(file, body);
  return spawnServer(cleanup, ['raw', file]);
}

/** The OTLP sink: accepts and discards exports, counts spans (GET /stats). */
export function spawnOtlpSink(cleanup: Cleanup): Promise<ServerHandle> {
  return spawnServer(cleanup, ['sink']);
}
