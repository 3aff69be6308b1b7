#!/usr/bin/env node
// Runs the Python test suite with the project's venv (created/updated first).
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [path.join(root, 'scripts', 'setup-python.mjs'), '--dev'], { stdio: 'inherit' });
const result = spawnSync(path.join(root, '.venv', 'bin', 'python'), ['-m', 'pytest', 'python/tests', '-q', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
