// The query of a paged list (`?limit=&cursor=`), read the same way by every list the project serves
// (GET /api/products on both twins, GET /api/images). Its own subpath (`@twin/service-kit/page-query`)
// keeps Express out of a Lambda bundle, and zod/mini keeps the rest of zod out of it too.
import * as z from 'zod/mini';

/** Items on a page when `?limit` is absent. */
export const DEFAULT_PAGE_SIZE = 20;
/** The most items a page holds. */
export const MAX_PAGE_SIZE = 100;
/** Far longer than any cursor the project issues (about 100 characters for products, in characters). */
export const MAX_CURSOR_LENGTH = 2048;

/** A page query as validated: the cursor is still opaque, for the list's owner to decode. */
export interface PageQuery {
  /** 1 to MAX_PAGE_SIZE items. */
  limit: number;
  /** Where the page starts, as the previous page's `nextCursor` said. */
  cursor?: string;
}

/** Builds the error a list answers for a bad query; `message` reads `<field>: <what is wrong>`. */
export type PageQueryProblem = (message: string, field: 'limit' | 'cursor') => Error;

// Built on first use: a Lambda cold start whose first request creates a product never pays for it.
const pageQuerySchema = () =>
  z.object({
    limit: z._default(
      z.coerce
        .number({ error: 'must be a number' })
        .check(
          z.refine(Number.isInteger, 'must be an integer'),
          z.minimum(1, 'must be at least 1'),
          z.maximum(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`),
        ),
      DEFAULT_PAGE_SIZE,
    ),
    cursor: z.optional(
      z.string({ error: 'must be a string' }).check(z.maxLength(MAX_CURSOR_LENGTH, 'is too long')),
    ),
  });

let pageQuery: ReturnType<typeof pageQuerySchema> | undefined;

/**
 * Validates `?limit` (an integer from 1 to MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent) and
 * `?cursor` (at most MAX_CURSOR_LENGTH characters), each given at most once. `query` is as Express
 * parses a query string (a repeated key is an array). Throws the error `problem` builds for the
 * first field that is wrong.
 */
export function readPageQuery(query: Record<string, unknown>, problem: PageQueryProblem): PageQuery {
  for (const field of ['limit', 'cursor'] as const) {
    if (Array.isArray(query[field])) throw problem(`${field}: must be given once`, field);
  }
  pageQuery ??= pageQuerySchema();
  const result = pageQuery.safeParse({ limit: query.limit, cursor: query.cursor });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path[0] === 'cursor' ? 'cursor' : 'limit';
  throw problem(`${field}: ${issue?.message ?? 'is invalid'}`, field);
}
