import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { DynamoDb, type DynamoDbOptions } from './dynamodb';

/**
 * A DynamoDB client with deadlines, configured like every AWS SDK client from the environment
 * (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB for dynalite or dynamodb-local, credentials) unless
 * `overrides` says otherwise: for the table's set-up and readiness (table.ts). Create it once per
 * process.
 */
export function createDynamoClient(overrides: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
    ...overrides,
  });
}

/**
 * The product store's DynamoDB connection for a long-running service: region and endpoint from the
 * environment as the AWS SDK reads them, credentials from the SDK's default provider chain
 * (environment, shared files, web identity, container and instance metadata), unless `overrides`
 * says otherwise. A Lambda function passes its environment's credentials instead (dynamodb.ts).
 */
export function createDynamoDb(overrides: Partial<DynamoDbOptions> = {}): DynamoDb {
  return new DynamoDb({ credentials: defaultProvider(), ...overrides });
}
