/**
 * The original's `EnvDoctor` (`mix snakepit.doctor`): checks of everything a pool needs before it
 * starts — Node, Python, the venv, the bridge and gRPC imports, each pool's adapter import, the run
 * folder, the TCP port — each `pass`, `warn` or `fail` with a one-line fix.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig, resolveConfig, type ResolvedConfig, type ResolvedPoolConfig } from '../config/index.js';
import { isSnakepitError } from '../errors.js';
import { runsRoot } from '../process/run-dir.js';
import { outputTail, runCommand } from './exec.js';
import { PythonPackages } from './packages.js';
import { bridgePythonPath, packageRoot, resolvePythonExecutable } from './runtime.js';
import { meetsMinimumVersion, probePython, type PythonInfo } from './version.js';
import { buildWorkerEnv } from './worker-env.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One check's verdict (the original's `check_result`, with a fix line). */
export interface DoctorCheck {
  /** Stable id: `node`, `config`, `python`, `venv`, `bridge`, `requirements`, `project_requirements`, `grpc`, `adapter`, `run_dir`, `port`. */
  id: string;
  /** Pool the check is about (`adapter`, and `python` when pools differ). */
  pool?: string;
  status: CheckStatus;
  message: string;
  /** What to do, one line; set for `warn` and `fail`. */
  fix?: string;
}

export interface DoctorReport {
  /** False when any check failed. */
  ok: boolean;
  counts: Record<CheckStatus, number>;
  configSource: string | null;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** @default process.cwd() */
  cwd?: string;
  /** Config file; unset: `snakepit.config.*` in `cwd`, else defaults. */
  configFile?: string;
  /** Check this interpreter instead of the pools' own. */
  python?: string;
  /** Per adapter import check, in ms. @default 30000 */
  adapterTimeoutMs?: number;
}

/** Oldest Node this package supports, from its `engines` field. */
function minimumNode(): number[] {
  const manifest = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { engines?: { node?: string } };
  return (/(\d+)\.(\d+)\.(\d+)/.exec(manifest.engines?.node ?? '') ?? ['', '20', '0', '0']).slice(1).map(Number);
}

