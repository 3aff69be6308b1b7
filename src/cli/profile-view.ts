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

const gib = (mb: number) => `${(mb / 1024).toFixed(1)} GiB`;

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
  const gpus = [
    ...(hardware.cuda?.devices.map((d) => `cuda:${d.id} ${d.name} (${gib(d.memoryTotalMb)}${d.computeCapability ? `, compute ${d.computeCapability}` : ''})`) ?? []),
    ...(hardware.rocm?.devices.map((d) => `rocm:${d.id} ${d.name} (${gib(d.memoryTotalMb)})`) ?? []),
    ...(hardware.mps?.available ? [`mps ${hardware.mps.deviceName}`] : []),
  ];
  const versions = [hardware.cuda && `driver ${hardware.cuda.driverVersion}, CUDA ${hardware.cuda.version ?? '?'}`, hardware.rocm && `ROCm ${hardware.rocm.version ?? '?'}`].filter(Boolean);
  const { cpu } = hardware;
  lines.push(
    '',
    chalk.bold('Hardware'),
    ...table([
      ['accelerator', hardware.accelerator],
      ['CPU', `${cpu.model}: ${cpu.cores} cores, ${cpu.threads} threads (this process may use ${hardware.availableParallelism})`],
      ['CPU features', cpu.features.join(' ') || '-'],
      ['memory', `${gib(cpu.memoryTotalMb)} total, ${gib(hardware.memoryFreeMb)} free`],
      ['platform', hardware.platform],
      ['GPUs', gpus.length > 0 ? `${gpus.join('; ')}${versions.length > 0 ? `; ${versions.join('; ')}` : ''}` : 'none'],
    ]),
    ...hardware.warnings.map((w) => `  ${chalk.yellow('!')} ${w}`),
  );
  return lines.join('\n');
}
