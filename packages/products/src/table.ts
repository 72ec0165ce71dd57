import * as z from 'zod/mini';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/**
 * The newest-first listing: a global secondary index whose partition key holds one fixed value for
 * every product and whose sort key is `createdAt`, queried backwards (the standard DynamoDB pattern
 * for a global order). lambda/template.yaml declares the same index for AWS.
 *
 * The trade-off: every product lives in one index partition, and one partition takes at most about
 * 1,000 writes and 3,000 reads (4 KB units) a second. Past that, shard the key: write
 * `product#<n>` with n = a hash of the id modulo N, query the N partitions and merge them by
 * `createdAt` (a cursor then holds one position per shard).
 */
export const NEWEST_FIRST = {
  indexName: 'newest-first',
  partitionAttribute: 'kind',
  partitionValue: 'product',
  sortAttribute: 'createdAt',
} as const;

/**
 * The products table, all but its name: keyed by `id` (string), with the newest-first index,
 * on-demand. The shape is CreateTable's, which is also the shape of an `AWS::DynamoDB::Table`'s
 * properties: lambda/template.yaml declares the table for AWS, and its test checks it against this.
 */
export const PRODUCTS_TABLE: Omit<CreateTableCommandInput, 'TableName'> = {
  AttributeDefinitions: [
    { AttributeName: 'id', AttributeType: 'S' },
    { AttributeName: NEWEST_FIRST.partitionAttribute, AttributeType: 'S' },
    { AttributeName: NEWEST_FIRST.sortAttribute, AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    {
      IndexName: NEWEST_FIRST.indexName,
      KeySchema: [
        { AttributeName: NEWEST_FIRST.partitionAttribute, KeyType: 'HASH' },
        { AttributeName: NEWEST_FIRST.sortAttribute, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};

/**
 * Creates the products table ({@link PRODUCTS_TABLE}) if it is missing: for local and dev stores
 * (dynalite, dynamodb-local). In AWS the table belongs to the SAM template, not to the code.
 * Returns what it found; throws what DynamoDB throws.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return 'exists';
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  try {
    await client.send(new CreateTableCommand({ TableName: tableName, ...PRODUCTS_TABLE }));
  } catch (err) {
    // Another replica won the race: fine.
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
  return 'created';
}

/**
 * Readiness: the table answers and has its newest-first index, active. Throws an Error saying which
 * is missing (a table created before the index existed needs it added: see lambda/template.yaml).
 */
export async function checkTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }), {
    abortSignal: AbortSignal.timeout(2000),
  });
  const index = Table?.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === NEWEST_FIRST.indexName);
  if (!index) throw new Error(`table ${tableName} has no index ${NEWEST_FIRST.indexName}`);
  if (index.IndexStatus && index.IndexStatus !== 'ACTIVE') {
    throw new Error(`index ${NEWEST_FIRST.indexName} of table ${tableName} is ${index.IndexStatus}`);
  }
}

/**
 * TABLE_NAME, as the backend and the Lambda function read it: a DynamoDB table name (3 to 255
 * letters, digits, `_`, `-` or `.`), `products` when unset.
 */
export const tableNameEnv = z._default(
  z
    .string()
    .check(z.regex(/^[\w.-]{3,255}$/, 'must be 3 to 255 letters, digits, _, - or . (a DynamoDB table name)')),
  'products',
);
