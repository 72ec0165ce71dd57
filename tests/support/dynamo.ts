import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { createDynamoClient, ensureTable } from '@twin/products';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** Creates a fresh table and returns its name. */
  table(): Promise<string>;
  close(): Promise<void>;
}

let tables = 0;

/** A real DynamoDB API (dynalite) on a loopback port, for tests. */
export async function startTestDynamo(): Promise<TestDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createDynamoClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    endpoint,
    client,
    async table() {
      const name = `products-${process.pid}-${++tables}`;
      await ensureTable(client, name);
      return name;
    },
    close: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
