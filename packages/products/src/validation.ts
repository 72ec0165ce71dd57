// zod's mini build: the same checks as the classic API, as functions a bundler can drop when they go
// unused, so the Lambda bundle carries a few KiB of the library instead of all of it.
import * as z from 'zod/mini';
import { readPageQuery } from '@twin/service-kit/page-query';
import { decodeCursor } from './cursor';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from './errors';
import type { ProductKey } from './product';
import { isUuid } from './uuid';

/** A product body is a few dozen bytes; anything near this is abuse, not a product (bytes). */
export const MAX_PRODUCT_BODY_BYTES = 16 * 1024;
/** In grapheme clusters: the characters a person sees, however many code points each takes. */
export const MAX_NAME_LENGTH = 200;
/** The largest price stored exactly: @aws-sdk/util-dynamodb's marshall refuses numbers beyond the safe integers. */
export const MAX_PRICE = Number.MAX_SAFE_INTEGER;
/** The smallest non-zero number DynamoDB stores; anything smaller would fail as an underflow. */
export const MIN_POSITIVE_PRICE = 1e-130;

const CONTROL = /\p{Cc}/u;
/**
 * Explicit directional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, Unicode
 * UAX #9): they reorder how the text around them is shown, so a name could display as another.
 */
const BIDI_OVERRIDE = /[\u202A-\u202E\u2066-\u2069]/u;
/** A lone UTF-16 surrogate ("\ud800" in JSON) has no UTF-8 form, so no store can keep it. */
const LONE_SURROGATE = /\p{Cs}/u;
/**
 * A letter, digit, punctuation mark or symbol that is not default-ignorable: U+200B ZERO WIDTH
 * SPACE is a format character and U+3164 HANGUL FILLER a letter, and both show as nothing.
 */
const VISIBLE = /(?!\p{Default_Ignorable_Code_Point})[\p{L}\p{N}\p{P}\p{S}]/u;

let graphemes: Intl.Segmenter | undefined;

/** How many grapheme clusters (Unicode UAX #29, as Intl.Segmenter splits them) `text` has. */
export function graphemeCount(text: string): number {
  graphemes ??= new Intl.Segmenter('und', { granularity: 'grapheme' });
  let count = 0;
  for (const _ of graphemes.segment(text)) count += 1;
  return count;
}

function numberProblem(input: unknown): string {
  if (input === undefined) return 'is required';
  // JSON.parse turns 1e999 into Infinity, which zod rejects as a number.
  return typeof input === 'number' ? 'must be a finite number' : 'must be a number';
}

// Built on first use: a cold start whose first request lists products never pays for the product
// schema.
const productInputSchema = () =>
  z.strictObject(
    {
      name: z
        .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
        .check(
          // Stored composed (NFC), so "é" typed as e + U+0301 and as U+00E9 is the same name.
          z.normalize('NFC'),
          z.trim(),
          z.minLength(1, 'must not be empty'),
          z.refine((name) => !CONTROL.test(name), 'must not contain control characters'),
          z.refine((name) => !BIDI_OVERRIDE.test(name), 'must not contain bidirectional overrides'),
          z.refine((name) => !LONE_SURROGATE.test(name), 'must be valid Unicode text'),
          z.refine((name) => VISIBLE.test(name), 'must contain a visible character'),
          z.refine(
            (name) => graphemeCount(name) <= MAX_NAME_LENGTH,
            `must be at most ${MAX_NAME_LENGTH} characters`,
          ),
        ),
      price: z.number({ error: (issue) => numberProblem(issue.input) }).check(
        z.minimum(0, 'must not be negative'),
        z.maximum(MAX_PRICE, `must be at most ${MAX_PRICE}`),
        z.refine(
          (price) => price === 0 || price >= MIN_POSITIVE_PRICE,
          `must be 0 or at least ${MIN_POSITIVE_PRICE}`,
        ),
      ),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? 'is not a known field' : 'must be a JSON object',
    },
  );

export type ProductInput = z.infer<ReturnType<typeof productInputSchema>>;
let productInput: ReturnType<typeof productInputSchema> | undefined;

/** The first problem zod found, as the API reports it: `<field>: <what is wrong>`. */
function firstProblem(error: z.core.$ZodError): ValidationError {
  const issue = error.issues[0];
  if (!issue) return new ValidationError('invalid product');
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.map(String).join('.');
  return field
    ? new ValidationError(`${field}: ${issue.message}`, field)
    : new ValidationError(`body: ${issue.message}`);
}

let utf8: InstanceType<typeof TextDecoder> | undefined;

/**
 * The JSON text of a request body, checked in this order: at most MAX_PRODUCT_BODY_BYTES bytes
 * (PayloadTooLargeError), sent as it is (`contentEncoding` absent or identity, else
 * UnsupportedMediaTypeError), UTF-8 (JSON's encoding, RFC 8259; a byte order mark is dropped).
 * A string is text already; no body at all reads as an empty one.
 */
function bodyText(body: Uint8Array | string | undefined, contentEncoding: string | undefined): string {
  const size = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > MAX_PRODUCT_BODY_BYTES) {
    throw new PayloadTooLargeError(`request body is larger than ${MAX_PRODUCT_BODY_BYTES} bytes`);
  }
  const coding = contentEncoding?.trim().toLowerCase();
  if (coding && coding !== 'identity') {
    throw new UnsupportedMediaTypeError('request body must be sent without a content encoding');
  }
  if (body === undefined || typeof body === 'string') return body ?? '';
  try {
    utf8 ??= new TextDecoder('utf-8', { fatal: true });
    return utf8.decode(body);
  } catch {
    throw new ValidationError('request body is not valid UTF-8');
  }
}

/**
 * Parses and validates a request body (bytes as they arrived, or text) into a product input.
 * Throws PayloadTooLargeError, UnsupportedMediaTypeError or ValidationError (with the field).
 */
export function parseProductInput(
  body: Uint8Array | string | undefined,
  contentEncoding?: string,
): ProductInput {
  const text = bodyText(body, contentEncoding);
  if (text.trim() === '') throw new ValidationError('body: is required');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
  productInput ??= productInputSchema();
  const result = productInput.safeParse(value);
  if (!result.success) throw firstProblem(result.error);
  return result.data;
}

export interface PageQuery {
  /** 1 to MAX_PAGE_SIZE products. */
  limit: number;
  /** The page starts after this product (from the cursor). */
  after?: ProductKey;
}

/**
 * Validates `?limit` and `?cursor` as every paged list does (readPageQuery: query values as Express
 * parses them, a repeated key is an array) and decodes the cursor. Throws ValidationError naming the
 * field.
 */
export function parsePageQuery(query: Record<string, unknown>): PageQuery {
  const { limit, cursor } = readPageQuery(query, (message, field) => new ValidationError(message, field));
  return cursor === undefined ? { limit } : { limit, after: decodeCursor(cursor) };
}

/** A product id from a path: a UUID, returned in lower case as ids are stored. */
export function parseProductId(id: string | undefined): string {
  if (!isUuid(id)) throw new ValidationError('id: must be a UUID', 'id');
  return id.toLowerCase();
}
