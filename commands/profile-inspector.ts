import { Flags } from '@oclif/core';
import { SnakepitCommand } from '../src/cli/base-command.js';
import { formatProfileReport } from '../src/cli/profile-view.js';
import { inspectProfiles, type ProfileInspectorReport } from '../src/python/inspect.js';

/** Thin command: inspect (src/python/inspect.ts), print. */
export default class ProfileInspector extends SnakepitCommand {
  static override description =
    'Show the Python version, GIL and free-threading state, the recommended worker profile for each pool and why, the thread safety of installed libraries, thread-limit variables and the hardware.';
  static override examples = ['<%= config.bin %> profile-inspector', '<%= config.bin %> profile-inspector --config prod.config.ts --json'];
  static override enableJsonFlag = true;
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: snakepit.config.* in the cwd)' }),
    python: Flags.string({ description: "inspect this interpreter instead of the pools' own" }),
  };

  async run(): Promise<ProfileInspectorReport> {
    const { flags } = await this.parse(ProfileInspector);
    const report = await inspectProfiles({ configFile: flags.config, python: flags.python });
    this.log(formatProfileReport(report));
    return report;
  }
}
