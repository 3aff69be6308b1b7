// Streaming: run with `npx snakepit run examples/streaming.ts --config examples/streaming.config.ts`
// (mirrors guides/streaming.md; the adapter is examples/python/streaming_adapter.py).
import { setTimeout as sleep } from 'node:timers/promises';
import { isSnakepitError, type Snakepit } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(18)} ${JSON.stringify(value)}`);

type Progress = { type: 'progress'; epoch: number; loss: number; accuracy: number } | { type: 'complete'; final_loss: number };

export default async function main(sp: Snakepit): Promise<void> {
  // #region iterate
  for await (const chunk of sp.stream<Progress>('train_model', { epochs: 3 })) {
    if (chunk.type === 'progress') show(`epoch ${chunk.epoch}`, { loss: chunk.loss, accuracy: chunk.accuracy });
    else show('training done', chunk);
  }
  // #endregion iterate

  // #region callback
  await sp.executeStream<Progress>('train_model', { epochs: 2 }, (chunk, { final }) => {
    show(final ? 'callback (final)' : 'callback', chunk);
  }, { timeoutMs: 10_000 });
  // #endregion callback

  // #region callback-error
  try {
    await sp.executeStream<{ tick: number }>('ticker', { delay_ms: 10 }, (chunk) => {
      if (chunk.tick === 2) throw new Error('cannot store tick 2');
    });
  } catch (error) {
    show('callback threw', { message: (error as Error).message, snakepitError: isSnakepitError(error) });
  }
  show('generator after', await sp.execute('last_ticker_stats'));   // cancelled; the same worker answers
  // #endregion callback-error

  // #region break
  for await (const chunk of sp.stream<{ tick: number }>('ticker', { delay_ms: 50 })) {
    if (chunk.tick === 3) break;   // cancels the call: Python stops at its next `yield`
  }
  show('after break', await sp.execute('last_ticker_stats'));
  // #endregion break

  // #region abort
  const controller = new AbortController();
  const ticks: number[] = [];
  try {
    for await (const chunk of sp.stream<{ tick: number }>('ticker', { delay_ms: 50 }, { signal: controller.signal })) {
      ticks.push(chunk.tick);
      if (chunk.tick === 2) controller.abort(new Error('user pressed stop'));
    }
  } catch (error) {
    if (!isSnakepitError(error)) throw error;
    show('aborted', { code: error.code, stage: error.details.stage, ticks });
  }
  // #endregion abort

  // #region error
  const items: unknown[] = [];
  try {
    for await (const chunk of sp.stream('may_fail', { count: 5, fail_at: 3 })) items.push(chunk);
  } catch (error) {
    if (!isSnakepitError(error)) throw error;
    show('failed mid-stream', { code: error.code, name: error.name, received: items });
  }
  // #endregion error

  // #region async
  const pages: number[] = [];
  for await (const chunk of sp.stream<{ page: number }>('fetch_pages', { pages: 3 })) pages.push(chunk.page);
  show('pages as ready', pages);
  // #endregion async

  // #region session
  const s = sp.session('cart-7');
  for await (const chunk of s.stream('running_total', { values: [5, 10, 20] })) show('running total', chunk);
  show('total on the host', s.state.get('total'));
  // #endregion session

  // #region unary
  show('execute(burst)', await sp.execute('burst', { count: 3 }));   // a generator called with execute: all items, as a list
  // #endregion unary

  // #region backpressure
  const burst = sp.stream<{ i: number }>('burst', { count: 1000 });
  const first = await burst.next();                          // take one chunk, then stop reading...
  while (sp.stats().streamsHeld === 0) await sleep(5);       // ...until Python waits for us (64 chunks wait here)
  show('held', { first: first.value, streamsHeld: sp.stats().streamsHeld });
  let rest = 0;
  for await (const _ of burst) rest++;                       // reading on lets Python go on
  show('after the loop', { rest, streamsHeld: sp.stats().streamsHeld });
  // #endregion backpressure
}
