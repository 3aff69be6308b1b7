// The status dashboard's sparkline.
import { describe, expect, it } from 'vitest';
import { sparkline } from '../../../src/ui/sparkline.js';

describe('sparkline', () => {
  it.each([
    [[0, 0, 0], 3, '▁▁▁'],
    [[0, 4, 8], 3, '▁▅█'],
    [[8], 3, '  █'],
    [[1, 2, 3, 4, 8], 2, '▅█'],
  ])('sparkline(%j, %d)', (values, width, expected) => {
    expect(sparkline(values, width)).toBe(expected);
  });
});
