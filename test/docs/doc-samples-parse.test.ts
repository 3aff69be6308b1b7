// Parsing of scripts/doc-samples.mjs: regions in sources, fenced blocks and markers in markdown, sync and rewrite.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMarkdown, parseRegions, processMarkdown, resolveSample, unreferencedExamples } from '../../scripts/doc-samples.mjs';

describe('parseRegions', () => {
  it('collects TypeScript regions, dedented, without marker lines', () => {
    const src = ['import x from "y";', 'function f() {', '  // #region body', '  const a = 1;', '    return a;', '  // #endregion body', '}'].join('\n');
    const { whole, regions, errors } = parseRegions(src);
    expect(errors).toEqual([]);
    expect(regions.get('body')).toEqual(['const a = 1;', '  return a;']);
    expect(whole).toEqual(['import x from "y";', 'function f() {', '  const a = 1;', '    return a;', '}']);
  });

  it('collects Python regions', () => {
    const { regions, errors } = parseRegions('# region adapter\nclass A:\n    pass\n# endregion adapter\n');
    expect(errors).toEqual([]);
    expect(regions.get('adapter')).toEqual(['class A:', '    pass']);
  });

  it('nested regions: the outer one holds the inner lines but not the inner markers', () => {
    const src = '// #region outer\na\n// #region inner\nb\n// #endregion inner\nc\n// #endregion outer\n';
    const { regions, errors } = parseRegions(src);
    expect(errors).toEqual([]);
    expect(regions.get('outer')).toEqual(['a', 'b', 'c']);
    expect(regions.get('inner')).toEqual(['b']);
  });

  it('an unnamed endregion closes the innermost region', () => {
    const { regions } = parseRegions('// #region a\nx\n// #region b\ny\n// #endregion\n// #endregion\n');
    expect(regions.get('b')).toEqual(['y']);
    expect(regions.get('a')).toEqual(['x', 'y']);
  });

  it('reads CRLF sources like LF ones', () => {
    const { regions, whole } = parseRegions('// #region r\r\nline one\r\nline two\r\n// #endregion r\r\n');
    expect(regions.get('r')).toEqual(['line one', 'line two']);
    expect(whole).toEqual(['line one', 'line two']);
  });

  it('reports unknown endregions, unclosed and duplicate regions with their lines', () => {
    expect(parseRegions('a\n// #endregion nope\n').errors).toEqual([{ line: 2, message: expect.stringContaining('nope') }]);
    expect(parseRegions('// #region open\na\n').errors).toEqual([{ line: 1, message: expect.stringContaining('open') }]);
    expect(parseRegions('// #region d\n// #endregion d\n// #region d\n// #endregion d\n').errors.map((e) => e.line)).toEqual([3]);
  });

  it('does not take ordinary comments for markers', () => {
    const { regions, whole, errors } = parseRegions('// regional settings\n# the region: eu\nx\n');
    expect(errors).toEqual([]);
    expect(regions.size).toBe(0);
    expect(whole).toHaveLength(3);
  });
});

describe('parseMarkdown', () => {
  it('finds blocks, their language and the marker before them (blank lines allowed between)', () => {
    const md = ['# T', '<!-- sample: examples/a.ts#r -->', '', '```ts', 'x', '```', 'text', '```bash', 'ls', '```'].join('\n');
    const { blocks, errors } = parseMarkdown(md);
    expect(errors).toEqual([]);
    expect(blocks.map((b) => [b.lang, b.marker, b.openLine, b.body])).toEqual([
      ['ts', 'examples/a.ts#r', 4, ['x']],
      ['bash', null, 8, ['ls']],
    ]);
  });

  it('ignores fences inside a longer fence and strips a list item indentation', () => {
    const md = ['````md', '```ts', 'inner', '```', '````', '- item', '', '   ```python', '   print(1)', '   ```'].join('\n');
    const { blocks } = parseMarkdown(md);
    expect(blocks.map((b) => [b.lang, b.body])).toEqual([
      ['md', ['```ts', 'inner', '```']],
      ['python', ['print(1)']],
    ]);
  });

  it('reports a marker that no code block follows, and an unclosed block', () => {
    expect(parseMarkdown('<!-- sample: examples/a.ts -->\nsome text\n').errors.map((e) => e.line)).toEqual([1]);
    expect(parseMarkdown('<!-- sample: examples/a.ts -->\n').errors.map((e) => e.line)).toEqual([1]);
    expect(parseMarkdown('```ts\nx\n').errors.map((e) => e.line)).toEqual([1]);
  });

  it('reads CRLF markdown', () => {
    const { blocks } = parseMarkdown('<!-- sample: examples/a.ts -->\r\n```ts\r\nx\r\n```\r\n');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]?.body).toEqual(['x']);
  });
});

describe('processMarkdown against files', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'doc-samples-'));
    mkdirSync(path.join(root, 'examples'));
    mkdirSync(path.join(root, 'test'));
    writeFileSync(path.join(root, 'examples/a.ts'), 'const hidden = 0;\n// #region shown\nconst shown = 1;\n// #endregion shown\n');
    writeFileSync(path.join(root, 'examples/b.ts'), 'export {};\n');
    writeFileSync(path.join(root, 'test/a.test.ts'), "run('examples/a.ts');\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const doc = (body: string, target = 'examples/a.ts#shown') => `# Guide\n\n<!-- sample: ${target} -->\n\`\`\`ts\n${body}\n\`\`\`\n`;

  it('accepts a block equal to its region, and a whole file without its markers', () => {
    expect(processMarkdown(root, 'g.md', doc('const shown = 1;')).problems).toEqual([]);
    expect(processMarkdown(root, 'g.md', doc('const hidden = 0;\nconst shown = 1;', 'examples/a.ts')).problems).toEqual([]);
  });

  it('names file:line of a block out of sync, and rewrites it in fix mode (keeping CRLF)', () => {
    expect(processMarkdown(root, 'g.md', doc('const shown = 2;')).problems).toEqual([expect.stringMatching(/^g\.md:4: block differs from examples\/a\.ts#shown/)]);
    const fixed = processMarkdown(root, 'g.md', doc('old\nlines'), { fix: true });
    expect(fixed.text).toBe(doc('const shown = 1;'));
    const crlf = doc('old').replace(/\n/g, '\r\n');
    expect(processMarkdown(root, 'g.md', crlf, { fix: true }).text).toBe(doc('const shown = 1;').replace(/\n/g, '\r\n'));
  });

  it('names file:line of an unmarked ts/js/python block; shell and text blocks are exempt', () => {
    const md = '```typescript\nx\n```\n\n```py\ny\n```\n\n```bash\nls\n```\n\n```console\n$ ls\n```\n';
    expect(processMarkdown(root, 'g.md', md).problems).toEqual([
      expect.stringMatching(/^g\.md:1: typescript block has no/),
      expect.stringMatching(/^g\.md:5: py block has no/),
    ]);
  });

  it('names file:line of a marker whose file or region is missing, or that leaves the repository', () => {
    expect(processMarkdown(root, 'g.md', doc('x', 'examples/nope.ts')).problems).toEqual([expect.stringMatching(/^g\.md:3: .*does not exist/)]);
    expect(processMarkdown(root, 'g.md', doc('x', 'examples/a.ts#nope')).problems).toEqual([expect.stringMatching(/^g\.md:3: .*no region "nope"/)]);
    expect(resolveSample(root, '../outside.ts')).toEqual({ error: expect.stringContaining('inside the repository') });
  });

  it('lists the examples no test names', () => {
    expect(unreferencedExamples(root)).toEqual(['examples/b.ts']);
  });
});
