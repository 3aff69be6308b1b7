/** The explicit oclif command map (faster start-up than directory scanning). */
import Run from './run.js';

export const COMMANDS = { run: Run };
