#!/usr/bin/env node
// Documentation samples: every code block in README.md and guides/*.md is a copy of a file (or a named
// region of one) that CI executes, so no sample rots. A block is tied to its source by a marker line:
//
//     <!-- sample: examples/streaming.ts#consume -->
//     ```ts
//     ...the lines of region "consume" of examples/streaming.ts...
//     ```
//
// Regions: `// #region name` ... `// #endregion name` (Python: `# region name` ... `# endregion name`).
// Region marker lines are never copied; a region's lines are dedented to its least-indented line.
//
//   node scripts/doc-samples.mjs           rewrite every marked block from its source (npm run docs:samples)
//   node scripts/doc-samples.mjs --check   list what is out of sync, unmarked or missing; exit 1 if any
//   either with file arguments (README.md guides/x.md): only those documents
//
// Plain Node, no build: test/docs/samples.test.ts imports the same functions.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Languages whose blocks must carry a sample marker (shell, console, text, json... are exempt). */
export const MARKED_LANGUAGES = new Set(['ts', 'typescript', 'js', 'javascript', 'tsx', 'jsx', 'mjs', 'python', 'py']);

const MARKER = /^\s*<!--\s*sample:\s*(\S+?)\s*-->\s*$/;
const REGION_START = /^\s*(?:\/\/|#)\s*#?region\s+([\w.-]+)\s*$/;
const REGION_END = /^\s*(?:\/\/|#)\s*#?endregion(?:\s+([\w.-]+))?\s*$/;
const FENCE_OPEN = /^( {0,12})(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;

/** Splits text into lines, accepting LF and CRLF. */
export function splitLines(text) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Parses region markers of a source file.
 * @returns {{ whole: string[], regions: Map<string, string[]>, errors: {line: number, message: string}[] }}
 *   `whole` is the file without marker lines; each region's lines are dedented; `line` is 1-based.
 */
export function parseRegions(text) {
  const lines = splitLines(text);
  const whole = [];
  const regions = new Map();
  const open = []; // { name, line, lines }
  const errors = [];
  lines.forEach((line, i) => {
    const start = REGION_START.exec(line);
    const end = start ? null : REGION_END.exec(line);
    if (start) {
      const name = start[1];
      if (regions.has(name) || open.some((r) => r.name === name)) errors.push({ line: i + 1, message: `region "${name}" defined twice` });
      open.push({ name, line: i + 1, lines: [] });
      return;
    }
    if (end) {
      // Unnamed ends close the innermost region; named ends may close an outer one (overlapping regions).
      const at = end[1] === undefined ? open.length - 1 : open.findLastIndex((r) => r.name === end[1]);
      if (at < 0) {
        errors.push({ line: i + 1, message: end[1] === undefined ? 'endregion without a region' : `endregion "${end[1]}" without its region` });
        return;
      }
      const [closed] = open.splice(at, 1);
      if (!regions.has(closed.name)) regions.set(closed.name, dedent(closed.lines));
      return;
    }
    whole.push(line);
    for (const r of open) r.lines.push(line);
  });
  for (const r of open) errors.push({ line: r.line, message: `region "${r.name}" is never closed` });
  return { whole, regions, errors };
}

function dedent(lines) {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)[0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  const out = lines.map((l) => (l.trim() === '' ? '' : l.slice(cut)));
  while (out.length > 0 && out[0] === '') out.shift();
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/**
 * Finds the fenced code blocks of a markdown text and the sample marker before each.
 * @returns {{ blocks: Block[], errors: {line: number, message: string}[] }} with
 *   Block = { lang, marker: string|null, markerLine, openLine, closeLine, indent, body: string[] }, lines 1-based;
 *   `body` is the block's lines without the fence's indentation.
 */
export function parseMarkdown(text) {
  const lines = splitLines(text);
  const blocks = [];
  const errors = [];
  let pending = null; // { target, line } of a marker not yet followed by its block
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const marker = MARKER.exec(line);
    if (marker) {
      if (pending) errors.push({ line: pending.line, message: `sample marker ${pending.target} is not followed by a code block` });
      pending = { target: marker[1], line: i + 1 };
      continue;
    }
    const fence = FENCE_OPEN.exec(line);
    if (!fence) {
      if (pending && line.trim() !== '') {
        errors.push({ line: pending.line, message: `sample marker ${pending.target} is not followed by a code block` });
        pending = null;
      }
      continue;
    }
    const [, indent, ticks, lang] = fence;
    const closeRe = new RegExp(`^ {0,${indent.length + 3}}${ticks[0] === '`' ? '`' : '~'}{${ticks.length},}\\s*$`);
    let j = i + 1;
    while (j < lines.length && !closeRe.test(lines[j])) j++;
    const body = lines.slice(i + 1, j).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    blocks.push({
      lang: lang.toLowerCase(),
      marker: pending ? pending.target : null,
      markerLine: pending ? pending.line : null,
      openLine: i + 1,
      closeLine: j + 1,
      indent,
      body,
    });
    if (j >= lines.length) errors.push({ line: i + 1, message: 'code block is never closed' });
    pending = null;
    i = j;
  }
  if (pending) errors.push({ line: pending.line, message: `sample marker ${pending.target} is not followed by a code block` });
  return { blocks, errors };
}

/**
 * The lines a marker target (`path` or `path#region`, relative to `root`) stands for.
 * @returns {{ lines: string[] } | { error: string }}
 */
export function resolveSample(root, target, cache = new Map()) {
  const hash = target.indexOf('#');
  const file = hash < 0 ? target : target.slice(0, hash);
  const region = hash < 0 ? null : target.slice(hash + 1);
  const abs = path.resolve(root, file);
  if (path.relative(root, abs).startsWith('..') || path.isAbsolute(file)) return { error: `sample ${target}: path must be inside the repository` };
  if (!cache.has(abs)) cache.set(abs, existsSync(abs) ? parseRegions(readFileSync(abs, 'utf8')) : null);
  const parsed = cache.get(abs);
  if (!parsed) return { error: `sample ${target}: file ${file} does not exist` };
  if (parsed.errors.length > 0) return { error: `sample ${target}: ${file}:${parsed.errors[0].line}: ${parsed.errors[0].message}` };
  if (region === null) return { lines: parsed.whole };
  const lines = parsed.regions.get(region);
  return lines ? { lines } : { error: `sample ${target}: ${file} has no region "${region}"` };
}

/**
 * Checks one markdown text, or rewrites its marked blocks when `fix` is set.
 * @returns {{ problems: string[], text: string }} problems as `file:line: message`; `text` is the rewritten
 *   markdown (unchanged line endings) when `fix`, else the input.
 */
export function processMarkdown(root, file, text, { fix = false, cache = new Map() } = {}) {
  const { blocks, errors } = parseMarkdown(text);
  const problems = errors.map((e) => `${file}:${e.line}: ${e.message}`);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = splitLines(text);
  const edits = []; // [from, to, replacement] over 0-based line indexes, applied last to first
  for (const b of blocks) {
    if (b.marker === null) {
      if (MARKED_LANGUAGES.has(b.lang)) problems.push(`${file}:${b.openLine}: ${b.lang} block has no <!-- sample: path#region --> marker`);
      continue;
    }
    const sample = resolveSample(root, b.marker, cache);
    if ('error' in sample) {
      problems.push(`${file}:${b.markerLine}: ${sample.error}`);
      continue;
    }
    if (sample.lines.join('\n') === b.body.join('\n')) continue;
    if (fix) edits.push([b.openLine, b.closeLine - 1, sample.lines.map((l) => (l === '' ? '' : b.indent + l))]);
    else problems.push(`${file}:${b.openLine}: block differs from ${b.marker} (run npm run docs:samples)`);
  }
  if (!fix || edits.length === 0) return { problems, text };
  for (const [from, to, replacement] of edits.reverse()) lines.splice(from, to - from, ...replacement);
  return { problems, text: lines.join(eol) + eol };
}

/** README.md and guides/*.md, relative to root. */
export function documentationFiles(root) {
  const guides = existsSync(path.join(root, 'guides'))
    ? readdirSync(path.join(root, 'guides')).filter((f) => f.endsWith('.md')).sort().map((f) => `guides/${f}`)
    : [];
  return ['README.md', ...guides].filter((f) => existsSync(path.join(root, f)));
}

/** Every examples/*.ts must be named (as `examples/<file>`) by some test under test/, so CI executes it. */
export function unreferencedExamples(root) {
  const dir = path.join(root, 'examples');
  if (!existsSync(dir)) return [];
  const examples = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const tests = listFiles(path.join(root, 'test')).filter((f) => /\.(ts|mts|js|mjs)$/.test(f)).map((f) => readFileSync(f, 'utf8'));
  return examples.filter((e) => !tests.some((t) => t.includes(`examples/${e}`))).map((e) => `examples/${e}`);
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? (d.name === 'node_modules' ? [] : listFiles(p)) : [p];
  });
}

function main(argv) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const check = argv.includes('--check');
  const only = argv.filter((a) => !a.startsWith('--')).map((f) => path.relative(root, path.resolve(f)).split(path.sep).join('/'));
  const cache = new Map();
  const problems = [];
  for (const file of only.length > 0 ? only : documentationFiles(root)) {
    const abs = path.join(root, file);
    const text = readFileSync(abs, 'utf8');
    const result = processMarkdown(root, file, text, { fix: !check, cache });
    problems.push(...result.problems);
    if (result.text !== text) {
      writeFileSync(abs, result.text);
      console.log(`updated ${file}`);
    }
  }
  if (only.length === 0) for (const e of unreferencedExamples(root)) problems.push(`${e}: no test under test/ runs it (name it as '${e}' in a test)`);
  for (const p of problems) console.error(p);
  if (problems.length > 0) process.exitCode = 1;
  else if (check) console.log('documentation samples in sync');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
