/** `snakepit doctor` as text: one line per check, its fix under it. */
import chalk from 'chalk';
import type { CheckStatus, DoctorReport } from '../python/doctor.js';

const MARK: Record<CheckStatus, string> = { pass: chalk.green('✔ pass'), warn: chalk.yellow('! warn'), fail: chalk.red('✖ fail') };

/** The report as lines of text (no trailing newline). */
export function formatDoctorReport(report: DoctorReport): string {
  const label = (c: DoctorReport['checks'][number]) => (c.pool ? `${c.id} [${c.pool}]` : c.id);
  const width = Math.max(...report.checks.map((c) => label(c).length));
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${MARK[check.status]}  ${label(check).padEnd(width)}  ${check.message}`);
    if (check.fix && check.status !== 'pass') lines.push(`${' '.repeat(8 + width)}${chalk.dim('fix:')} ${check.fix}`);
  }
  const { pass, warn, fail } = report.counts;
  lines.push('', `${pass} passed, ${warn} warned, ${fail} failed`);
  return lines.join('\n');
}
