import { Flags } from '@oclif/core';
import { SnakepitCommand } from '../src/cli/base-command.js';
import { runSetupTasks, setupRequirements } from '../src/cli/setup-tasks.js';
import type { SetupReport } from '../src/python/setup.js';

/** Thin command: flags in, setup steps (src/python/setup.ts) under listr2, report out. */
export default class Setup extends SnakepitCommand {
  static override description =
    'Prepare the Python side: find Python, create the venv, install the bridge requirements (and yours), generate the gRPC stubs, verify imports. Safe to re-run: finished steps are skipped.';
  static override examples = [
    '<%= config.bin %> setup                 # python.requirements of snakepit.config.* too',
    '<%= config.bin %> setup -r requirements.txt',
    '<%= config.bin %> setup --strategy managed --python 3.12',
    '<%= config.bin %> setup --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    strategy: Flags.string({ options: ['venv', 'managed', 'system'], default: 'venv', description: 'venv: python -m venv; managed: uv creates and owns the venv; system: install into the interpreter itself' }),
    venv: Flags.string({ default: '.venv', description: 'virtual environment folder (venv, managed)' }),
    python: Flags.string({ description: 'interpreter to use or base the venv on (default: SNAKEPIT_PYTHON, else python3); with managed, also a version such as 3.12' }),
    requirements: Flags.string({ char: 'r', multiple: true, description: "your requirements file, installed with the bridge's and the config's python.requirements (repeatable)" }),
    config: Flags.string({ char: 'c', description: 'config file whose python.requirements to install (default: snakepit.config.* in the cwd)' }),
    installer: Flags.string({ options: ['uv', 'pip'], description: 'force an installer (default: uv when found, else pip)' }),
    'system-site-packages': Flags.boolean({ default: false, description: "let the venv see the base interpreter's packages" }),
    timeout: Flags.integer({ min: 1, default: 600, description: 'longest the install may take, in seconds' }),
    force: Flags.boolean({ default: false, description: 'reinstall and regenerate even when up to date (the venv itself is kept)' }),
  };

  async run(): Promise<SetupReport> {
    const { flags } = await this.parse(Setup);
    const report = await runSetupTasks(
      {
        strategy: flags.strategy as 'venv' | 'managed' | 'system',
        venvDir: flags.venv,
        python: flags.python,
        requirements: await setupRequirements(process.cwd(), flags.config, flags.requirements ?? []),
        installer: flags.installer as 'uv' | 'pip' | undefined,
        systemSitePackages: flags['system-site-packages'],
        installTimeoutMs: flags.timeout * 1000,
        force: flags.force,
      },
      { quiet: this.jsonEnabled() },
    );
    this.log(report.changed ? `Python environment ready${report.venv ? ` in ${report.venv}` : ''}. Next: snakepit doctor` : 'Nothing to do: the Python environment is up to date.');
    return report;
  }
}
