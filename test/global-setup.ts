// Builds dist/ (the CLI tests run bin/run.js) and makes sure the Python venv is current.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, [path.resolve('scripts/setup-python.mjs'), '--dev'], { stdio: 'inherit' });
}
