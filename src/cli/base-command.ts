/** Base of the snakepit commands: one place that turns typed errors into CLI output and exit codes. */
import { Command, Errors } from '@oclif/core';
import { isSnakepitError, type SnakepitError } from '../errors.js';

/**
 * A Snakepit error reaching a command is a user-fixable problem: it prints as
 * `Error: <message>` / `Code: <code>` / `Try this: <fix>` and exits 1, never with a stack trace
 * (`DEBUG=*` still shows one). With `--json` it prints `{ "error": { code, category, message, details } }`.
 */
export abstract class SnakepitCommand extends Command {
  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    // `this.exit(n)` after a command printed its own (JSON) output: leave quietly with that code.
    if (err instanceof Errors.ExitError) throw err;
    if (isSnakepitError(err) && !this.jsonEnabled()) return super.catch(toCliError(err));
    return super.catch(err);
  }

  protected override toErrorJson(err: unknown): unknown {
    return isSnakepitError(err) ? { error: err.toJSON() } : super.toErrorJson(err);
  }
}

/** The CLI form of a Snakepit error: its message, its code, and the fix line when it has one. */
export function toCliError(error: SnakepitError): Errors.CLIError {
  const fix = typeof error.details.fix === 'string' ? error.details.fix : undefined;
  return new Errors.CLIError(error.message, { code: error.code, exit: 1, ...(fix ? { suggestions: [fix] } : {}) });
}
