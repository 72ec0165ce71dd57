import { z } from 'zod';
import { PayloadTooLargeError, ValidationError } from './errors';

/** A product body is a few dozen bytes; anything near this is abuse, not a product. */
export const MAX_PRODUCT_BODY_BYTES = 16 * 1024;
export const MAX_NAME_LENGTH = 200;
export const MAX_PAGE_SIZE = 100;
/** The largest price stored exactly: lib-dynamodb refuses numbers beyond the safe integers. */
export const MAX_PRICE = Number.MAX_SAFE_INTEGER;
/** The smallest non-zero number DynamoDB stores; anything smaller would fail as an underflow. */
export const MIN_POSITIVE_PRICE = 1e-130;
export const DEFAULT_PAGE_SIZE = 20;

function numberProblem(input: unknown): string {
  if (input === undefined) return 'is required';
  // JSON.parse turns 1e999 into Infinity, which zod rejects as a number.
  return typeof input === 'number' ? 'must be a finite number' : 'must be a number';
}

const productInputSchema = z.strictObject(
  {
    name: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
      .trim()
      .min(1, 'must not be empty')
      .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
      // A lone UTF-16 surrogate ("\ud800" in JSON) has no UTF-8 form, so no store can keep it.
      .refine((name) => !/\p{Cs}/u.test(name), 'must be valid Unicode text'),
    price: z
      .number({ error: (issue) => numberProblem(issue.input) })
      .nonnegative('must not be negative')
      .max(MAX_PRICE, `must be at most ${MAX_PRICE}`)
      .refine(
        (price) => price === 0 || price >= MIN_POSITIVE_PRICE,
        `must be 0 or at least ${MIN_POSITIVE_PRICE}`,
      ),
  },
  {
    error: (issue) => (issue.code === 'unrecognized_keys' ? 'is not a known field' : 'must be a JSON object'),
  },
);

export type ProductInput = z.infer<typeof productInputSchema>;

function firstProblem(error: z.ZodError): ValidationError {
  const issue = error.issues[0];
  if (!issue) return new ValidationError('invalid product');
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.map(String).join('.');
  return field
    ? new ValidationError(`${field}: ${issue.message}`, field)
    : new ValidationError(`body: ${issue.message}`);
}

/** Parses and validates a raw request body (JSON text) into a product input. */
export function parseProductInput(rawBody: string | undefined): ProductInput {
  if (rawBody === undefined || rawBody.trim() === '') throw new ValidationError('body: is required');
  if (Buffer.byteLength(rawBody) > MAX_PRODUCT_BODY_BYTES) {
    throw new PayloadTooLargeError(`request body is larger than ${MAX_PRODUCT_BODY_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
  const result = productInputSchema.safeParse(body);
  if (!result.success) throw firstProblem(result.error);
  return result.data;
}

const pageQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
    .default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(2048, 'is too long').optional(),
});

export type PageQuery = z.infer<typeof pageQuerySchema>;

export function parsePageQuery(query: Record<string, unknown>): PageQuery {
  const result = pageQuerySchema.safeParse({ limit: query.limit, cursor: query.cursor });
  if (!result.success) throw firstProblem(result.error);
  return result.data;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseProductId(id: string | undefined): string {
  if (!id || !UUID.test(id)) throw new ValidationError('id: must be a UUID', 'id');
  return id.toLowerCase();
}
