/**
 * What `snakepit setup` does, as steps a renderer (listr2) can show one by one: find Python,
 * create the venv, install requirements, link the bridge, generate the gRPC stubs, verify imports.
 * Idempotent: every step first looks whether its work is already done (a stamp in the venv for
 * the requirements), so a second run changes nothing.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PackageError } from '../errors.js';
import { outputTail, runCommand } from './exec.js';
import { PythonPackages, requirementsDigest, type Installer } from './packages.js';
import { readRequirementsFile } from './requirements.js';
import { bridgePythonPath } from './runtime.js';
import { createVenv, isVenv, resolveBasePython, venvPython, type InterpreterSource, type PythonStrategy } from './venv.js';
import { meetsMinimumVersion, probePython, type PythonInfo } from './version.js';

/** Name of the stamp file `snakepit setup` keeps in the venv. */
export const SETUP_STAMP_FILE = '.snakepit-setup.json';

export interface SetupOptions {
  /** Project folder: base of relative paths. @default process.cwd() */
  cwd?: string;
  /** @default 'venv' */
  strategy?: PythonStrategy;
  /** The virtual environment (strategies `venv`, `managed`). @default `<cwd>/.venv` */
  venvDir?: string;
  /** Interpreter to use (`system`) or to base the venv on; for `managed` also a version request (`3.12`). */
  python?: string;
  /** The user's requirements files, installed together with the bridge's. @default [] */
  requirements?: readonly string[];
  /** Force `uv` or `pip`. Unset: uv when found, else pip. */
  installer?: Installer;
  uv?: string;
  /** Base the venv on the interpreter's packages too. @default false */
  systemSitePackages?: boolean;
  /** Longest the install may take, in ms. @default DEFAULT_INSTALL_TIMEOUT_MS */
  installTimeoutMs?: number;
  /** Run every step even when it looks done (reinstall, regenerate). @default false */
  force?: boolean;
}

export type SetupStepId = 'python' | 'venv' | 'packages' | 'link' | 'stubs' | 'verify';

/** How one step ended. `skipped`: its work was already done (or does not apply). */
export interface StepOutcome {
  status: 'done' | 'skipped';
  summary: string;
}

export interface SetupStep {
  id: SetupStepId;
  title: string;
  /** Runs the step; `progress` gets output lines of long commands. Throws a `PackageError` on failure. */
  run(progress: (line: string) => void): Promise<StepOutcome>;
}

/** What `snakepit setup --json` prints. */
export interface SetupReport {
  strategy: PythonStrategy;
  /** The interpreter the environment runs (the venv's for `venv`/`managed`). */
  python: { executable: string; version: string; source: InterpreterSource | 'created' } | null;
  venv: string | null;
  installer: Installer | null;
  requirements: string[];
  stubsDir: string;
  /** True when some step changed something. */
  changed: boolean;
  steps: ({ id: SetupStepId } & StepOutcome)[];
}

// `python` and `verify` only look; the others change the environment when they are `done`.
const CHANGING_STEPS: ReadonlySet<SetupStepId> = new Set(['venv', 'packages', 'link', 'stubs']);

interface Stamp {
  digest: string;
  python: string;
  installer: Installer;
}

/**
 * The steps of one setup run, in order, and the report they fill in.
 * @example
 * const plan = planSetup({ cwd: '/app', requirements: ['requirements.txt'] });
 * for (const step of plan.steps) await step.run(() => {});
 * plan.report().changed; // false on a second run
 */
