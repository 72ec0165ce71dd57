import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, DynamoDb, ensureTable } from '@twin/products';
import { startDynamo } from '../../local/src/dynamodb';
import { S3RVER_CREDENTIALS } from '../../local/src/object-store';

export interface TestDynamo {
  endpoint: string;
  /** The SDK client, for the table's set-up and readiness. */
  client: DynamoDBClient;
  /** The product store's connection (ProductStore), to the same dynalite. */
  db: DynamoDb;
  /** Creates a fresh table and returns its name. */
  table(): Promise<string>;
  close(): Promise<void>;
}

let tables = 0;

/** The local stack's dynalite on a free loopback port, with clients that do not retry, for tests. */
export async function startTestDynamo(): Promise<TestDynamo> {
  const dynamo = await startDynamo(0);
  const client = createDynamoClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    maxAttempts: 1,
  });
  const db = new DynamoDb({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: async () => S3RVER_CREDENTIALS,
    maxAttempts: 1,
  });
  return {
    endpoint: dynamo.endpoint,
    client,
    db,
    async table() {
      const name = `products-${process.pid}-${++tables}`;
      await ensureTable(client, name);
      return name;
    },
    async close() {
      client.destroy();
      db.destroy();
      await dynamo.close();
    },
  };
}
