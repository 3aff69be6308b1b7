/** `snakepit profile-inspector` as text. */
import chalk from 'chalk';
import type { ProfileInspectorReport } from '../python/inspect.js';

const SAFETY = { safe: chalk.green('safe'), conditional: chalk.yellow('conditional'), unsafe: chalk.red('unsafe') } as const;

/** Pads every column of `rows` to its widest cell (ANSI colours excluded from the width). */
function table(rows: string[][], indent = '  '): string[] {
  // eslint-disable-next-line no-control-regex
  const width = (s: string) => s.replace(/\u001B\[[0-9;]*m/g, '').length;
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => width(r[i] ?? '')))) ?? [];
  return rows.map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell)))).join('  ').trimEnd());
}

/** The report as lines of text (no trailing newline). */
export function formatProfileReport(report: ProfileInspectorReport): string {
  const { python, hardware } = report;
  const gil = python.gilEnabled
    ? `enabled${python.freeThreadingBuild ? ' (free-threaded build with the GIL turned on)' : python.supportsFreeThreading ? ' (a free-threaded 3.13t build would allow threads in parallel)' : ' (free-threading needs Python 3.13+, a "t" build)'}`
    : 'disabled: threads run Python code in parallel';
  const lines = [
    chalk.bold('Python'),
    ...table([
      ['interpreter', `${python.executable}${python.inVenv ? ' (venv)' : ''}`],
      ['version', `${python.version} (${python.implementation})`],
      ['GIL', gil],
      ['free-threading build', python.freeThreadingBuild ? 'yes' : 'no'],
    ]),
    '',
    chalk.bold(`Pools${report.configSource ? ` (${report.configSource})` : ' (defaults: no config file)'}`),
  ];
  for (const pool of report.pools) {
    const shape = pool.workerProfile === 'thread' ? `thread, ${pool.poolSize} × ${pool.threadsPerWorker} threads` : `process, ${pool.poolSize} workers`;
    const verdict = pool.matches ? chalk.green(`recommended: ${pool.recommended} ✔`) : chalk.yellow(`recommended: ${pool.recommended} (configured: ${pool.workerProfile})`);
    lines.push(`  ${chalk.bold(pool.name)}  ${shape}, capacity ${pool.capacity}  ${verdict}`);
    for (const reason of pool.reasons) lines.push(`    - ${reason}`);
    for (const warning of pool.warnings) lines.push(`    ${chalk.yellow('!')} ${warning}`);
  }
  lines.push('', chalk.bold('Library thread safety (installed packages)'));
  if (report.libraries.length === 0) lines.push('  none of the known libraries is installed');
  else lines.push(...table(report.libraries.map((l) => [l.name, l.version, SAFETY[l.threadSafe], l.notes])));
  lines.push('', chalk.bold('Thread limits (what workers start with)'));
  const vars = Object.keys(report.hostThreadLimits);
  const header = ['variable', 'host', ...report.pools.map((p) => p.name)];
  lines.push(...table([header, ...vars.map((v) => [v, report.hostThreadLimits[v] ?? '-', ...report.pools.map((p) => p.threadLimits[v] ?? '-')])]));
  const gpu = hardware.nvidiaSmi ? (hardware.gpus.length > 0 ? hardware.gpus.join('; ') : 'nvidia-smi found, no GPU listed') : 'none found (no nvidia-smi on PATH)';
  lines.push(
    '',
    chalk.bold('Hardware (as Node sees it)'),
    ...table([
      ['CPU', `${hardware.cpus} × ${hardware.cpuModel ?? 'unknown'} (parallelism ${hardware.availableParallelism})`],
      ['memory', `${(hardware.totalMemoryMb / 1024).toFixed(1)} GiB total, ${(hardware.freeMemoryMb / 1024).toFixed(1)} GiB free`],
      ['platform', `${hardware.platform} ${hardware.arch}`],
      ['GPU', gpu],
    ]),
  );
  return lines.join('\n');
}
