import { Args, Command, Flags } from '@oclif/core';
import { runScript } from '../src/cli/run-script.js';

/** Thin command: parse, delegate to runScript, exit with the script's code. */
export default class Run extends Command {
  static override description = 'Start the pools from snakepit.config.*, run a TS/JS script with the default instance set, then stop every worker.';
  static override examples = [
    '<%= config.bin %> run examples/quickstart.ts --config examples/quickstart.config.ts',
    '<%= config.bin %> run job.ts --config prod.config.ts -- --input data.csv',
    '<%= config.bin %> run server.ts --watch',
  ];
  static override strict = false;
  static override args = { script: Args.string({ required: true, description: 'script to run (.ts, .mts, .js, .mjs)' }) };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: snakepit.config.* in the cwd)' }),
    watch: Flags.boolean({ char: 'w', default: false, description: "reload the workers when the pools' Python sources change, and regenerate the types (the config's typesOut)" }),
  };

  async run(): Promise<void> {
    const { args, flags, argv } = await this.parse(Run);
    const scriptArgs = (argv as string[]).slice(1);
    const code = await runScript({ script: args.script, scriptArgs, watch: flags.watch, ...(flags.config ? { configFile: flags.config } : {}) });
    // Exit explicitly: a script may leave timers or sockets that would keep Node alive.
    this.exit(code);
  }
}
