// The products card: the list, newest first, paged, and the form that adds one.
import { api, unreachable } from './api.js';
import type { Product } from './api-types.js';
import { byId, clearFieldError, setStatus, showFieldError } from './dom.js';
import { problemOf, productPayload } from './lib.js';

const products = new Map<string, Product>();
let productsCursor: string | undefined;
const priceFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function renderProducts(): void {
  const rows = [...products.values()]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((product) => {
      const row = document.createElement('tr');
      row.dataset.id = product.id;
      const name = document.createElement('td');
      name.textContent = product.name;
      const price = document.createElement('td');
      price.className = 'num';
      price.textContent = priceFormat.format(product.price);
      const added = document.createElement('td');
      const time = document.createElement('time');
      time.dateTime = product.createdAt;
      time.textContent = dateFormat.format(new Date(product.createdAt));
      added.append(time);
      row.append(name, price, added);
      return row;
    });
  byId('product-rows').replaceChildren(...rows);
  byId('product-table').hidden = rows.length === 0;
  byId('products-empty').hidden = rows.length > 0;
  byId('products-more').hidden = !productsCursor;
}

/** Loads the first page of products, or with `more` the next one after those shown. */
export async function loadProducts(more = false): Promise<void> {
  const status = byId('products-status');
  const query = new URLSearchParams({ limit: '100' });
  if (more && productsCursor) query.set('cursor', productsCursor);
  try {
    const result = await api<{ items?: Product[]; nextCursor?: string }>(`/api/products?${query}`);
    if (!result.ok) {
      setStatus(
        status,
        `Could not load products: ${problemOf(result.status, result.body).message}`,
        'error',
        result.trace,
      );
      return;
    }
    if (!more) products.clear();
    for (const product of result.body?.items ?? []) products.set(product.id, product);
    productsCursor = result.body?.nextCursor;
    status.replaceChildren();
    renderProducts();
  } catch (error) {
    setStatus(status, `Could not load products: ${unreachable(error).message}`, 'error');
  }
}

/** Wires the add-product form (errors beside the field the API names) and "Show more". */
export function setUpProducts(): void {
  const form = byId<HTMLFormElement>('product-form');
  const name = byId<HTMLInputElement>('product-name');
  const price = byId<HTMLInputElement>('product-price');
  const fields: Record<string, HTMLInputElement> = { name, price };
  const status = byId('product-status');
  const submit = form.querySelector('button[type="submit"]') as HTMLButtonElement;
  for (const input of [name, price]) input.addEventListener('input', () => clearFieldError(input));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldError(name);
    clearFieldError(price);
    submit.disabled = true;
    setStatus(status, 'Saving…', 'busy');
    try {
      const result = await api<Product>('/api/products', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(productPayload(name.value, price.value)),
      });
      if (result.ok) {
        products.set(result.body.id, result.body);
        renderProducts();
        form.reset();
        setStatus(status, `Added “${result.body.name}”.`, 'ok', result.trace);
        return;
      }
      const problem = problemOf(result.status, result.body);
      const input = problem.field ? fields[problem.field] : undefined;
      if (input) {
        showFieldError(input, problem.message);
        setStatus(status, 'Not saved: check the highlighted field.', 'error', result.trace);
        input.focus();
      } else setStatus(status, `Not saved: ${problem.message}`, 'error', result.trace);
    } catch (error) {
      setStatus(status, `Not saved: ${unreachable(error).message}`, 'error');
    } finally {
      submit.disabled = false;
    }
  });
  byId('products-more').addEventListener('click', () => void loadProducts(true));
}
