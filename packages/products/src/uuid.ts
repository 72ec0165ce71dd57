import * as z from 'zod/mini';

// Built on first use, not when the module loads: most cold starts never read an id.
let uuidSchema: z.ZodMiniUUID | undefined;

/**
 * Whether `text` is a UUID as RFC 9562 defines it (zod's definition), in any case: the one check
 * the ids of this system (made by crypto.randomUUID) go through wherever they come back in.
 */
export function isUuid(text: unknown): text is string {
  uuidSchema ??= z.uuid();
  return uuidSchema.safeParse(text).success;
}
