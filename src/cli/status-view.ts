/** `snakepit status` (one-shot) as text: one table per running instance. */
import chalk from 'chalk';
import type { InstanceSnapshot, PoolSnapshot } from '../control/snapshot.js';

/** Printed when no instance answers. */
export const NO_INSTANCES = 'No running Snakepit instances found.';

/** Pads every column of `rows` to its widest cell. */
function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** A duration in ms as `42s`, `3m05s` or `2h10m`. */
export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1_000));
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3_600)}h${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
}

/** The snapshots as lines of text (no trailing newline); `NO_INSTANCES` for none. */
export function formatStatus(instances: readonly InstanceSnapshot[], now: number = Date.now()): string {
  if (instances.length === 0) return NO_INSTANCES;
  return instances
    .map((sp) => {
      const head = chalk.bold(`Snakepit ${sp.runId}`) + chalk.dim(`  pid ${sp.pid}, up ${formatUptime(now - Date.parse(sp.startedAt))}`);
      const rows = [
        ['POOL', 'PROFILE', 'WORKERS', 'QUEUED', 'REQUESTS', 'ERRORS'],
        ...sp.pools.map((p) => [p.name, p.profile, `${p.stats.workers}/${p.size}`, String(p.stats.queued), String(p.stats.requests), String(p.stats.errors)]),
      ];
      return [head, ...table(rows), ...sp.pools.flatMap(remoteWorkers)].join('\n');
    })
    .join('\n\n');
}

/** A pool's remote (attached) workers: where each one is, for finding a failing host or zone; none for spawned pools. */
function remoteWorkers(pool: PoolSnapshot): string[] {
  const remote = pool.workers.filter((w) => w.address !== undefined);
  if (remote.length === 0) return [];
  const rows = [['WORKER', 'ADDRESS', 'ZONE', 'STATE', 'LOAD'], ...remote.map((w) => [w.id, w.address!, w.zone ?? '-', w.state, `${w.inflight}/${w.capacity}`])];
  return [chalk.dim(`  pool ${pool.name}: remote workers`), ...table(rows, '    ')];
}
