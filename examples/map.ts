// Many calls of one tool: run with `npx snakepit run examples/map.ts --config examples/map.config.ts`
// (mirrors guides/map.md; the adapter is examples/python/batch_adapter.py).
import { isSnakepitError, type Snakepit } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(16)} ${JSON.stringify(value)}`);

export default async function main(sp: Snakepit): Promise<void> {
  // #region map
  const texts = Array.from({ length: 10_000 }, (_, i) => `review number ${i} of the product`);
  const vectors = await sp.map<number[]>('embed', texts.map((text) => ({ text })));
  show('vectors', { count: vectors.length, first: vectors[0], last: vectors.at(-1) });
  // #endregion map

  // #region settle
  const prices = ['$4.20', 'free', '$10', ''];
  const parsed = await sp.map<number>('parse_price', prices.map((text) => ({ text })), { mode: 'settle' });
  for (const [i, outcome] of parsed.entries()) {
    if (outcome.status === 'fulfilled') show(prices[i]!, outcome.value);
    else show(prices[i]!, { code: outcome.reason.code, type: outcome.reason.exceptionType });
  }
  // #endregion settle

  // #region fail
  try {
    await sp.map('parse_price', ['$1', '$2', 'n/a', '$3'].map((text) => ({ text }))); // mode 'fail', the default
  } catch (error) {
    if (!isSnakepitError(error)) throw error;
    show('first failure', { code: error.code, index: error.details.index, name: error.name });
  }
  // #endregion fail

  // #region iterate
  let running = 0;
  for await (const [length] of sp.mapIterable<number[]>('embed', texts.map((text) => ({ text })))) {
    running += length!;
    if (running > 1_000) break; // leaving the loop cancels the chunks still running
  }
  show('stopped at', running);
  // #endregion iterate

  // #region progress
  const controller = new AbortController();
  const seen: number[] = [];
  try {
    await sp.map('slow_embed', texts.slice(0, 500).map((text) => ({ text, ms: 10 })), {
      signal: controller.signal,
      onProgress: ({ done, total }) => {
        seen.push(done);
        if (done >= 10) controller.abort(new Error('enough for now')); // e.g. a Cancel button
      },
    });
  } catch (error) {
    if (!isSnakepitError(error)) throw error;
    show('aborted', { code: error.code, progressed: seen.length >= 1, done: seen.at(-1)! < 500 });
  }
  // #endregion progress

  // #region session
  const session = sp.session('user-42');
  const counts = await session.map<{ session: string; seen: number }>('session_count', texts.slice(0, 50).map((text) => ({ text })));
  show('session', counts.at(-1));
  // #endregion session

  // #region options
  const before = sp.stats().requests;
  await sp.map('embed', texts.slice(0, 1_000).map((text) => ({ text })), { chunkSize: 100, concurrency: 2, timeoutMs: 5_000 });
  show('calls for 1000', sp.stats().requests - before);
  // #endregion options
}
