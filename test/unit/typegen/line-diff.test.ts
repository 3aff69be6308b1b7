// The diff `gen types --check` prints for a stale file.
import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../../src/typegen/line-diff.js';

describe('lineDiff', () => {
  const labels = { before: 'old', after: 'new' };

  it('is empty for equal texts', () => {
    expect(lineDiff('a\nb', 'a\nb', labels)).toBe('');
  });

  it('shows removed and added lines with two lines of context, eliding the rest', () => {
    const before = ['1', '2', '3', '4', '5', '6', 'x', '8'].join('\n');
    const after = ['1', '2', '3', '4', '5', '6', 'y', '8'].join('\n');
    expect(lineDiff(before, after, labels).split('\n')).toEqual(['--- old', '+++ new', '…', ' 5', ' 6', '-x', '+y', ' 8']);
  });

  it('handles a missing file as all lines added', () => {
    expect(lineDiff('', 'a', labels).split('\n')).toEqual(['--- old', '+++ new', '-', '+a']);
  });
});
