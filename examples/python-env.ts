// guides/cli.md: the library behind `snakepit setup` (the original's PythonPackages / PythonRuntime).
// Run with `node --import tsx examples/python-env.ts` (no pool needed); it checks the .venv and installs nothing.
// #region packages
import { PythonPackages, probePython } from 'snakepit';

const pkgs = new PythonPackages({ python: '.venv/bin/python' }); // installer: uv when found, else pip

const check = await pkgs.checkInstalled(['msgpack>=1.0', 'surely-not-installed-pkg>=1']);
console.log('all installed:', check.allInstalled); // all installed: false
console.log('missing:', check.missing.map((m) => `${m.requirement} (${m.reason})`)); // [ 'surely-not-installed-pkg>=1 (not_installed)' ]

const ensured = await pkgs.ensure(['msgpack>=1.0']); // installs only when something is unmet
console.log('installer ran:', ensured.installed); // installer ran: false

const lock = await pkgs.lockMetadata(['msgpack']); // { msgpack: { version, hash } } (hash: sha256 of its RECORD)
console.log('msgpack locked:', typeof lock.msgpack?.version, lock.msgpack?.hash?.length); // msgpack locked: string 64

const python = await probePython('.venv/bin/python'); // version, venv, GIL, free-threading build
console.log('python:', python.version[0], python.inVenv, typeof python.gilEnabled); // python: 3 true boolean
// #endregion packages
