/** A unified-style line diff, enough to show why a generated file is stale (`snakepit gen types --check`). */

/** Lines of context kept around each change. */
const CONTEXT_LINES = 2;

/**
 * `-` lines of `before`, `+` lines of `after`, with a little context; '' when equal. Longest common
 * subsequence on lines: generated files are a few thousand lines at most.
 */
export function lineDiff(before: string, after: string, labels: { before: string; after: string }): string {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const ops: { op: ' ' | '-' | '+'; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i++]! });
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) ops.push({ op: '+', line: b[j++]! });
    else ops.push({ op: '-', line: a[i++]! });
  }
  const keep = ops.map((o, k) => o.op !== ' ' || ops.slice(Math.max(0, k - CONTEXT_LINES), k + CONTEXT_LINES + 1).some((n) => n.op !== ' '));
  const out = [`--- ${labels.before}`, `+++ ${labels.after}`];
  ops.forEach((o, k) => {
    if (keep[k]) out.push(`${o.op}${o.line}`);
    else if (k === 0 || keep[k - 1]) out.push('…');
  });
  return out.join('\n');
}
