// Typed calls: `npx snakepit gen types --config examples/typed-tools.config.ts` wrote
// examples/types/typed-tools.d.ts from the adapter's type hints; these calls are checked against it
// (a wrong tool name, a missing argument or a misused result does not compile) with no casts.
// Run: npx snakepit run examples/typed-tools.ts --config examples/typed-tools.config.ts
// #region calls
import { execute, isSnakepitError, session, stream } from 'snakepit';

const sum = await execute('add', { a: 1, b: 2 }); // number
console.log('add:', sum.toFixed(1));

const quote = await execute('quote', { sku: 'A-100', quantity: 3 }); // { sku, quantity, currency, total }
console.log(`quote: ${quote.quantity} x ${quote.sku} = ${quote.total} ${quote.currency}`);

for (const product of await execute('find', { query: 'lamp', limit: 5 })) {
  console.log(`found: ${product.name} (${product.tags.join(', ')})`); // product: Product
}

for await (const sku of stream('restock', { skus: ['A-100', 'B-200'] })) console.log('restocked:', sku.toLowerCase());

const cart = session('user-1');
console.log('in session:', (await cart.execute('quote', { sku: 'C-300', currency: 'USD' })).total);
// #endregion calls

// #region runtime-check
// validateArgs: true checks arguments on the host too, for values the compiler cannot see.
const fromJson = JSON.parse('{ "a": "1", "b": 2 }') as { a: number; b: number };
try {
  await execute('add', fromJson);
} catch (error) {
  if (!isSnakepitError(error)) throw error;
  console.log('error:', error.code, JSON.stringify(error.details.issues)); // invalid_args [{ path: 'a', expected: 'number', ... }]
}
// #endregion runtime-check