/**
 * Runs every check and reports; never throws for what it finds (a broken config is a failed check).
 * @example
 * const report = await runDoctor({ cwd: process.cwd() });
 * if (!report.ok) console.log(report.checks.filter((c) => c.status === 'fail'));
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const checks: DoctorCheck[] = [checkNode()];
  let config: ResolvedConfig;
  let configSource: string | null = null;
  try {
    const loaded = await loadConfig({ cwd, file: options.configFile });
    config = loaded.config;
    configSource = loaded.source;
    checks.push({ id: 'config', status: 'pass', message: loaded.source ? `config ${loaded.source}` : 'no config file: defaults' });
  } catch (error) {
    config = resolveConfig({});
    checks.push({
      id: 'config',
      status: 'fail',
      message: isSnakepitError(error) ? error.message : String(error),
      fix: 'Fix the config as the message says (the other checks use the defaults)',
    });
  }

  // One set of interpreter checks per distinct interpreter (usually one for all pools).
  const byPython = new Map<string, ResolvedPoolConfig[]>();
  for (const pool of config.pools) {
    const python = options.python ?? resolvePythonExecutable(pool.pythonExecutable, cwd);
    byPython.set(python, [...(byPython.get(python) ?? []), pool]);
  }
  for (const [python, pools] of byPython) {
    const label = byPython.size > 1 ? pools.map((p) => p.name).join(', ') : undefined;
    const usesGrpc = pools.some((p) => p.transport === 'grpc') || config.grpcPort !== undefined;
    const info = await checkPython(python, checks, label);
    if (!info) continue;
    checks.push(checkVenv(info, label));
    checks.push(...(await checkImports(python, usesGrpc, label)));
    if (config.python.requirements.length > 0) checks.push(await checkProjectRequirements(python, config.python.requirements.map((f) => path.resolve(cwd, f)), label));
    checks.push(...(await Promise.all(pools.map((pool) => checkAdapter(python, pool, options.adapterTimeoutMs ?? 30_000)))));
  }
  checks.push(checkRunDir());
  if (config.grpcPort !== undefined && config.grpcPort !== 0) checks.push(await checkPort(config.grpcHost, config.grpcPort));

  const counts = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0, counts, configSource, checks };
}

function checkNode(): DoctorCheck {
  const min = minimumNode();
  const have = process.versions.node.split('.').map(Number);
  const ok = have[0]! > min[0]! || (have[0] === min[0] && (have[1]! > min[1]! || (have[1] === min[1] && have[2]! >= min[2]!)));
  return ok
    ? { id: 'node', status: 'pass', message: `Node ${process.versions.node}` }
    : { id: 'node', status: 'fail', message: `Node ${process.versions.node} is older than ${min.join('.')}`, fix: `Install Node ${min.join('.')} or newer` };
}

async function checkPython(python: string, checks: DoctorCheck[], pool?: string): Promise<PythonInfo | null> {
  try {
    const info = await probePython(python);
    if (!meetsMinimumVersion(info.version)) {
      checks.push({ id: 'python', pool, status: 'fail', message: `Python ${info.versionString} at ${info.realExecutable} is older than 3.9`, fix: 'Install Python >= 3.9 and run snakepit setup --python <it>' });
      return null;
    }
    checks.push({ id: 'python', pool, status: 'pass', message: `Python ${info.versionString} (${info.realExecutable})` });
    return info;
  } catch (error) {
    const fix = isSnakepitError(error) && typeof error.details.fix === 'string' ? error.details.fix : 'Install Python >= 3.9';
    checks.push({ id: 'python', pool, status: 'fail', message: isSnakepitError(error) ? error.message : String(error), fix: `${fix}, then run snakepit setup` });
    return null;
  }
}

function checkVenv(info: PythonInfo, pool?: string): DoctorCheck {
  return info.inVenv
    ? { id: 'venv', pool, status: 'pass', message: `virtual environment ${info.prefix}` }
    : { id: 'venv', pool, status: 'warn', message: `${info.realExecutable} is not in a virtual environment`, fix: 'Run snakepit setup to create .venv (keeps the bridge packages apart from the system)' };
}

// Each import reported on its own line as `name: ok` or `name: ExcType: message`.
const IMPORT_SCRIPT = `
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
        print(name + ": ok")
    except BaseException as e:
        print(name + ": " + type(e).__name__ + ": " + str(e).splitlines()[0] if str(e) else name + ": " + type(e).__name__)
try:
    from snakepit_bridge import codegen
    print("stubs: " + ("ok" if codegen.up_to_date() else "stale"))
except BaseException as e:
    print("stubs: " + type(e).__name__)
`;

async function checkImports(python: string, usesGrpc: boolean, pool?: string): Promise<DoctorCheck[]> {
  const env = { PYTHONPATH: [bridgePythonPath(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  const r = await runCommand(python, ['-c', IMPORT_SCRIPT, 'snakepit_bridge.server', 'msgpack', 'grpc', 'google.protobuf'], { env });
  const results = new Map(r.stdout.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)] as const));
  const failed = (names: string[]) => names.filter((n) => results.get(n) !== 'ok').map((n) => `${n} (${results.get(n) ?? 'not checked'})`);
  const checks: DoctorCheck[] = [];
  const bridge = failed(['snakepit_bridge.server', 'msgpack']);
  checks.push(
    bridge.length === 0
      ? { id: 'bridge', pool, status: 'pass', message: 'snakepit_bridge and msgpack import' }
      : { id: 'bridge', pool, status: 'fail', message: `cannot import ${bridge.join(', ')}`, fix: 'Run snakepit setup (installs the bridge requirements into the venv)' },
  );
  const grpc = failed(['grpc', 'google.protobuf']);
  const stubs = results.get('stubs');
  if (grpc.length > 0) {
    checks.push({
      id: 'grpc',
      pool,
      status: usesGrpc ? 'fail' : 'warn',
      message: `cannot import ${grpc.join(', ')}${usesGrpc ? '' : ' (only the grpc transport needs it)'}`,
      fix: 'Run snakepit setup (installs grpcio and protobuf)',
    });
  } else if (stubs !== 'ok') {
    checks.push({ id: 'grpc', pool, status: 'warn', message: 'grpc imports; the generated stubs are missing or stale', fix: 'Run snakepit setup (generates the stubs; a gRPC worker would otherwise generate them at start)' });
  } else {
    checks.push({ id: 'grpc', pool, status: 'pass', message: 'grpc, protobuf and the generated stubs import' });
  }
  if (bridge.length === 0) {
    const unmet = await new PythonPackages({ python }).checkInstalled({ file: path.join(bridgePythonPath(), 'requirements.txt') }).catch(() => null);
    if (unmet && !unmet.allInstalled) {
      const list = unmet.missing.map((m) => `${m.requirement} (installed: ${m.installed ?? 'none'})`).join(', ');
      checks.push({ id: 'requirements', pool, status: 'warn', message: `unmet bridge requirements: ${list}`, fix: 'Run snakepit setup' });
    } else if (unmet) {
      checks.push({ id: 'requirements', pool, status: 'pass', message: `bridge requirements met (${Object.keys(unmet.versions).length} packages)` });
    }
  }
  return checks;
}

/** The config's `python.requirements`: installed at versions that satisfy them (what `snakepit setup` installs). */
async function checkProjectRequirements(python: string, files: string[], pool?: string): Promise<DoctorCheck> {
  const base = { id: 'project_requirements', pool };
  const fix = 'Run snakepit setup (installs python.requirements of the config)';
  try {
    const check = await new PythonPackages({ python }).checkInstalled({ files });
    const unmet = check.missing.filter((m) => m.reason !== 'unverifiable');
    if (unmet.length === 0) return { ...base, status: 'pass', message: `python.requirements met (${Object.keys(check.versions).length} packages)` };
    return { ...base, status: 'fail', message: `unmet python.requirements: ${unmet.map((m) => `${m.requirement} (installed: ${m.installed ?? 'none'})`).join(', ')}`, fix };
  } catch (error) {
    return { ...base, status: 'fail', message: isSnakepitError(error) ? error.message : String(error), fix: `Fix python.requirements (${files.join(', ')}), then ${fix.toLowerCase()}` };
  }
}

