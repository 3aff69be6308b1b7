/**
 * The `snakepit status --watch` views, props to frame: an instance header, per pool a summary
 * (workers busy/idle, queue, calls/s sparkline, latency, errors, recycles) and a worker table.
 * Written with `createElement` so the project needs no JSX compiler settings.
 */
import { Box, Text, useApp, useInput, useStdin } from 'ink';
import { createElement as h, type ReactElement } from 'react';
import { formatUptime } from '../cli/status-view.js';
import type { InstanceSnapshot, PoolSnapshot, WorkerSnapshot } from '../control/snapshot.js';
import { sparkline } from './sparkline.js';
import { historyKey, useStatusPoll, type StatusSource, type StatusState } from './use-status.js';

const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? `${v.toFixed(1)}ms` : `${Math.round(v)}ms`);
const WORKER_COLUMNS = [
  ['ID', 14],
  ['PID', 7],
  ['STATE', 9],
  ['LOAD', 6],
  ['REQUESTS', 8],
  ['UPTIME', 7],
  ['RSS', 8],
  ['HEARTBEAT', 9],
  // A remote worker's address and zone; cut to fit 100 columns (`status --json` has them whole).
  ['WHERE', 21],
] as const;

function row(cells: readonly string[], bold = false): ReactElement {
  const line = cells.map((c, i) => c.slice(0, WORKER_COLUMNS[i]![1]).padEnd(WORKER_COLUMNS[i]![1])).join(' ').trimEnd();
  return h(Text, { bold, dimColor: bold }, line);
}

/** One worker as table cells. */
export function workerCells(w: WorkerSnapshot, now: number): string[] {
  return [
    w.id,
    w.pid === undefined ? '-' : String(w.pid),
    w.state,
    `${w.inflight}/${w.capacity}`,
    String(w.requests),
    formatUptime(now - w.startedAt),
    w.rssMb === null ? '-' : `${w.rssMb.toFixed(1)}M`,
    w.heartbeatAgeMs === null ? '-' : `${(w.heartbeatAgeMs / 1_000).toFixed(1)}s`,
    whereCell(w),
  ];
}

/** Where a worker runs: `local` (spawned), or a remote worker's address and the zone it reports. */
export function whereCell(w: Pick<WorkerSnapshot, 'address' | 'zone'>): string {
  if (w.address === undefined) return 'local';
  return w.zone ? `${w.address} ${w.zone}` : w.address;
}

/** One pool: summary lines, then its workers. */
export function PoolPanel(props: { pool: PoolSnapshot; history: readonly number[]; now: number }): ReactElement {
  const { pool: p, history, now } = props;
  const health = p.health.status === 'healthy' ? 'green' : p.health.status === 'degraded' ? 'yellow' : 'red';
  return h(
    Box,
    { flexDirection: 'column', marginTop: 1 },
    h(Text, null, h(Text, { bold: true }, `pool ${p.name}`), `  ${p.profile}/${p.transport}  `, h(Text, { color: health }, p.health.status)),
    h(
      Text,
      null,
      `  workers ${p.stats.workers}/${p.size}  busy ${p.stats.busy}  idle ${p.stats.available}  queue ${p.stats.queued}  requests ${p.stats.requests}  `,
      h(Text, { color: p.stats.errors > 0 ? 'red' : undefined }, `errors ${p.stats.errors}`),
      `  recycles ${p.stats.recycled}`,
    ),
    h(Text, null, `  calls/s ${p.calls.callsPerSec.toFixed(1).padStart(6)} `, h(Text, { color: 'cyan' }, sparkline(history)), `  p50 ${ms(p.calls.p50Ms)}  p99 ${ms(p.calls.p99Ms)}`),
    h(Box, { flexDirection: 'column', marginLeft: 2 }, row(WORKER_COLUMNS.map(([name]) => name), true), ...p.workers.map((w) => h(Box, { key: w.id }, row(workerCells(w, now))))),
  );
}

/** One instance: a header and its pools. */
export function InstancePanel(props: { instance: InstanceSnapshot; history: StatusState['history']; now: number }): ReactElement {
  const { instance: sp, history, now } = props;
  return h(
    Box,
    { flexDirection: 'column', marginBottom: 1 },
    h(Text, null, h(Text, { bold: true, color: 'green' }, `Snakepit ${sp.runId}`), `  pid ${sp.pid}  up ${formatUptime(now - Date.parse(sp.startedAt))}`),
    ...sp.pools.map((p) => h(PoolPanel, { key: p.name, pool: p, history: history.get(historyKey(sp.runId, p.name)) ?? [], now })),
  );
}

/** The whole dashboard for one state; `now` makes frames reproducible in tests. */
export function StatusDashboard(props: { state: StatusState; now?: number }): ReactElement {
  const { state } = props;
  const now = props.now ?? Date.now();
  const body =
    state.polls === 0
      ? [h(Text, { key: 'wait', dimColor: true }, 'Looking for running Snakepit instances…')]
      : state.instances.length === 0
        ? [h(Text, { key: 'none' }, 'No running Snakepit instances found.')]
        : state.instances.map((sp) => h(InstancePanel, { key: sp.runId, instance: sp, history: state.history, now }));
  return h(
    Box,
    { flexDirection: 'column' },
    ...body,
    state.error === undefined ? null : h(Text, { color: 'red' }, `poll failed: ${state.error}`),
    h(Text, { dimColor: true }, 'q or Ctrl-C quits'),
  );
}

/** The live app: polls `source` every `intervalMs` and quits on q (Ctrl-C is Ink's own). */
export function StatusApp(props: { source: StatusSource; intervalMs: number }): ReactElement {
  const state = useStatusPoll(props.source, props.intervalMs);
  const { exit } = useApp();
  // Without a TTY (piped stdin) there are no keys to read; Ctrl-C still ends the process.
  const { isRawModeSupported } = useStdin();
  useInput((input) => input === 'q' && exit(), { isActive: isRawModeSupported === true });
  return h(StatusDashboard, { state });
}
