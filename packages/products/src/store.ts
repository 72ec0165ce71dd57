import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from './cursor';
import { StoreUnavailableError } from './errors';
import type { Product } from './product';

export interface ProductPage {
  items: Product[];
  nextCursor?: string;
}

/** Input is validated before it gets here, so whatever DynamoDB throws is an outage to report. */
async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const cause = err as Error;
    throw new StoreUnavailableError(`${operation} failed: ${cause.name}: ${cause.message}`, { cause });
  }
}

/** Products in one DynamoDB table with partition key `id`. */
export class ProductStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async create(product: Product): Promise<Product> {
    await guard('create', () =>
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: product,
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      ),
    );
    return product;
  }

  async get(id: string): Promise<Product | undefined> {
    const { Item } = await guard('get', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id } })),
    );
    return Item as Product | undefined;
  }

  async list(limit: number, cursor?: string): Promise<ProductPage> {
    const startKey = decodeCursor(cursor);
    const { Items = [], LastEvaluatedKey } = await guard('list', () =>
      this.documents.send(
        new ScanCommand({ TableName: this.tableName, Limit: limit, ExclusiveStartKey: startKey }),
      ),
    );
    const nextCursor = encodeCursor(LastEvaluatedKey);
    return nextCursor ? { items: Items as Product[], nextCursor } : { items: Items as Product[] };
  }

  /** Returns whether the product existed. */
  async delete(id: string): Promise<boolean> {
    const { Attributes } = await guard('delete', () =>
      this.documents.send(
        new DeleteCommand({ TableName: this.tableName, Key: { id }, ReturnValues: 'ALL_OLD' }),
      ),
    );
    return Attributes !== undefined;
  }
}
