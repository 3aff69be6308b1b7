// Makes sure the Python venv the integration tests use exists and is current.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [path.resolve('scripts/setup-python.mjs'), '--dev'], { stdio: 'inherit' });
}
