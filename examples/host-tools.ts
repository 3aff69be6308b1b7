// Both directions between Node and Python: run with `npx snakepit run examples/host-tools.ts`.
// Node calls Python tools (the showcase adapter); Python calls back the host tools registered
// here (`session_context.call_host_tool`), and keeps session state on the host.
import { isSnakepitError, registerTool, session } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(26)} ${JSON.stringify(value)}`);
const saved: unknown[] = [];

// A global host tool, visible to every session's Python code.
registerTool('store_result', ({ result }) => {
  saved.push(result);
  return { id: saved.length };
}, { description: 'Persist a result', exposedToPython: true, parameters: [{ name: 'result', type: 'map', required: true }] });

// A tool of one session only: other sessions' Python code cannot see or call it.
const s = session('order-7').registerTool(
  'validate_schema',
  ({ data }) => (Array.isArray(data) && data.every((x) => typeof x === 'number') ? { valid: true } : { valid: false, errors: ['numbers only'] }),
  { description: 'Check the input', exposedToPython: true, parameters: [{ name: 'data', type: 'any', required: true }] },
);

// Python: validate via the host, process, store via the host.
show('valid input', await s.execute('process_with_validation', { data: [3, 4, 5] }));
show('invalid input', await s.execute('process_with_validation', { data: [3, 'x'] }));
show('stored on the host', saved);

// Session state lives on the host: Python's `session_context.state` and `s.state` are the same.
await s.execute('counter_increment', { by: 2 });
show('counter from Python', await s.execute('counter_increment', { by: 3 }));
show('counter from Node', s.state.get('counter'));

// A session without the tool: Python's call fails with the host's code and the visible tools.
try {
  await session('other').execute('process_with_validation', { data: [1] });
} catch (error) {
  if (!isSnakepitError(error)) throw error;
  show('other session', { code: error.details.code, available: error.details.available });
}
await s.end(); // runs the adapter's cleanup_session on the worker(s) that served it
