// Issue 12: every code sample in README.md and guides/*.md is a marked copy of a file CI executes.
// One test per document, so a failure names the file; each problem names file:line. Fix with `npm run docs:samples`
// (out of sync) or by moving the code into examples/ and adding a `<!-- sample: path#region -->` marker.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { documentationFiles, processMarkdown, unreferencedExamples } from '../../scripts/doc-samples.mjs';

const root = path.resolve(import.meta.dirname, '../..');

describe('documentation samples', () => {
  it('there are documents to check', () => {
    expect(documentationFiles(root)).toContain('README.md');
  });

  it.each(documentationFiles(root))('%s: every ts/js/python block is marked and in sync with its source', (file) => {
    const { problems } = processMarkdown(root, file, readFileSync(path.join(root, file), 'utf8'));
    expect(problems).toEqual([]);
  });

  it('every examples/*.ts is run by a test under test/', () => {
    expect(unreferencedExamples(root)).toEqual([]);
  });
});
