/**
 * Python requirement strings (PEP 508, the common subset) and versions (PEP 440 ordering), so that
 * "is this installed at a good version?" is answered here, without needing `packaging` in the venv.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PackageError } from '../errors.js';

/** A version clause such as `>=1.26`. */
export interface Specifier {
  op: '~=' | '===' | '==' | '!=' | '<=' | '>=' | '<' | '>';
  version: string;
}

/** One parsed requirement, e.g. `grpcio[protobuf]>=1.66,<2; python_version >= "3.9"`. */
export interface Requirement {
  /** The text as written (comments and per-line options removed). */
  raw: string;
  name: string;
  /** PEP 503 normalised name: lower case, runs of `-_.` as one `-`. */
  key: string;
  extras: string[];
  /** Empty: any version. */
  specifiers: Specifier[];
  /** Environment marker (after `;`), evaluated by the interpreter when it can. */
  marker?: string;
  /** `name @ url`: a direct reference; only the name can be checked. */
  url?: string;
}

/** A requirements file with its `-r` includes followed. */
export interface RequirementsFile {
  requirements: Requirement[];
  /** Lines that name no checkable package (`-e .`, paths, URLs): the installer gets them, the check cannot. */
  unverifiable: string[];
  /** Every file read, the given one first. */
  files: string[];
}

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(.*)$/s;
const CLAUSE = /^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$/;
const VERSION =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i;

/** PEP 503 normalisation, the key pip and importlib.metadata compare names by. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/**
 * Parses one requirement string.
 * @throws {PackageError} `invalid_requirement` when it is not a PEP 508 requirement.
 * @example
 * parseRequirement('numpy>=1.26,<3').specifiers; // [{ op: '>=', version: '1.26' }, { op: '<', version: '3' }]
 */
export function parseRequirement(text: string): Requirement {
  const raw = text.trim();
  const invalid = (why: string) =>
    new PackageError(`Invalid requirement ${JSON.stringify(raw)}: ${why}`, 'invalid_requirement', 'Write it as name[extras]<specifiers> (PEP 508), e.g. numpy>=1.26', {
      requirement: raw,
    });
  const m = NAME.exec(raw);
  if (!m) throw invalid('expected a package name');
  const [, name = '', extrasText, rest0 = ''] = m;
  const extras = extrasText === undefined ? [] : extrasText.split(',').map((e) => e.trim()).filter(Boolean);
  let rest = rest0.trim();
  const base = { raw, name, key: normalizeName(name), extras };
  if (rest.startsWith('@')) {
    // PEP 508: a marker after a URL needs whitespace before the `;`.
    const at = rest.search(/\s;/);
    const url = (at === -1 ? rest.slice(1) : rest.slice(1, at)).trim();
    if (!url) throw invalid('expected a URL after @');
    const marker = at === -1 ? undefined : rest.slice(at).replace(/^\s*;/, '').trim() || undefined;
    return { ...base, specifiers: [], url, ...(marker ? { marker } : {}) };
  }
  let marker: string | undefined;
  const semi = rest.indexOf(';');
  if (semi !== -1) {
    marker = rest.slice(semi + 1).trim();
    if (!marker) throw invalid('empty environment marker');
    rest = rest.slice(0, semi).trim();
  }
  if (rest.startsWith('(') && rest.endsWith(')')) rest = rest.slice(1, -1).trim();
  const specifiers: Specifier[] = [];
  if (rest) {
    for (const clause of rest.split(',')) {
      const c = CLAUSE.exec(clause.trim());
      if (!c) throw invalid(`cannot read the version clause ${JSON.stringify(clause.trim())}`);
      const op = c[1] as Specifier['op'];
      const version = c[2] ?? '';
      const wildcard = version.endsWith('.*');
      if (wildcard && op !== '==' && op !== '!=') throw invalid(`${op} does not take a wildcard`);
      if (op !== '===' && parseVersion(wildcard ? version.slice(0, -2) : version) === null) throw invalid(`${version} is not a version`);
      if (op === '~=' && (parseVersion(version)?.release.length ?? 0) < 2) throw invalid('~= needs at least two version parts, e.g. ~=1.4');
      specifiers.push({ op, version });
    }
  }
  return { ...base, specifiers, ...(marker ? { marker } : {}) };
}

/**
 * Reads a requirements file the way pip does for the parts that name packages: comments, line
 * continuations, `-r`/`--requirement` includes (relative to the including file), per-line
 * `--hash` options. Global options (`--index-url`, `-c`, ...) are the installer's business.
 * @throws {PackageError} `invalid_requirement` for an unreadable file or a bad line (`details.file` says which).
 */
export async function readRequirementsFile(file: string, seen = new Set<string>()): Promise<RequirementsFile> {
  const abs = path.resolve(file);
  const out: RequirementsFile = { requirements: [], unverifiable: [], files: [abs] };
  if (seen.has(abs)) return { ...out, files: [] };
  seen.add(abs);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (error) {
    throw new PackageError(`Cannot read requirements file ${abs}`, 'invalid_requirement', 'Check the path of the requirements file', { file: abs }, error);
  }
  for (const line of logicalLines(text)) {
    const include = /^(?:-r|--requirement)(?:\s+|=)(.+)$/.exec(line);
    if (include?.[1]) {
      const nested = await readRequirementsFile(path.resolve(path.dirname(abs), include[1].trim()), seen);
      out.requirements.push(...nested.requirements);
      out.unverifiable.push(...nested.unverifiable);
      out.files.push(...nested.files);
      continue;
    }
    if (/^(?:-e|--editable)\b/.test(line)) {
      out.unverifiable.push(line);
      continue;
    }
    if (line.startsWith('-')) continue; // a global option (index URL, constraints, ...)
    if (isPathOrUrl(line)) {
      out.unverifiable.push(line);
      continue;
    }
    const requirementText = line.replace(/\s+--[a-z-]+(?:[= ]\S+)?/g, '').trim();
    try {
      out.requirements.push(parseRequirement(requirementText));
    } catch (error) {
      if (error instanceof PackageError) {
        throw new PackageError(`${error.message} (in ${abs})`, 'invalid_requirement', error.fix, { ...error.details, file: abs });
      }
      throw error;
    }
  }
  return out;
}

