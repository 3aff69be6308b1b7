// The error a synchronous call throws, for tests that then assert its code and details.
import { expect } from 'vitest';
import { isSnakepitError, type SnakepitError } from '../../src/errors.js';

/** The error `fn` throws; the test fails when it throws none, or one that `is` does not accept. */
export function thrown<E = SnakepitError>(fn: () => unknown, is: (error: unknown) => boolean = isSnakepitError): E {
  try {
    fn();
  } catch (error) {
    expect(is(error)).toBe(true);
    return error as E;
  }
  throw new Error('expected a throw');
}

/** `is` for `thrown`: an instance of `type`. */
export const instanceOf =
  (type: abstract new (...args: never[]) => unknown) =>
  (error: unknown): boolean =>
    error instanceof type;
