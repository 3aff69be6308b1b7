import { Args, Flags } from '@oclif/core';
import { SnakepitCommand } from '../../src/cli/base-command.js';
import { generateAdapter, type GenAdapterResult } from '../../src/cli/gen-adapter.js';

/** Thin command: render the adapter templates (src/cli/gen-adapter.ts), list the files, print the config snippet. */
export default class GenAdapter extends SnakepitCommand {
  static override description =
    'Generate a Python adapter package: example tools, a streaming tool and a pytest file, plus the pool config to paste. Never overwrites without --force.';
  static override examples = ['<%= config.bin %> gen adapter my_adapter', '<%= config.bin %> gen adapter vision --dir py --json'];
  static override enableJsonFlag = true;
  static override args = { name: Args.string({ required: true, description: 'package name, a Python identifier (e.g. my_adapter)' }) };
  static override flags = {
    dir: Flags.string({ default: 'python', description: 'folder that receives the package (the pool\'s pythonPath)' }),
    force: Flags.boolean({ default: false, description: 'overwrite existing files' }),
    types: Flags.boolean({ default: true, allowNo: true, description: "also generate the TypeScript types of the config's pools plus this one (snakepit gen types)" }),
    'types-out': Flags.string({ description: "file of the generated types (default: the config's typesOut, else snakepit-tools.d.ts)" }),
  };

  async run(): Promise<GenAdapterResult> {
    const { args, flags } = await this.parse(GenAdapter);
    const typesOut = flags.types ? flags['types-out'] : false;
    const result = await generateAdapter({ name: args.name, dir: flags.dir, force: flags.force, ...(typesOut === undefined ? {} : { typesOut }) });
    for (const file of result.files) this.log(`${file.action.padEnd(11)} ${file.path}`);
    if (result.types && 'file' in result.types) this.log(`${`types ${result.types.status}`.padEnd(11)} ${result.types.file}`);
    else if (result.types) this.warn(`Types not generated: ${result.types.error}`);
    this.log(`\nAdapter class: ${result.module}\n\n${result.configSnippet}\nRun its tests: ${result.testCommand}`);
    return result;
  }
}
