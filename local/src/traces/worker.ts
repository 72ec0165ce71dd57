// The trace server's thread: the launcher runs it apart from its own event loop (dynalite, s3rver),
// so parsing exports never delays a DynamoDB or S3 answer, and V8 caps this thread's heap.
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { startTraceServer, type TraceServerOptions } from './server';
import type { ThreadMessage, ThreadReply } from './thread';

const port = parentPort;
if (!port) throw new Error('worker.js runs as a worker thread of the launcher');
let viewerUrl: string | undefined;
const options = workerData as Omit<TraceServerOptions, 'viewerUrl'>;

startTraceServer({ ...options, viewerUrl: () => viewerUrl }).then(
  (server) => {
    port.postMessage({ type: 'listening', url: server.url } satisfies ThreadReply);
    port.on('message', (message: ThreadMessage) => {
      if (message.type === 'viewer') viewerUrl = message.url;
      if (message.type === 'stats')
        port.postMessage({
          type: 'stats',
          id: message.id,
          stats: { ...server.stats(), heapUsed: v8.getHeapStatistics().used_heap_size },
        } satisfies ThreadReply);
      if (message.type === 'close') void server.close().then(() => port.close());
    });
  },
  (error: Error) =>
    port.postMessage({
      type: 'failed',
      message: error.message,
      code: (error as NodeJS.ErrnoException).code,
    } satisfies ThreadReply),
);
