import { Flags } from '@oclif/core';
import { SnakepitCommand } from '../src/cli/base-command.js';
import { formatStatus } from '../src/cli/status-view.js';
import { discoverInstances } from '../src/control/discover.js';
import type { InstanceSnapshot } from '../src/control/snapshot.js';
import { renderStatusDashboard } from '../src/ui/render-status.js';

/** Thin command: find the instances running on this machine (src/control/discover.ts) and show them. */
export default class Status extends SnakepitCommand {
  static override description =
    "Show the Snakepit instances running on this machine (found through their control sockets in the per-user run folder): each pool's profile, workers, queue and counters. --watch opens a live dashboard (q or Ctrl-C quits).";
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json', '<%= config.bin %> status --watch --interval 500'];
  static override enableJsonFlag = true;
  static override flags = {
    watch: Flags.boolean({ char: 'w', description: 'live dashboard, refreshed every --interval ms', exclusive: ['json'] }),
    interval: Flags.integer({ char: 'i', description: 'refresh interval of --watch, in ms', default: 1_000, min: 100 }),
  };

  async run(): Promise<InstanceSnapshot[]> {
    const { flags } = await this.parse(Status);
    if (flags.watch) {
      await renderStatusDashboard({ source: () => discoverInstances(), intervalMs: flags.interval });
      return [];
    }
    const instances = await discoverInstances();
    this.log(formatStatus(instances));
    return instances;
  }
}
