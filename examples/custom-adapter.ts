// guides/python-adapters.md, run end to end:
//   npx snakepit run examples/custom-adapter.ts --config examples/custom-adapter.config.ts
import { execute, isSnakepitError, registerTool, session, stream, type Snakepit } from 'snakepit';

// #region host-tool
const prices: Record<string, number> = { apple: 0.5, bread: 2.25, cheese: 4.1 };
registerTool('lookup_price', ({ item }) => ({ price: prices[String(item)] ?? 0 }), {
  description: 'Price of one item',
  exposedToPython: true, // without it Python cannot see the tool
  parameters: [{ name: 'item', type: 'string', required: true }],
});
// #endregion host-tool

export default async function main(sp: Snakepit) {
  // #region calls
  console.log('add', await execute('add', { a: 2, b: 3 }));
  console.log('mean', await execute('mean', { values: [1, 2, 3, 4] }));
  try {
    await execute('mean', { values: [] });
  } catch (error) {
    if (!isSnakepitError(error)) throw error;
    console.log('mean([])', error.code, error.name); // python_error PythonValueError
  }
  try {
    await execute('discount', { code: 'NOPE' });
  } catch (error) {
    if (!isSnakepitError(error)) throw error;
    console.log('discount', error.details.code, error.details.known); // unknown_discount [ 'WELCOME' ]
  }
  // #endregion calls

  // #region streaming
  for await (const chunk of stream('countdown', { n: 3 })) console.log('countdown', chunk);
  for await (const chunk of stream<{ left: number }>('countdown', { n: 100 })) {
    if (chunk.left === 98) break; // cancels the generator in Python
  }
  for await (const line of stream('price_basket', { items: ['apple', 'bread', 'cheese'] })) console.log('basket', line);
  console.log('price_of', await execute('price_of', { item: 'bread' })); // price_of { price: 2.25 }
  // #endregion streaming

  // #region session
  const s = session('customer-1');
  await s.execute('cart_add', { item: 'apple' });
  console.log('cart', await s.execute('cart_add', { item: 'bread' }), s.state.get('cart'));
  await s.end(); // runs cleanup_session on the worker(s) that served it
  // #endregion session

  console.log('tools', sp.tools().map((t) => t.name).join(' '));
}
