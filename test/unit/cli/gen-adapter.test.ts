// Adapter package names: Python identifiers only, and the class name derived from them.
import { describe, expect, it } from 'vitest';
import { adapterClassName, validateAdapterName } from '../../../src/cli/gen-adapter.js';

describe('adapter names', () => {
  it.each([
    ['my_adapter', 'MyAdapter'],
    ['vision', 'VisionAdapter'],
    ['text_tools', 'TextToolsAdapter'],
    ['_private', 'PrivateAdapter'],
  ])('%s -> class %s', (name, className) => {
    expect(() => validateAdapterName(name)).not.toThrow();
    expect(adapterClassName(name)).toBe(className);
  });

  it.each(['9lives', 'my-adapter', 'class', 'snakepit_bridge', 'tests', '', 'a.b'])('rejects %j with invalid_argument', (name) => {
    expect(() => validateAdapterName(name)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
