import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { invalidCursor } from './cursor';
import type { DynamoDb } from './dynamodb';
import { StoreUnavailableError, type ValidationError } from './errors';
import type { Product, ProductKey } from './product';
import { NEWEST_FIRST } from './table';

export interface StoredPage {
  /** Newest first. */
  items: Product[];
  /** The last item's key when DynamoDB says there may be more. */
  last?: ProductKey;
}

/** DynamoDB's answers to a request it finds malformed: the request, not the store, is at fault. */
const REQUEST_REFUSED = new Set(['ValidationException', 'SerializationException']);

/**
 * Runs one DynamoDB call and sorts what it throws. A request DynamoDB refuses because of what the
 * client sent (`clientInput`, e.g. a cursor's key) is that client's ValidationError; refused for
 * any other reason it is this code's bug (a plain Error, a 500). Everything else (unreachable,
 * throttled, timed out, failing, no such table, no access) is StoreUnavailableError: the request
 * may succeed later.
 */
async function guard<T>(operation: string, run: () => Promise<T>, clientInput?: ValidationError): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const cause = err as Error;
    if (REQUEST_REFUSED.has(cause.name)) {
      if (clientInput) throw clientInput;
      throw new Error(`${operation}: DynamoDB refused the request: ${cause.message}`, { cause });
    }
    throw new StoreUnavailableError(`${operation} failed: ${cause.name}: ${cause.message}`, { cause });
  }
}

/** The product fields of an item, without the index's key. */
function toProduct({ id, name, price, createdAt }: Record<string, unknown>): Product {
  return { id, name, price, createdAt } as Product;
}

const { indexName, partitionAttribute, partitionValue } = NEWEST_FIRST;

type Item = Record<string, AttributeValue>;

/**
 * Products in one DynamoDB table: partition key `id`, plus the newest-first index (table.ts). Items
 * are converted to and from DynamoDB's typed JSON by @aws-sdk/util-dynamodb, as the SDK's document
 * client converts them.
 */
export class ProductStore {
  constructor(
    private readonly dynamo: DynamoDb,
    readonly tableName: string,
  ) {}

  async create(product: Product): Promise<Product> {
    await guard('create', () =>
      this.dynamo.call('PutItem', {
        TableName: this.tableName,
        Item: marshall({ ...product, [partitionAttribute]: partitionValue }),
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
    return product;
  }

  async get(id: string): Promise<Product | undefined> {
    const { Item } = await guard('get', () =>
      this.dynamo.call<{ Item?: Item }>('GetItem', { TableName: this.tableName, Key: marshall({ id }) }),
    );
    return Item && toProduct(unmarshall(Item));
  }

  /** Up to `limit` products, newest first, starting after `after` (from a cursor) when given. */
  async list(limit: number, after?: ProductKey): Promise<StoredPage> {
    const { Items = [], LastEvaluatedKey } = await guard(
      'list',
      () =>
        this.dynamo.call<{ Items?: Item[]; LastEvaluatedKey?: Item }>('Query', {
          TableName: this.tableName,
          IndexName: indexName,
          KeyConditionExpression: '#partition = :partition',
          ExpressionAttributeNames: { '#partition': partitionAttribute },
          ExpressionAttributeValues: marshall({ ':partition': partitionValue }),
          ScanIndexForward: false,
          Limit: limit,
          ...(after && { ExclusiveStartKey: marshall({ ...after, [partitionAttribute]: partitionValue }) }),
        }),
      after && invalidCursor(),
    );
    const items = Items.map((item) => toProduct(unmarshall(item)));
    if (!LastEvaluatedKey) return { items };
    const { createdAt, id } = unmarshall(LastEvaluatedKey) as ProductKey;
    return { items, last: { createdAt, id } };
  }

  /** Returns whether the product existed. */
  async delete(id: string): Promise<boolean> {
    const { Attributes } = await guard('delete', () =>
      this.dynamo.call<{ Attributes?: Item }>('DeleteItem', {
        TableName: this.tableName,
        Key: marshall({ id }),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }
}
