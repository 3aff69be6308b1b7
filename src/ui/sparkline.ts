/** A text sparkline: one block character per value, scaled to the largest. */

const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * The last `width` values as block characters, the tallest block for the largest value (or the
 * lowest for all zeros), padded on the left with spaces so the line keeps its width.
 * @param width characters @default 20
 */
export function sparkline(values: readonly number[], width = 20): string {
  const shown = values.slice(-width);
  const max = Math.max(0, ...shown);
  const line = shown.map((v) => BLOCKS[max <= 0 ? 0 : Math.min(BLOCKS.length - 1, Math.round((Math.max(0, v) / max) * (BLOCKS.length - 1)))]).join('');
  return line.padStart(width, ' ');
}
