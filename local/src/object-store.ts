import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/** s3rver's own dev credentials; it accepts no others. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** One record of an S3 event notification, as s3rver emits it (the key not yet encoded). */
export interface S3EventRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
  [field: string]: unknown;
}

export interface LocalObjectStore {
  endpoint: string;
  bucket: string;
  onObjectEvent(listener: (record: S3EventRecord) => void): void;
  close(): Promise<void>;
}

/** s3rver in this process: the real S3 API on loopback, objects in a temporary folder. */
export async function startObjectStore(port: number, bucket: string): Promise<LocalObjectStore> {
  const directory = await mkdtemp(path.join(tmpdir(), 'twin-s3-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port: actual } = await s3rver.run();
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    bucket,
    onObjectEvent(listener) {
      s3rver.on('event', (event: { Records: S3EventRecord[] }) => event.Records.forEach(listener));
    },
    async close() {
      s3rver.httpServer?.closeAllConnections();
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
