// Builds dist/ (the CLI tests run bin/run.js) and makes sure the Python venv is current.
// Runs once per vitest run even with several projects.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  if (process.env.SNAKEPIT_TEST_SETUP_DONE) return;
  execFileSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, [path.resolve('scripts/setup-python.mjs'), '--dev'], { stdio: 'inherit' });
  process.env.SNAKEPIT_TEST_SETUP_DONE = '1';
}
