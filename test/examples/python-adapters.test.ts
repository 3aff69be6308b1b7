// guides/python-adapters.md's example: a custom adapter (examples/python/my_adapter.py) with a
// streaming tool and a host tool called from Python, run through `snakepit run`.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('custom adapter example', () => {
  it('calls tools, streams, calls a host tool from Python and keeps session state', async () => {
    const r = await runExample('examples/custom-adapter.ts', { config: 'examples/custom-adapter.config.ts' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^add \{ result: 5 \}$/m);
    expect(r.stdout).toMatch(/^mean 2\.5$/m);
    expect(r.stdout).toMatch(/^mean\(\[\]\) python_error PythonValueError$/m);
    expect(r.stdout).toMatch(/^discount unknown_discount \[ 'WELCOME' \]$/m);
    expect(r.stdout.match(/^countdown .*$/gm)).toEqual(['countdown { left: 3 }', 'countdown { left: 2 }', 'countdown { left: 1 }']);
    expect(r.stdout.match(/^basket .*$/gm)).toEqual([
      "basket { item: 'apple', price: 0.5, total: 0.5, currency: 'EUR' }",
      "basket { item: 'bread', price: 2.25, total: 2.75, currency: 'EUR' }",
      "basket { item: 'cheese', price: 4.1, total: 6.85, currency: 'EUR' }",
    ]);
    expect(r.stdout).toMatch(/^price_of \{ price: 2\.25 \}$/m);
    expect(r.stdout).toMatch(/^cart \[ 'apple', 'bread' \] \[ 'apple', 'bread' \]$/m);
    expect(r.stdout).toMatch(/^tools add cart_add countdown discount mean price_basket price_of$/m);
  });
});