/** The original's `--health-check`: import the pool's adapter with the pool's PYTHONPATH and env. */
async function checkAdapter(python: string, pool: ResolvedPoolConfig, timeoutMs: number): Promise<DoctorCheck> {
  const base = { id: 'adapter', pool: pool.name };
  if (pool.workers !== undefined) return { ...base, status: 'pass', message: `${pool.adapter}: attached workers, checked when the pool connects` };
  const env = buildWorkerEnv({ profile: pool.workerProfile, adapterEnv: pool.adapterEnv, pythonPath: pool.pythonPath, pythonLogLevel: 'error', threadLimits: pool.threadLimits });
  const args = ['-m', 'snakepit_bridge.server', '--health-check', '--adapter', pool.adapter, ...(pool.transport === 'grpc' ? ['--transport', 'grpc'] : [])];
  const r = await runCommand(python, args, { env, timeoutMs });
  if (r.exitCode === 0) return { ...base, status: 'pass', message: `${pool.adapter} imports` };
  const lastLine = outputTail(r, 1) || (r.timedOut ? `timed out after ${timeoutMs} ms` : `exit code ${r.exitCode ?? 'none'}`);
  const module = pool.adapter.slice(0, pool.adapter.lastIndexOf('.'));
  const top = module.split('.')[0] ?? module;
  const missingModule = new RegExp(`No module named '${top.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`).test(r.stdout + r.stderr);
  const where = pool.pythonPath.length > 0 ? ` (now ${JSON.stringify(pool.pythonPath)})` : '';
  const fix = missingModule
    ? `Add the folder that holds ${top} to pools[${JSON.stringify(pool.name)}].pythonPath${where}`
    : `Fix the error in ${module}; see it in full with: ${python} -m snakepit_bridge.server --health-check --adapter ${pool.adapter}`;
  return { ...base, status: 'fail', message: `${pool.adapter} does not import: ${lastLine}`, fix };
}

function checkRunDir(): DoctorCheck {
  const dir = runsRoot();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = path.join(dir, `.doctor-${randomBytes(4).toString('hex')}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
    return { id: 'run_dir', status: 'pass', message: `run folder ${dir} is writable` };
  } catch (error) {
    return { id: 'run_dir', status: 'fail', message: `run folder ${dir} is not writable (${(error as Error).message})`, fix: 'Point XDG_RUNTIME_DIR (or TMPDIR) at a folder you can write' };
  }
}

async function checkPort(host: string, port: number): Promise<DoctorCheck> {
  const free = await new Promise<Error | null>((resolve) => {
    const server = net.createServer();
    server.once('error', resolve);
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
  return free === null
    ? { id: 'port', status: 'pass', message: `grpcPort ${host}:${port} is free` }
    : { id: 'port', status: 'fail', message: `grpcPort ${host}:${port} cannot be bound (${(free as NodeJS.ErrnoException).code ?? free.message})`, fix: 'Stop what uses that port, or set grpcPort to another (0 = any, unset = a Unix socket)' };
}
