// Type tests: each line marked `// ✗ <code>` must fail to compile with that TypeScript diagnostic code,
// and no other line may fail (test/unit/typed/type-tests.test.ts), so the types cannot silently become `any`.
import { execute, session, stream, type Snakepit } from 'snakepit';

declare const sp: Snakepit;

export async function mistakes(): Promise<void> {
  // #region mistakes
  await execute('ad', { a: 1, b: 2 }); // ✗ 2345 (no tool 'ad')
  await execute('add', { a: 1 }); // ✗ 2345 (b missing)
  await execute('add', { a: 1, b: 2, c: 3 }); // ✗ 2353 (no parameter c)
  await execute('add', { a: '1', b: 2 }); // ✗ 2322 (a is a number)
  await execute('quote'); // ✗ 2554 (sku is required)
  await execute('quote', { sku: 'A-100', currency: 'GBP' }); // ✗ 2322 (not a currency of the Literal)
  await execute('add', { a: 1, b: 2 }, { pool: 'nope' }); // ✗ 2322 (no pool 'nope')
  await session('cart').execute('nope', {}); // ✗ 2345 (no tool 'nope')
  await sp.execute<{ total: number }>('quote', { sku: 'A-100' }); // ✗ 2344 (the generated type decides)
  const text: string = await execute('add', { a: 1, b: 2 }); // ✗ 2322 (the result is a number)
  const price = (await execute('quote', { sku: 'A-100' })).price; // ✗ 2339 (Quote has no price)
  const units: number = (await execute('quote', { sku: 'A-100' })).quantity; // ✗ 2322 (an int may be a bigint)
  for await (const sku of stream('restock', { skus: [] })) sku.toFixed(); // ✗ 2551 (a chunk is a string)
  (await sp.execute('find', { query: 'x' }))[0]?.tags.push(1); // ✗ 2345 (tags are strings)
  // #endregion mistakes
  await sp.map('add', [{ a: 1, b: 2 }, { a: 1 }]); // ✗ 2345 (an input without b)
  const totals: string[] = await sp.map('quote', [{ sku: 'A-100' }]); // ✗ 2322 (the results are quotes)
  void [text, price, units, totals];
}
