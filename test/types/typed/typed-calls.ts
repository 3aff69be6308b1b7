// Type tests with generated tool types (examples/types/typed-tools.d.ts in the same program): precise
// names, arguments, results and chunks, with no casts. test/unit/typed/type-tests.test.ts expects no diagnostics here.
import { expectTypeOf } from 'vitest';
import { execute, executeStream, map, session, stream, type PyInt, type Snakepit } from 'snakepit';

declare const sp: Snakepit;
type Quote = { sku: string; quantity: PyInt; currency: 'EUR' | 'USD'; total: number };
type Product = { sku: string; name: string; price: number; tags: string[] };

export async function typedCalls(): Promise<void> {
  expectTypeOf(execute('add', { a: 1, b: 2 })).toEqualTypeOf<Promise<number>>();
  expectTypeOf(await sp.execute('quote', { sku: 'A-100' })).toEqualTypeOf<Quote>();
  expectTypeOf(await sp.execute('quote', { sku: 'A-100', quantity: 2n, currency: 'USD' }, { timeoutMs: 1_000 })).toEqualTypeOf<Quote>();
  expectTypeOf(await execute('find', { query: 'lamp' }, { pool: 'default' })).toEqualTypeOf<Product[]>();
  expectTypeOf(stream('restock', { skus: ['A-100'] })).toEqualTypeOf<AsyncIterableIterator<string>>();
  expectTypeOf(sp.stream('find', { query: 'x' })).toEqualTypeOf<AsyncIterableIterator<Product[]>>(); // one chunk: the result
  expectTypeOf(await execute('restock', { skus: [] })).toEqualTypeOf<string[]>(); // a generator's items
  expectTypeOf(session('cart').execute('add', { a: 1, b: 2 })).toEqualTypeOf<Promise<number>>();
  expectTypeOf(map('add', [{ a: 1, b: 2 }])).toEqualTypeOf<Promise<number[]>>();
  expectTypeOf(sp.map('quote', [{ sku: 'A-100' }], { mode: 'settle' })).toEqualTypeOf<Promise<PromiseSettledResult<Quote>[]>>();
  expectTypeOf(sp.mapIterable('find', [{ query: 'lamp' }])).toEqualTypeOf<AsyncIterableIterator<Product[]>>();
  expectTypeOf(sp.session('cart', { pool: 'default' }).stream('restock', { skus: [] })).toEqualTypeOf<AsyncIterableIterator<string>>();
  await executeStream('restock', { skus: [] }, (sku, info) => expectTypeOf(sku).toEqualTypeOf<string>() && info.final);
  await sp.session('cart').executeStream('restock', { skus: [] }, (sku) => expectTypeOf(sku).toEqualTypeOf<string>());
  // Arguments may be readonly; the tool name may come from a union of names.
  const skus = ['A-100', 'B-200'] as const;
  await sp.execute('restock', { skus });
  const tool = Math.random() > 0.5 ? ('add' as const) : ('add' as const);
  expectTypeOf(await sp.execute(tool, { a: 1, b: 2 })).toEqualTypeOf<number>();
}
