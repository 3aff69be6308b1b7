// instanceof holds across two loaded copies of the package (a script loader may give a script its own copy).
import { describe, expect, it } from 'vitest';
import { PythonError, SnakepitError, WorkerError } from '../../src/index.js';

/** An error as another copy of the package would build it: its own classes, the shared brand. */
function fromOtherCopy(): Error {
  class SnakepitError extends Error {}
  class PythonError extends SnakepitError {}
  class PythonKeyError extends PythonError {}
  const error = new PythonKeyError('x');
  Object.defineProperty(error, Symbol.for('snakepit.error'), { value: true });
  return error;
}

describe('instanceof across package copies', () => {
  it('matches the classes on the foreign error prototype chain, and only those', () => {
    const error = fromOtherCopy();
    expect(error instanceof SnakepitError).toBe(true);
    expect(error instanceof PythonError).toBe(true);
    expect(error instanceof WorkerError).toBe(false);
  });

  it('does not match an unbranded error that merely has the same class name', () => {
    class PythonError extends Error {}
    expect(new PythonError('x') instanceof SnakepitError).toBe(false);
  });
});
