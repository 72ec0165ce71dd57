import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { LOCAL_CREDENTIALS } from '@twin/lambda/dist/runtime/local-env';
import { httpUrl } from './ports';
import { conformToS3 } from './s3-conformance';

/** s3rver's own dev credentials (it accepts no others), as the AWS SDK's clients take them. */
export const S3RVER_CREDENTIALS = {
  accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID,
  secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
};

/** One record of an S3 event notification, as s3rver emits it (the key not yet encoded). */
export interface S3EventRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
  [field: string]: unknown;
}

export interface LocalObjectStore {
  endpoint: string;
  bucket: string;
  /** Whether it is serving requests (false between stop() and start()). */
  readonly running: boolean;
  onObjectEvent(listener: (record: S3EventRecord) => void): void;
  /**
   * An outage of the object store, for fault tests: stops listening (new connections are refused),
   * lets requests in progress finish for up to `graceMs` so no object is left half-written, then
   * drops the rest. The objects stay.
   */
  stop(graceMs?: number): Promise<void>;
  /** Serves the same objects again, on the same port, with the same event listeners. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ObjectStoreOptions {
  /** 0 for any free port. */
  port: number;
  /** Created empty at start. */
  bucket: string;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * s3rver as published, without `conformToS3` (conditional writes, paged listings...): for tests
   * that show what the conformance layer changes.
   */
  asPublished?: boolean;
}

/**
 * s3rver in this process: the real S3 API on `host:port`, objects in a temporary folder removed at
 * close, made to follow S3 where s3rver does not (`conformToS3`) unless `asPublished`. The one
 * object store of the local stack and of the tests.
 */
export async function startObjectStore({
  port,
  bucket,
  host = '127.0.0.1',
  asPublished = false,
}: ObjectStoreOptions): Promise<LocalObjectStore> {
  const directory = await mkdtemp(path.join(tmpdir(), 'twin-s3-'));
  const listeners: Array<(record: S3EventRecord) => void> = [];
  let server: S3rver | undefined;

  // A fresh s3rver over the same folder each time: one that was closed has closed its logger too.
  const listen = async (at: number) => {
    const instance = new S3rver({
      address: host,
      port: at,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    if (!asPublished) conformToS3(instance);
    instance.on('event', (event: { Records: S3EventRecord[] }) =>
      event.Records.forEach((record) => listeners.forEach((listener) => listener(record))),
    );
    const address = await instance.run();
    server = instance;
    return address.port;
  };
  const halt = async (graceMs: number) => {
    const current = server;
    if (!current) return;
    server = undefined;
    const httpServer = current.httpServer;
    const closed = current.close();
    // Keep-alive connections go as soon as their request is answered.
    httpServer?.closeIdleConnections();
    const idle = setInterval(() => httpServer?.closeIdleConnections(), 20);
    const force = setTimeout(() => httpServer?.closeAllConnections(), graceMs);
    await closed;
    clearInterval(idle);
    clearTimeout(force);
  };

  const actual = await listen(port);
  return {
    endpoint: httpUrl(host, actual),
    bucket,
    get running() {
      return server !== undefined;
    },
    onObjectEvent(listener) {
      listeners.push(listener);
    },
    stop: (graceMs = 5000) => halt(graceMs),
    async start() {
      if (server) return;
      await listen(actual);
    },
    async close() {
      await halt(0);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
