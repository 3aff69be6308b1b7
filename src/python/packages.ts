/**
 * The original's `PythonPackages`: check, install and pin the Python packages of one interpreter's
 * environment, with uv when it is there and pip otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PackageError } from '../errors.js';
import { DEFAULT_PROBE_TIMEOUT_MS, outputTail, runCommand, type CommandResult } from './exec.js';
import { parseRequirement, readRequirementsFile, satisfies, type Requirement } from './requirements.js';

/** Longest an install may take, in ms (the original's `:timeout`). */
export const DEFAULT_INSTALL_TIMEOUT_MS = 600_000;

/** Which tool installs packages. */
export type Installer = 'uv' | 'pip';

/**
 * What to install: requirement strings, or requirements files (the original's `{:list, ...}` /
 * `{:file, ...}`; several files go to the installer together, so one resolution sees them all).
 */
export type RequirementsSpec = { list: readonly string[] } | { file: string } | { files: readonly string[] };

export interface PythonPackagesOptions {
  /** Interpreter whose environment is checked and installed into. */
  python: string;
  /** Force an installer. Unset: uv when {@link findUv} finds one, else pip. */
  installer?: Installer;
  /** The uv executable. Unset: `SNAKEPIT_UV`, then `uv` on PATH, then `uv` beside `python` (a venv that has it). */
  uv?: string;
  /** @default DEFAULT_INSTALL_TIMEOUT_MS */
  installTimeoutMs?: number;
  /** Timeout of the quick checks (versions, `--version`), in ms. @default DEFAULT_PROBE_TIMEOUT_MS */
  probeTimeoutMs?: number;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export interface InstallOptions {
  /** Upgrade packages that are already there (`--upgrade`). @default false */
  upgrade?: boolean;
  /** Each line of the installer's output, as it comes. */
  onLine?: (line: string) => void;
  /** @default the instance's installTimeoutMs */
  timeoutMs?: number;
}

/** One requirement the environment does not meet. */
export interface UnmetRequirement {
  requirement: string;
  /** `not_installed`, `version_mismatch`, or `unverifiable` (an editable, path or URL line: only the installer can tell). */
  reason: 'not_installed' | 'version_mismatch' | 'unverifiable';
  /** Installed version, when there is one. */
  installed: string | null;
}

/** Result of {@link PythonPackages.checkInstalled}: the original's `{:ok, :all_installed} | {:ok, {:missing, reqs}}`. */
export interface CheckResult {
  allInstalled: boolean;
  missing: UnmetRequirement[];
  /** Installed version of each checked package (by requirement name); `null` when absent. */
  versions: Record<string, string | null>;
}

/** The result of {@link PythonPackages.ensure}. */
export interface EnsureResult {
  /** Whether the installer ran. */
  installed: boolean;
  /** What was unmet before it ran. */
  missing: UnmetRequirement[];
  installer: Installer | null;
}

/** `lockMetadata`: package name -> installed version and the sha256 of its RECORD (its installed files and their hashes). */
export type LockMetadata = Record<string, { version: string; hash: string | null }>;

// argv[1]: "versions" or "lock"; argv[2]: JSON [{name, marker?}]. Markers are evaluated with
// `packaging` (standalone or pip's copy) where present, else assumed to apply.
const QUERY_SCRIPT = `
import hashlib, json, sys
from importlib import metadata
try:
    from packaging.markers import Marker
except Exception:
    try:
        from pip._vendor.packaging.markers import Marker
    except Exception:
        Marker = None
mode, items = sys.argv[1], json.loads(sys.argv[2])
out = {}
for item in items:
    name, applies = item["name"], True
    if item.get("marker") and Marker is not None:
        try:
            applies = bool(Marker(item["marker"]).evaluate())
        except Exception:
            applies = True
    try:
        dist = metadata.distribution(name)
        version = dist.version
    except metadata.PackageNotFoundError:
        dist, version = None, None
    entry = {"version": version, "applies": applies}
    if mode == "lock" and dist is not None:
        record = dist.read_text("RECORD")
        entry["hash"] = hashlib.sha256(record.encode()).hexdigest() if record else None
    out[name] = entry
print(json.dumps(out))
`;

interface QueryEntry {
  version: string | null;
  applies: boolean;
  hash?: string | null;
}

/**
 * Packages of one Python environment.
 * @example
 * const pkgs = new PythonPackages({ python: '.venv/bin/python' });
 * await pkgs.ensure({ list: ['numpy>=1.26'] });
 * const { allInstalled } = await pkgs.checkInstalled(['grpcio>=1.66']);
 */
export class PythonPackages {
  readonly python: string;
  readonly #options: PythonPackagesOptions;
  #installer: Promise<{ installer: Installer; uv: string | null }> | undefined;

  constructor(options: PythonPackagesOptions) {
    this.python = options.python;
    this.#options = options;
  }

