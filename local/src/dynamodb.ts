import type { Server } from 'node:http';
import dynalite from 'dynalite';
import { httpUrl } from './ports';

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** dynalite in this process: the real DynamoDB API on `host:port` (port 0: any free one), tables in memory. */
export async function startDynamo(port: number, host = '127.0.0.1'): Promise<LocalDynamo> {
  // Without these, each table takes half a second to become ACTIVE.
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as { port: number };
  return {
    endpoint: httpUrl(host, actual),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
