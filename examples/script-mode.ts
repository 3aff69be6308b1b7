// guides/getting-started.md#script-mode: Snakepit.runAsScript in your own program (what `snakepit run` uses).
// Run with `node --import tsx examples/script-mode.ts`.
// #region run-as-script
import { Snakepit } from 'snakepit';

const total = await Snakepit.runAsScript(
  async (sp) => {
    const { result } = await sp.execute<{ result: number }>('add', { a: 1, b: 2 });
    return result;
  },
  { config: { pools: [{ name: 'default', poolSize: 1 }] }, timeoutMs: 30_000, scriptTimeoutMs: 60_000 },
);
console.log('total', total); // total 3 — the workers are already stopped here
// #endregion run-as-script
