/** The instances running in this process, and the default one the module-level functions use. */
import { PoolError } from './errors.js';
import type { Snakepit } from './snakepit.js';

// The default instance lives on globalThis so that a second copy of this module (a script loaded
// through another loader, a duplicated install) still sees the instance `snakepit run` set.
const DEFAULT_KEY = Symbol.for('snakepit.defaultInstance');
const globals = globalThis as { [DEFAULT_KEY]?: Snakepit | undefined };
const running = new Set<Snakepit>();

/** Instances started (or starting) and not stopped yet. */
export function runningInstances(): Snakepit[] {
  return [...running];
}

/** Counts `sp` as running from the start of its start-up. */
export function trackInstance(sp: Snakepit): void {
  running.add(sp);
}

/** `sp` has stopped: no longer running, no longer the default. */
export function untrackInstance(sp: Snakepit): void {
  running.delete(sp);
  if (globals[DEFAULT_KEY] === sp) globals[DEFAULT_KEY] = undefined;
}

/** Makes `sp` the default when there is none (the first instance started). */
export function adoptAsDefault(sp: Snakepit): void {
  globals[DEFAULT_KEY] ??= sp;
}

/** The instance module-level functions use: set by `snakepit run` or the first `start()`. */
export function getDefaultInstance(): Snakepit {
  const instance = globals[DEFAULT_KEY];
  if (!instance) {
    throw new PoolError('No Snakepit instance is running: call Snakepit.start() or use `snakepit run`', 'pool_not_started');
  }
  return instance;
}

/** Makes `sp` the instance module-level functions use. */
export function setDefaultInstance(sp: Snakepit | undefined): void {
  globals[DEFAULT_KEY] = sp;
}