export function planSetup(options: SetupOptions = {}): { steps: SetupStep[]; report: () => SetupReport } {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const strategy = options.strategy ?? 'venv';
  const venvDir = strategy === 'system' ? null : path.resolve(cwd, options.venvDir ?? '.venv');
  const bridgeDir = bridgePythonPath();
  const requirementFiles = [path.join(bridgeDir, 'requirements.txt'), ...(options.requirements ?? []).map((f) => path.resolve(cwd, f))];
  const bridgeEnv = { PYTHONPATH: [bridgeDir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  const outcomes: ({ id: SetupStepId } & StepOutcome)[] = [];
  let info: PythonInfo | null = null;
  let source: InterpreterSource | 'created' = 'system';
  let installer: Installer | null = null;

  const current = (): PythonInfo => {
    if (!info) throw new Error('setup steps ran out of order'); // a bug, not a user error
    return info;
  };
  const probeChecked = async (executable: string): Promise<PythonInfo> => {
    const probed = await probePython(executable, { cwd });
    if (!meetsMinimumVersion(probed.version)) {
      throw new PackageError(`Python ${probed.versionString} at ${executable} is too old`, 'version_mismatch', 'Install Python >= 3.9 and pass it with --python', {
        package: 'python',
        installed: probed.versionString,
      });
    }
    return probed;
  };
  const step = (id: SetupStepId, title: string, run: (progress: (line: string) => void) => Promise<StepOutcome>): SetupStep => ({
    id,
    title,
    run: async (progress) => {
      const outcome = await run(progress);
      outcomes.push({ id, ...outcome });
      return outcome;
    },
  });

  const steps: SetupStep[] = [
    step('python', 'Find Python', async () => {
      if (venvDir && isVenv(venvDir)) {
        info = await probeChecked(venvPython(venvDir));
        source = 'venv';
        return { status: 'done', summary: `Python ${info.versionString} in ${venvDir}` };
      }
      const base = resolveBasePython(options.python);
      // uv resolves a version request (`3.12`) itself, possibly fetching that Python.
      if (strategy === 'managed' && /^\d+(\.\d+)*$/.test(base.python)) {
        return { status: 'skipped', summary: `uv will provide Python ${base.python}` };
      }
      info = await probeChecked(base.python);
      source = base.source;
      return { status: 'done', summary: `Python ${info.versionString} (${info.realExecutable}, from ${base.source})` };
    }),
    step('venv', 'Create the virtual environment', async (progress) => {
      if (!venvDir) return { status: 'skipped', summary: 'strategy system: no venv' };
      // Never deleted, even with --force: it may hold packages the user installed by hand.
      if (isVenv(venvDir)) return { status: 'skipped', summary: `${venvDir} exists` };
      const created = await createVenv(venvDir, {
        strategy: strategy === 'managed' ? 'managed' : 'venv',
        basePython: info?.realExecutable ?? options.python ?? 'python3',
        uv: options.uv,
        systemSitePackages: options.systemSitePackages,
        onLine: progress,
      });
      info = await probeChecked(created);
      source = 'created';
      return { status: 'done', summary: `${venvDir} (${strategy === 'managed' ? 'uv' : 'python -m venv'}, Python ${info.versionString})` };
    }),
    step('packages', 'Install requirements', async (progress) => {
      const packages = new PythonPackages({
        python: current().executable,
        cwd,
        ...(options.installer ? { installer: options.installer } : strategy === 'managed' ? { installer: 'uv' as const } : {}),
        ...(options.uv ? { uv: options.uv } : {}),
        ...(options.installTimeoutMs ? { installTimeoutMs: options.installTimeoutMs } : {}),
      });
      const spec = { files: requirementFiles };
      const digest = await digestOf(requirementFiles, current());
      const stampFile = venvDir ? path.join(venvDir, SETUP_STAMP_FILE) : null;
      const stamp = stampFile ? await readStamp(stampFile) : null;
      const check = await packages.checkInstalled(spec);
      const onlyUnverifiable = check.missing.every((m) => m.reason === 'unverifiable');
      if (!options.force && onlyUnverifiable && (check.missing.length === 0 || stamp?.digest === digest)) {
        installer = stamp?.installer ?? null;
        return { status: 'skipped', summary: `${Object.keys(check.versions).length} packages up to date` };
      }
      installer = await packages.install(spec, { onLine: progress });
      const after = await packages.checkInstalled(spec);
      const unmet = after.missing.filter((m) => m.reason !== 'unverifiable');
      if (unmet.length > 0) {
        const list = unmet.map((m) => `${m.requirement} (installed: ${m.installed ?? 'none'})`).join(', ');
        throw new PackageError(`Still unmet after installing: ${list}`, 'version_mismatch', 'Relax the conflicting version pins, then run snakepit setup again', { missing: unmet });
      }
      if (stampFile) await writeFile(stampFile, `${JSON.stringify({ digest, python: current().executable, installer } satisfies Stamp)}\n`);
      const count = check.missing.length;
      return { status: 'done', summary: `${installer}: ${count} requirement${count === 1 ? '' : 's'} installed or updated` };
    }),
    step('link', 'Link the bridge into the venv', async () => {
      // A .pth file makes `import snakepit_bridge` work in the venv's own python (pytest of your
      // adapters, a REPL); workers still put the bridge first on PYTHONPATH themselves.
      if (!venvDir || !info) return { status: 'skipped', summary: 'strategy system: PYTHONPATH only' };
      const pth = path.join(info.purelib, 'snakepit_bridge.pth');
      const wanted = `${bridgeDir}\n`;
      if (!options.force && (await readFile(pth, 'utf8').catch(() => '')) === wanted) return { status: 'skipped', summary: 'already linked' };
      await writeFile(pth, wanted);
      return { status: 'done', summary: pth };
    }),
    step('stubs', 'Generate the gRPC stubs', async () => {
      const args = ['-m', 'snakepit_bridge.codegen', ...(options.force ? ['--force'] : [])];
      const r = await runCommand(current().executable, args, { cwd, env: bridgeEnv, timeoutMs: 120_000 });
      if (r.exitCode !== 0) {
        throw new PackageError(`Generating the gRPC stubs failed:\n${outputTail(r)}`, 'install_failed', 'Check that grpcio-tools installed (snakepit setup --force) and that the snakepit package folder is writable', {
          output: outputTail(r, 40),
        });
      }
      const generated = /stubs generated/.test(r.stdout);
      return { status: generated ? 'done' : 'skipped', summary: generated ? 'generated' : 'up to date' };
    }),
    step('verify', 'Verify imports', async () => {
      const script = 'import msgpack, grpc, google.protobuf, snakepit_bridge.server\nfrom snakepit_bridge.generated import snakepit_bridge_pb2, snakepit_bridge_pb2_grpc';
      const r = await runCommand(current().executable, ['-c', script], { cwd, env: bridgeEnv });
      if (r.exitCode !== 0) {
        throw new PackageError(`The bridge does not import:\n${outputTail(r)}`, 'not_installed', 'Run snakepit setup --force to reinstall the requirements', { output: outputTail(r, 40) });
      }
      return { status: 'done', summary: 'snakepit_bridge, grpc, protobuf, msgpack import' };
    }),
  ];

  const report = (): SetupReport => ({
    strategy,
    python: info ? { executable: info.executable, version: info.versionString, source } : null,
    venv: venvDir,
    installer,
    requirements: requirementFiles,
    stubsDir: path.join(bridgeDir, 'snakepit_bridge', 'generated'),
    changed: outcomes.some((o) => o.status === 'done' && CHANGING_STEPS.has(o.id)),
    steps: outcomes,
  });
  return { steps, report };
}

/** Digest of every requirements file (includes followed) and the interpreter: a change means reinstall. */
async function digestOf(files: readonly string[], info: PythonInfo): Promise<string> {
  const parts: string[] = [info.realExecutable, info.versionString];
  const seen = new Set<string>();
  for (const file of files) {
    for (const read of (await readRequirementsFile(file, seen)).files) {
      parts.push(read, existsSync(read) ? await readFile(read, 'utf8') : '');
    }
  }
  return requirementsDigest(parts);
}

async function readStamp(file: string): Promise<Stamp | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Stamp;
  } catch {
    return null;
  }
}
