import { Flags } from '@oclif/core';
import { SnakepitCommand } from '../src/cli/base-command.js';
import { formatDoctorReport } from '../src/cli/doctor-view.js';
import { runDoctor, type DoctorReport } from '../src/python/doctor.js';

/** Thin command: run the checks (src/python/doctor.ts), print them, exit 1 when one fails. */
export default class Doctor extends SnakepitCommand {
  static override description =
    'Check the environment: Node, Python and its venv, the bridge and gRPC imports, each pool\'s adapter import, the run folder and the gRPC port. Each check passes, warns or fails with a fix; exits 1 when one fails.';
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --config prod.config.ts --json'];
  static override enableJsonFlag = true;
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (default: snakepit.config.* in the cwd)' }),
    python: Flags.string({ description: "check this interpreter instead of the pools' own" }),
  };

  async run(): Promise<DoctorReport> {
    const { flags } = await this.parse(Doctor);
    const report = await runDoctor({ configFile: flags.config, python: flags.python });
    if (report.ok) {
      this.log(formatDoctorReport(report));
      return report;
    }
    // A failed check must still exit 1 with --json: print the report here, then leave with the code.
    if (this.jsonEnabled()) this.logJson(report);
    else this.log(formatDoctorReport(report));
    this.exit(1);
  }
}
