// The quickstart: run with `npx snakepit run examples/quickstart.ts`.
// `snakepit run` starts the pools (here: the built-in showcase adapter, no Python of your own
// needed), makes them the default instance, runs this file and always stops the workers.
import { execute, isSnakepitError, session, stream } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(22)} ${JSON.stringify(value)}`);

show('ping', await execute('ping', { message: 'hello' }));
show('echo', await execute('echo', { message: 'Hello from Node!' }));
show('add(10, 25)', await execute('add', { a: 10, b: 25 }));

for (const operation of ['count', 'sum', 'max', 'min']) {
  show(`process_list ${operation}`, await execute('process_list', { items: [1, 2, 3, 4, 5], operation }));
}
try {
  await execute('process_list', { items: [1, 2, 3], operation: 'median' });
} catch (error) {
  if (!isSnakepitError(error)) throw error;
  show('process_list median', { code: error.code, category: error.category, details: error.details });
}

console.log('stream_progress:');
for await (const chunk of stream('stream_progress', { steps: 5, delay_ms: 200 })) {
  console.log(`  ${new Date().toISOString().slice(11, 23)} ${JSON.stringify(chunk)}`);
}

const s = session('user-42');
await s.execute('remember', { key: 'favourite', value: 'python' });
const recalled = await s.execute<{ value: unknown; pid: number }>('recall', { key: 'favourite' });
show('session recall', recalled);
show('session worker', s.workerId);
