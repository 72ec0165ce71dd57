// Runs the trace server in a worker thread of this process, with a hard cap on its heap.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_LIMITS, type TraceStoreLimits } from './limits';
import type { StoreStats } from './store';

export type ThreadMessage =
  { type: 'viewer'; url: string } | { type: 'stats'; id: number } | { type: 'close' };
export type ThreadReply =
  | { type: 'listening'; url: string }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'stats'; id: number; stats: ThreadStats };

/** The store's figures, plus the thread's V8 heap in use (bytes, garbage included). */
export interface ThreadStats extends StoreStats {
  heapUsed: number;
}

export interface TraceThreadOptions {
  /** 0 for any free port. */
  port: number;
  host?: string;
  limits?: Partial<TraceStoreLimits>;
  /** Told when the thread stops on its own (e.g. it ran out of its heap); the launcher carries on. */
  onExit?: (reason: string) => void;
}

export interface TraceThread {
  /** Jaeger's query API base and the OTLP/HTTP endpoint. */
  url: string;
  /** The thread's V8 old-generation cap, in MiB: the stored spans' budget plus working room. */
  heapCapMb: number;
  /** Sends browsers that open the root, /search or /trace/<id> to this page (e.g. the frontend). */
  setViewer(url: string): void;
  stats(): Promise<ThreadStats>;
  close(): Promise<void>;
}

/** Room beyond the stored spans: request bodies being parsed (up to 4 MiB each), answers, code. */
const WORKING_ROOM_MB = 64;
// Compiled output: from src (ts-jest) and from dist alike, the worker is dist/traces/worker.js.
const WORKER_FILE = path.join(__dirname, '..', '..', 'dist', 'traces', 'worker.js');

/**
 * Starts the trace server (see startTraceServer) in a worker thread whose old-generation heap V8
 * caps at the store's byte budget plus 64 MiB, so no input can grow the launcher beyond it. Rejects
 * when the port cannot be had (the error's `code`, e.g. EADDRINUSE, is kept).
 */
export async function startTraceThread(options: TraceThreadOptions): Promise<TraceThread> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const heapCapMb = Math.ceil(limits.maxBytes / 2 ** 20) + WORKING_ROOM_MB;
  const worker = new Worker(WORKER_FILE, {
    workerData: { port: options.port, host: options.host, limits },
    resourceLimits: { maxOldGenerationSizeMb: heapCapMb },
  });
  let closing = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const pending = new Map<number, (stats: ThreadStats) => void>();
  let nextId = 0;
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (reply: ThreadReply) => {
      if (reply.type === 'listening') resolve(reply.url);
      if (reply.type === 'failed') reject(Object.assign(new Error(reply.message), { code: reply.code }));
      if (reply.type === 'stats') pending.get(reply.id)?.(reply.stats);
    });
  });
  worker.removeAllListeners('error');
  worker.on('error', (error) => {
    if (!closing) options.onExit?.(error.message);
  });
  worker.on('exit', (code) => {
    if (!closing && code !== 0) options.onExit?.(`exit code ${code}`);
  });
  return {
    url,
    heapCapMb,
    setViewer: (viewer) => worker.postMessage({ type: 'viewer', url: viewer } satisfies ThreadMessage),
    stats: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error('the trace thread did not answer')), 10_000);
        pending.set(id, (stats) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(stats);
        });
        worker.postMessage({ type: 'stats', id } satisfies ThreadMessage);
      }),
    close: async () => {
      closing = true;
      worker.postMessage({ type: 'close' } satisfies ThreadMessage);
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
