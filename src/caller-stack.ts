/**
 * A rejected call points at the caller's line: the error gets the caller's frames, taken from an
 * `Error` made in the facade's async method, or in the rejection handler of the promise the
 * caller awaits (V8's async stack traces reach the awaiting caller from either).
 * Made only on failure: the success path costs no stack capture.
 */
import { isSnakepitError } from './errors.js';

/** Errors already given a caller's frames: one error object may fail several calls (a worker's death). */
const decorated = new WeakSet<object>();

/**
 * Appends `here`'s frames (the facade method and its callers) to `error`'s stack, as grpc-js does
 * ("for call at"). Only our own errors: a caller's own error keeps its stack as thrown.
 */
export function withCallerStack(error: unknown, here: Error): unknown {
  if (!isSnakepitError(error) || decorated.has(error)) return error;
  decorated.add(error);
  const frames = (here.stack ?? '').split('\n').slice(1);
  if (frames.length > 0) error.stack = `${error.stack ?? `${error.name}: ${error.message}`}\nfor call at\n${frames.join('\n')}`;
  return error;
}

/**
 * The rejection handler of `Snakepit.execute`'s promise: it runs as a job of the promise the
 * caller awaits, so an `Error` made here carries the caller's async frames, as one made in an
 * async method would, without an async frame per call.
 */
export function rethrowWithCallerStack(error: unknown): never {
  throw withCallerStack(error, new Error());
}