  /**
   * The installer in use (the original's `installer/0`): the forced one, else uv when found, else pip.
   * @throws {PackageError} `not_installed` when the forced installer (or, unforced, both) is missing.
   */
  async installer(): Promise<Installer> {
    return (await this.#resolveInstaller()).installer;
  }

  /** Which of `requirements` the environment does not meet; never installs anything. */
  async checkInstalled(requirements: readonly string[] | RequirementsSpec): Promise<CheckResult> {
    const { parsed, unverifiable } = await this.#parse(requirements);
    const found = await this.#query('versions', parsed);
    const missing: UnmetRequirement[] = unverifiable.map((line) => ({ requirement: line, reason: 'unverifiable', installed: null }));
    const versions: Record<string, string | null> = {};
    for (const req of parsed) {
      const entry = found[req.name];
      const installed = entry?.version ?? null;
      versions[req.name] = installed;
      if (entry && !entry.applies) continue;
      if (installed === null) missing.push({ requirement: req.raw, reason: 'not_installed', installed });
      else if (!satisfies(installed, req.specifiers)) missing.push({ requirement: req.raw, reason: 'version_mismatch', installed });
    }
    return { allInstalled: missing.length === 0, missing, versions };
  }

  /**
   * Installs `requirements` as given (prefer {@link ensure}, which skips what is already there).
   * @throws {PackageError} `invalid_requirement` before running anything; `install_failed` when the
   * installer fails or times out (`details.output` has its last lines); `not_installed` when no installer exists.
   */
  async install(requirements: readonly string[] | RequirementsSpec, options: InstallOptions = {}): Promise<Installer> {
    const spec = toSpec(requirements);
    await this.#parse(spec); // fail on a bad requirement before the installer runs
    const { installer, uv } = await this.#resolveInstaller();
    const targets = 'list' in spec ? [...spec.list] : specFiles(spec).flatMap((f) => ['-r', path.resolve(this.#options.cwd ?? '.', f)]);
    const flags = options.upgrade ? ['--upgrade'] : [];
    const [file, args] =
      installer === 'uv' && uv
        ? [uv, ['pip', 'install', '--python', this.python, ...flags, ...targets]]
        : [this.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...flags, ...targets]];
    const result = await runCommand(file, args, {
      cwd: this.#options.cwd,
      env: this.#options.env,
      timeoutMs: options.timeoutMs ?? this.#options.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS,
      onLine: options.onLine,
    });
    if (result.exitCode !== 0) throw installFailed(installer, targets, result);
    return installer;
  }

  /**
   * Installs whatever of `spec` is not met (the original's `ensure!/2`); does nothing when all is.
   * @throws {PackageError} as {@link install}, and `version_mismatch` when a requirement is still
   * unmet after installing (e.g. another requirement holds the package back).
   */
  async ensure(spec: readonly string[] | RequirementsSpec, options: InstallOptions = {}): Promise<EnsureResult> {
    const before = await this.checkInstalled(spec);
    if (before.allInstalled && !options.upgrade) return { installed: false, missing: [], installer: null };
    // A file is installed whole: its options (index URLs, constraints) must reach the installer.
    const target = 'list' in toSpec(spec) ? before.missing.map((m) => m.requirement) : spec;
    const installer = await this.install(target, options);
    const after = await this.checkInstalled(spec);
    const stillWrong = after.missing.filter((m) => m.reason !== 'unverifiable');
    if (stillWrong.length > 0) {
      const list = stillWrong.map((m) => `${m.requirement} (installed: ${m.installed ?? 'none'})`).join(', ');
      throw new PackageError(`Still unmet after installing: ${list}`, 'version_mismatch', 'Relax the conflicting version pins, then run snakepit setup again', {
        missing: stillWrong,
      });
    }
    return { installed: true, missing: before.missing, installer };
  }

  /**
   * Installed version and RECORD hash of each requirement's package (the original's `lock_metadata/2`).
   * @throws {PackageError} `not_installed` when one of them is not installed.
   */
  async lockMetadata(requirements: readonly string[] | RequirementsSpec): Promise<LockMetadata> {
    const { parsed } = await this.#parse(requirements);
    const found = await this.#query('lock', parsed);
    const out: LockMetadata = {};
    const absent = parsed.filter((r) => (found[r.name]?.applies ?? true) && !found[r.name]?.version).map((r) => r.name);
    if (absent.length > 0) {
      throw new PackageError(`Not installed: ${absent.join(', ')}`, 'not_installed', 'Install them first (snakepit setup, or ensure())', { packages: absent });
    }
    for (const req of parsed) {
      const entry = found[req.name];
      if (entry?.version) out[req.name] = { version: entry.version, hash: entry.hash ?? null };
    }
    return out;
  }

  async #parse(requirements: readonly string[] | RequirementsSpec): Promise<{ parsed: Requirement[]; unverifiable: string[] }> {
    const spec = toSpec(requirements);
    if ('list' in spec) return { parsed: spec.list.map(parseRequirement), unverifiable: [] };
    const out = { parsed: [] as Requirement[], unverifiable: [] as string[] };
    const seen = new Set<string>();
    for (const f of specFiles(spec)) {
      const read = await readRequirementsFile(path.resolve(this.#options.cwd ?? '.', f), seen);
      out.parsed.push(...read.requirements);
      out.unverifiable.push(...read.unverifiable);
    }
    return out;
  }

  async #query(mode: 'versions' | 'lock', parsed: readonly Requirement[]): Promise<Record<string, QueryEntry>> {
    if (parsed.length === 0) return {};
    const items = parsed.map((r) => ({ name: r.name, ...(r.marker ? { marker: r.marker } : {}) }));
    const result = await runCommand(this.python, ['-c', QUERY_SCRIPT, mode, JSON.stringify(items)], {
      cwd: this.#options.cwd,
      env: this.#options.env,
      timeoutMs: this.#options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    });
    if (result.exitCode !== 0) {
      throw new PackageError(`Cannot inspect the packages of ${this.python}:\n${outputTail(result)}`, 'python_not_found', 'Check the interpreter (snakepit doctor), or run snakepit setup', {
        python: this.python,
      });
    }
    return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Record<string, QueryEntry>;
  }

  #resolveInstaller(): Promise<{ installer: Installer; uv: string | null }> {
    this.#installer ??= (async () => {
      const forced = this.#options.installer;
      const probeMs = this.#options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
      const uv = forced === 'pip' ? null : await findUv({ explicit: this.#options.uv, python: this.python, timeoutMs: probeMs });
      if (uv) return { installer: 'uv' as const, uv };
      if (forced === 'uv') {
        throw new PackageError('uv was asked for but not found', 'not_installed', 'Install uv (pip install uv, or see docs.astral.sh/uv), set SNAKEPIT_UV, or use --installer pip', {
          package: 'uv',
        });
      }
      const pip = await runCommand(this.python, ['-m', 'pip', '--version'], { timeoutMs: probeMs, env: this.#options.env });
      if (pip.exitCode !== 0) {
        throw new PackageError(`Neither uv nor pip is available for ${this.python}`, 'not_installed', `Install uv, or add pip with: ${this.python} -m ensurepip`, {
          package: 'pip',
        });
      }
      return { installer: 'pip' as const, uv: null };
    })();
    // A failed lookup is not cached: the user may install uv and retry with the same object.
    this.#installer.catch(() => (this.#installer = undefined));
    return this.#installer;
  }
}

export interface FindUvOptions {
  /** A path or command that must be uv; when given, nothing else is tried. */
  explicit?: string;
  /** The interpreter of the environment: a `uv` beside it (installed into that venv) counts. */
  python?: string;
  /** @default DEFAULT_PROBE_TIMEOUT_MS */
  timeoutMs?: number;
}

/** The first working uv of: `explicit`, `SNAKEPIT_UV`, `uv` on PATH, `uv` beside `python`; `null` when none. */
export async function findUv(options: FindUvOptions = {}): Promise<string | null> {
  const candidates: string[] = [];
  if (options.explicit) candidates.push(options.explicit);
  else {
    if (process.env.SNAKEPIT_UV) candidates.push(process.env.SNAKEPIT_UV);
    candidates.push('uv');
    if (options.python?.includes(path.sep)) {
      const beside = path.join(path.dirname(options.python), 'uv');
      if (existsSync(beside)) candidates.push(beside);
    }
  }
  for (const candidate of candidates) {
    const r = await runCommand(candidate, ['--version'], { timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS });
    if (r.exitCode === 0 && /^uv\b/.test(r.stdout.trim())) return candidate;
  }
  return null;
}

/** sha256 of a requirements spec's text: what a stamp remembers to notice a change. */
export function requirementsDigest(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

function specFiles(spec: { file: string } | { files: readonly string[] }): readonly string[] {
  return 'file' in spec ? [spec.file] : spec.files;
}

function toSpec(requirements: readonly string[] | RequirementsSpec): RequirementsSpec {
  return Array.isArray(requirements) ? { list: requirements as readonly string[] } : (requirements as RequirementsSpec);
}

function installFailed(installer: Installer, targets: readonly string[], result: CommandResult): PackageError {
  const what = targets.join(' ');
  const why = result.timedOut ? 'timed out' : result.notFound ? 'could not be started' : `exited with code ${result.exitCode ?? 'none'}`;
  const fix = result.timedOut
    ? 'Raise the timeout (--timeout), or check the network to the package index'
    : 'Check the requirement names and versions and that the package index is reachable, then run again';
  return new PackageError(`${installer} install of ${what} ${why}:\n${outputTail(result)}`, 'install_failed', fix, {
    installer,
    targets,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    output: outputTail(result, 40),
  });
}
