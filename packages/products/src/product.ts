import { randomUUID } from 'node:crypto';
import type { ProductInput } from './validation';

export interface Product {
  /** A UUID, lower case. */
  id: string;
  /** NFC-normalised, trimmed, 1 to MAX_NAME_LENGTH grapheme clusters. */
  name: string;
  price: number;
  /** ISO 8601 in UTC with milliseconds, as Date.prototype.toISOString writes it. */
  createdAt: string;
}

/** Where a page of the newest-first listing stops: the last product's creation time and id. */
export type ProductKey = Pick<Product, 'createdAt' | 'id'>;

export function newProduct(input: ProductInput, now = new Date()): Product {
  return { id: randomUUID(), name: input.name, price: input.price, createdAt: now.toISOString() };
}
