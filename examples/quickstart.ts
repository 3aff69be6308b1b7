// The quickstart: `npx snakepit run examples/quickstart.ts --config examples/quickstart.config.ts`
// (what `npm run quickstart` runs). `snakepit run` starts the pools of the config, runs this
// file with them as the default instance, and always stops the workers.
// #region script
import { execute, isSnakepitError, stream } from 'snakepit';

console.log('add:', await execute('add', { a: 10, b: 25 })); // add: { result: 35 }

for await (const chunk of stream('count', { n: 3 })) console.log('chunk:', chunk); // chunk: { step: 1, of: 3 } ...

try {
  await execute('add', { a: 1 }); // b is missing
} catch (error) {
  if (!isSnakepitError(error)) throw error;
  console.log('error:', error.code); // error: invalid_args
}
// #endregion script
