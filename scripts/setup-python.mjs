#!/usr/bin/env node
// Creates .venv and installs the bridge's Python requirements (dev ones with --dev).
// Idempotent: a stamp holding the requirements' hash skips work when nothing changed.
// `snakepit setup` will supersede this for users; tests and the quickstart use it directly.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dev = process.argv.includes('--dev');
const venv = path.join(root, '.venv');
const python = path.join(venv, 'bin', 'python');
const requirements = path.join(root, 'python', dev ? 'requirements-dev.txt' : 'requirements.txt');
const stamp = path.join(venv, `.snakepit-${dev ? 'dev' : 'runtime'}.stamp`);

const hash = createHash('sha256');
hash.update(readFileSync(requirements));
if (dev) hash.update(readFileSync(path.join(root, 'python', 'requirements.txt')));
const digest = hash.digest('hex');

// The gRPC stubs (python/snakepit_bridge/generated, gitignored). Idempotent on its own stamp
// (the .proto's sha256), so it also runs when the requirements are unchanged: a changed .proto
// or a fresh checkout gets its stubs without reinstalling anything.
function generateStubs() {
  execFileSync(python, ['-m', 'snakepit_bridge.codegen'], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, PYTHONPATH: path.join(root, 'python') },
  });
}

if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && existsSync(python)) {
  generateStubs();
  process.exit(0);
}

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root });
const has = (cmd) => {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const basePython = process.env.SNAKEPIT_BASE_PYTHON ?? 'python3';
if (has('uv')) {
  if (!existsSync(python)) run('uv', ['venv', '--seed', '--python', basePython, venv]); // --seed: pip too, for users and for PythonPackages' pip installer
  run('uv', ['pip', 'install', '--python', python, '-r', requirements]);
} else {
  if (!existsSync(python)) run(basePython, ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
}
generateStubs();
writeFileSync(stamp, digest);
