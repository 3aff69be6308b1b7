// guides/getting-started.md: the library without the CLI. Run with `node --import tsx examples/getting-started.ts`.
// The pool serves the built-in showcase adapter (snakepit_bridge.adapters.showcase.ShowcaseAdapter).
// #region start
import { Snakepit, isSnakepitError } from 'snakepit';

const sp = await Snakepit.start({ pools: [{ name: 'default', poolSize: 2 }] }); // resolves once every worker is ready
try {
  // #endregion start
  // #region execute
  const sum = await sp.execute<{ result: number }>('add', { a: 10, b: 25 });
  console.log('add', sum.result); // add 35

  const controller = new AbortController();
  const slow = sp.execute('sleep', { ms: 5_000 }, { timeoutMs: 60_000, signal: controller.signal });
  controller.abort(); // cancels the call in Python too
  await slow.catch((error) => console.log('aborted', isSnakepitError(error) && error.code)); // aborted aborted
  // #endregion execute

  // #region stream
  for await (const chunk of sp.stream<{ step: number }>('stream_progress', { steps: 3, delay_ms: 10 })) {
    console.log('step', chunk.step);
  }
  await sp.executeStream<{ step: number }>('stream_progress', { steps: 2, delay_ms: 0 }, (chunk) => console.log('callback', chunk.step));
  // #endregion stream

  // #region session
  const s = sp.session('user-42'); // its calls prefer the worker that served it before
  await s.execute('remember', { key: 'colour', value: 'green' });
  const recalled = await s.execute<{ value: string }>('recall', { key: 'colour' });
  console.log('recall', recalled.value, s.workerId !== undefined); // recall green true
  // #endregion session

  // #region errors
  try {
    await sp.execute('process_list', { items: [1, 2], operation: 'median' });
  } catch (error) {
    if (!isSnakepitError(error)) throw error;
    console.log('error', error.code, error.category, error.details.code); // error python_error python_error unknown_operation
  }
  // #endregion errors

  // #region stats
  const { requests, workers, busy } = sp.stats();
  console.log('stats', { requests, workers, busy });
  console.log('workers', sp.listWorkers().map((w) => w.state).join(' ')); // workers ready ready
  // #endregion stats
  // #region stop
} finally {
  await sp.stop(); // queued calls fail, workers get SIGTERM (Python runs cleanup()), then SIGKILL
}
// #endregion stop
