import { Flags } from '@oclif/core';
import path from 'node:path';
import { SnakepitCommand } from '../../src/cli/base-command.js';
import { PythonError } from '../../src/errors.js';
import { runGenTypes } from '../../src/cli/gen-types.js';
import type { GenTypesResult, TypeSpecsDocument } from '../../src/typegen/generate.js';

/** Thin command: flags in, extraction under listr2 (src/cli/gen-types.ts), the file written or checked. */
export default class GenTypes extends SnakepitCommand {
  static override description =
    "Generate TypeScript declarations of the configured pools' Python tools (from the adapters' type hints): tool names, arguments, results and chunks become typed in execute/stream/session calls.";
  static override examples = [
    '<%= config.bin %> gen types',
    '<%= config.bin %> gen types --config prod.config.ts --out src/snakepit-tools.d.ts',
    '<%= config.bin %> gen types --check',
    '<%= config.bin %> gen types --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: snakepit.config.* in the cwd)' }),
    pool: Flags.string({ multiple: true, description: 'only this pool gets types (repeatable); the others stay untyped' }),
    out: Flags.string({ char: 'o', description: 'declaration file to write (default: the config\'s typesOut, else snakepit-tools.d.ts)' }),
    check: Flags.boolean({ default: false, description: 'write nothing; exit 1 with a diff when the file is not what would be generated (CI)' }),
  };

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    // Python's traceback as it is (the error box would re-wrap its lines), then the error.
    if (err instanceof PythonError && !this.jsonEnabled()) this.logToStderr(err.pythonTraceback.trimEnd());
    return super.catch(err);
  }

  async run(): Promise<GenTypesResult | TypeSpecsDocument> {
    const { flags } = await this.parse(GenTypes);
    const options = { configFile: flags.config, pools: flags.pool, out: flags.out, check: flags.check, quiet: this.jsonEnabled() };
    if (this.jsonEnabled() && !flags.check) return runGenTypes({ ...options, specsOnly: true });
    const result = await runGenTypes(options);
    const file = path.relative(process.cwd(), result.file) || result.file;
    if (result.status === 'stale') {
      this.logToStderr(`${file} is stale: run snakepit gen types${flags.config ? ` --config ${flags.config}` : ''}${flags.out ? ` --out ${flags.out}` : ''}\n${result.diff ?? ''}`);
      process.exitCode = 1;
    } else if (!this.jsonEnabled()) {
      this.log(result.status === 'current' ? `${file} is up to date.` : `${file} ${result.status === 'written' ? 'written' : 'unchanged'}.`);
    }
    return result;
  }
}