function* logicalLines(text: string): Generator<string> {
  let carry = '';
  for (const physical of text.split(/\r?\n/)) {
    const line = physical.replace(/(^|\s)#.*$/, '');
    if (line.endsWith('\\')) {
      carry += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (carry + line).trim();
    carry = '';
    if (full) yield full;
  }
  if (carry.trim()) yield carry.trim();
}

function isPathOrUrl(line: string): boolean {
  return /^[./~]/.test(line) || line.includes('://') || /\.(whl|zip|tar\.gz|tgz)$/i.test(line);
}

// ---- versions (PEP 440 ordering) ----

/** A parsed version, with the pieces PEP 440 orders by. */
export interface ParsedVersion {
  epoch: number;
  release: number[];
  pre: [number, number] | null;
  post: number | null;
  dev: number | null;
  local: string | null;
}

const PRE_PHASE: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };

/** Parses a PEP 440 version; `null` when it is not one (legacy versions are not supported). */
export function parseVersion(text: string): ParsedVersion | null {
  const m = VERSION.exec(text.trim());
  if (!m) return null;
  const num = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  return {
    epoch: num(m[1]),
    release: (m[2] ?? '0').split('.').map(Number),
    pre: m[3] ? [PRE_PHASE[m[3].toLowerCase()] ?? 2, num(m[4])] : null,
    post: m[5] !== undefined ? Number(m[5]) : m[6] ? num(m[7]) : null,
    dev: m[8] ? num(m[9]) : null,
    local: m[10] ?? null,
  };
}

/** Orders two versions as PEP 440 does (local labels only break ties); unparsable ones compare as text. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return a.localeCompare(b);
  return compareParsed(pa, pb) || Number(pa.local !== null) - Number(pb.local !== null);
}

function compareParsed(a: ParsedVersion, b: ParsedVersion): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  const len = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < len; i++) {
    const d = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (d !== 0) return d;
  }
  // As packaging's _cmpkey: a dev release of a final sorts before its pre-releases, finals after them.
  const preKey = (v: ParsedVersion): number[] => (v.pre ? v.pre : v.post === null && v.dev !== null ? [-Infinity] : [Infinity]);
  const [ap, bp] = [preKey(a), preKey(b)];
  for (let i = 0; i < 2; i++) {
    const d = (ap[i] ?? 0) - (bp[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  const postKey = (v: ParsedVersion) => v.post ?? -Infinity;
  if (postKey(a) !== postKey(b)) return postKey(a) < postKey(b) ? -1 : 1;
  const devKey = (v: ParsedVersion) => v.dev ?? Infinity;
  if (devKey(a) !== devKey(b)) return devKey(a) < devKey(b) ? -1 : 1;
  return 0;
}

/** `version` meets every clause (an empty list accepts anything). */
export function satisfies(version: string, specifiers: readonly Specifier[]): boolean {
  return specifiers.every((s) => satisfiesOne(version, s));
}

function satisfiesOne(version: string, spec: Specifier): boolean {
  if (spec.op === '===') return version.trim().toLowerCase() === spec.version.trim().toLowerCase();
  const v = parseVersion(version);
  if (!v) return false;
  if (spec.op === '==' || spec.op === '!=') {
    const equal = spec.version.endsWith('.*') ? prefixMatch(v, spec.version.slice(0, -2)) : exactMatch(v, spec.version);
    return spec.op === '==' ? equal : !equal;
  }
  const s = parseVersion(spec.version);
  if (!s) return false;
  const cmp = compareParsed(v, s);
  const sameRelease = compareParsed({ ...v, pre: null, post: null, dev: null }, { ...s, pre: null, post: null, dev: null }) === 0;
  switch (spec.op) {
    case '>=':
      return cmp >= 0;
    case '<=':
      return cmp <= 0;
    // PEP 440: `<V` excludes V's pre-releases and `>V` its post-releases, unless V is one.
    case '<':
      return cmp < 0 && !(s.pre === null && s.dev === null && (v.pre !== null || v.dev !== null) && sameRelease);
    case '>':
      return cmp > 0 && !(s.post === null && v.post !== null && sameRelease);
    case '~=': {
      const prefix = s.release.slice(0, -1).join('.');
      return cmp >= 0 && prefixMatch(v, `${s.epoch ? `${s.epoch}!` : ''}${prefix}`);
    }
    default:
      return false;
  }
}

function exactMatch(v: ParsedVersion, specText: string): boolean {
  const s = parseVersion(specText);
  if (!s) return false;
  if (compareParsed(v, s) !== 0) return false;
  // A spec without a local label matches any local label; one with a label needs the same one.
  return s.local === null || (v.local ?? '').toLowerCase() === s.local.toLowerCase();
}

function prefixMatch(v: ParsedVersion, prefixText: string): boolean {
  const p = parseVersion(prefixText);
  if (!p || p.epoch !== v.epoch) return false;
  return p.release.every((part, i) => (v.release[i] ?? 0) === part);
}
