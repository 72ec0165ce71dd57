import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/**
 * A DynamoDB client with deadlines, configured like every AWS SDK client from the environment
 * (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB for dynalite or dynamodb-local, credentials) unless
 * `overrides` says otherwise. Create it once per process or Lambda container.
 */
export function createDynamoClient(overrides: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
    ...overrides,
  });
}
