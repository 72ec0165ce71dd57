import { randomUUID } from 'node:crypto';
import type { ProductInput } from './validation';

export interface Product {
  id: string;
  name: string;
  price: number;
  createdAt: string;
}

export function newProduct(input: ProductInput, now = new Date()): Product {
  return { id: randomUUID(), name: input.name, price: input.price, createdAt: now.toISOString() };
}
