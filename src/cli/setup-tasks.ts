/** `snakepit setup` on screen: the setup steps as a listr2 task list. */
import { Listr } from 'listr2';
import { loadConfig } from '../config/index.js';
import { planSetup, type SetupOptions, type SetupReport } from '../python/setup.js';

/**
 * The requirements files a setup installs: the config's `python.requirements` (so a bare `snakepit
 * setup` in a fresh clone installs the project's own), then the `-r` ones. No config file: `-r` only.
 * @throws {ConfigError} for a config that does not load.
 */
export async function setupRequirements(cwd: string, configFile: string | undefined, flags: readonly string[]): Promise<string[]> {
  const { config } = await loadConfig({ cwd, file: configFile });
  return [...new Set([...config.python.requirements, ...flags])];
}

/**
 * Runs every setup step under listr2 (a live list on a terminal, plain lines otherwise, nothing
 * with `quiet`) and resolves with the report; rejects with the failing step's `PackageError`.
 */
export async function runSetupTasks(options: SetupOptions, { quiet = false }: { quiet?: boolean } = {}): Promise<SetupReport> {
  const plan = planSetup(options);
  const live = !quiet && process.stdout.isTTY === true;
  const list = new Listr(
    plan.steps.map((step) => ({
      title: step.title,
      task: async (_ctx: unknown, task: { title: string; output: string; skip: (message?: string) => void }) => {
        // Installer output is live progress on a terminal; in a log it would drown the steps.
        const outcome = await step.run(live ? (line) => (task.output = line) : () => {});
        if (outcome.status === 'skipped') task.skip(outcome.summary);
        else task.title = `${step.title}: ${outcome.summary}`;
      },
    })),
    {
      renderer: quiet ? 'silent' : 'default',
      fallbackRenderer: 'simple',
      exitOnError: true,
      // The error itself is printed once, with its fix, by the command: the list only marks the step.
      rendererOptions: { showErrorMessage: false, collapseSkips: false },
    },
  );
  await list.run();
  return plan.report();
}
