import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, ensureTable } from '@twin/products';
import { startDynamo } from '../../local/src/dynamodb';
import { S3RVER_CREDENTIALS } from '../../local/src/object-store';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** Creates a fresh table and returns its name. */
  table(): Promise<string>;
  close(): Promise<void>;
}

let tables = 0;

/** The local stack's dynalite on a free loopback port, with a client that does not retry, for tests. */
export async function startTestDynamo(): Promise<TestDynamo> {
  const dynamo = await startDynamo(0);
  const client = createDynamoClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    maxAttempts: 1,
  });
  return {
    endpoint: dynamo.endpoint,
    client,
    async table() {
      const name = `products-${process.pid}-${++tables}`;
      await ensureTable(client, name);
      return name;
    },
    async close() {
      client.destroy();
      await dynamo.close();
    },
  };
}
