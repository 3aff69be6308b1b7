#!/usr/bin/env node
// The generated tool types of the examples: examples/types/<name>.d.ts from the pools of each examples/<name>.config.ts.
//
//   node scripts/example-types.mjs           write them (after changing an example adapter)
//   node scripts/example-types.mjs --check   exit 1 with a diff when one is stale (.ci/run)
//
// Needs the build (dist/) and the venv. The configuration guide's configs name placeholder adapters (`myapp.*`)
// that do not exist, so they have no types.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PLACEHOLDER_CONFIGS = new Set(['configuration', 'configuration-legacy']);
const check = process.argv.includes('--check');

let failed = 0;
for (const file of readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.config.ts')).sort()) {
  const name = file.slice(0, -'.config.ts'.length);
  if (PLACEHOLDER_CONFIGS.has(name)) continue;
  const args = ['bin/run.js', 'gen', 'types', '--config', `examples/${file}`, '--out', `examples/types/${name}.d.ts`, ...(check ? ['--check'] : [])];
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) failed++;
  console.log(`${r.status === 0 ? 'ok  ' : 'FAIL'} examples/types/${name}.d.ts`);
}
process.exit(failed > 0 ? 1 : 0);
