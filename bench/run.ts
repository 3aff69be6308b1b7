/**
 * `npm run bench [-- --quick] [-- --json]`: our figures beside floors (and the python-shell peer)
 * measured the same way in the same run, as ratios, each the median over rounds that alternate floor
 * and us. `--json` writes the report as JSON to stdout and the table to stderr; `--quick` (or
 * BENCH_QUICK=1) runs short rounds (~30 s). BENCH_SECTIONS=pipe,grpc,... picks sections; BENCH_*
 * env knobs set rounds and calls (bench/sections/common.ts).
 *
 * Each section is a module under bench/sections/; to add a row or a section, add it there and list
 * it below. On this 2-vCPU VM a round trip is bimodal (~20 µs or ~80 µs, by where the scheduler
 * puts the two processes): read the ratios, not single figures, and the host CPU per call rows,
 * which the machine's load moves much less. To see where a call's time goes:
 * `npx tsx bench/host-cpu.ts` (CPU per call of host and workers; `node --cpu-prof` on its build).
 */
import { dataPlaneSection } from './data-plane.js';
import { forkSection } from './sections/fork.js';
import { quick, knobs, python, type Row, type Section } from './sections/common.js';
import { grpcSection } from './sections/grpc.js';
import { largeSection } from './sections/large.js';
import { mapSection } from './sections/map.js';
import { pipeSection } from './sections/pipe.js';
import { pipeliningSection } from './sections/pipelining.js';
import { remoteSection } from './sections/remote.js';
import { coldStartSection, memorySection } from './sections/startup.js';
import { streamSection } from './sections/stream.js';
import { telemetrySection } from './sections/telemetry.js';

/** The sections, in report order. */
const SECTIONS: Section[] = [
  pipeSection,
  pipeliningSection,
  grpcSection,
  streamSection,
  mapSection, // sp.map of 100k tiny items vs the raw pipe's per-call throughput
  largeSection, // the 64 MB tensor row goes in bench/sections/large.ts (`largePayloads`)
  dataPlaneSection, // 64 MiB tensor and 8 MiB bytes, inline vs zeroCopy, GB/s (bench/data-plane.ts)
  coldStartSection,
  memorySection,
  forkSection, // startMode 'fork' beside 'spawn': pool start, replacement after SIGKILL, PSS of a preloaded array
  telemetrySection,
  remoteSection, // workers in network namespaces (needs root; bench/sections/remote.ts)
];

const json = process.argv.includes('--json');
const out = (line = '') => (json ? process.stderr : process.stdout).write(`${line}\n`);
const wanted = process.env.BENCH_SECTIONS?.split(',');
const chosen = SECTIONS.filter((s) => !wanted || wanted.includes(s.id));

const num = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) : String(v));
function table(section: Section, rows: Row[]): void {
  out(`\n${section.title}\n`);
  out(`${'measure'.padEnd(66)}${'vs'.padEnd(27)}${'floor'.padStart(10)}${'ours'.padStart(10)}${'ratio'.padStart(7)}  target`);
  for (const r of rows) {
    const target = r.target ? `${r.target}${r.targetOn === 'value' ? ` ${r.unit}` : ''}${r.met ? '  met' : '  MISSED'}` : '';
    out(`${`${r.measure} (${r.unit})`.padEnd(66)}${r.against.padEnd(27)}${num(r.floor).padStart(10)}${num(r.value).padStart(10)}${r.ratio.toFixed(2).padStart(7)}  ${target}`);
  }
}

out(`snakepit bench — Node ${process.version}, ${python}${quick ? ', --quick' : ''}`);
out(`knobs: ${JSON.stringify(knobs)}`);
const started = performance.now();
const rows: Row[] = [];
for (const section of chosen) {
  const sectionRows = await section.run();
  table(section, sectionRows);
  rows.push(...sectionRows);
}
const targets = rows.filter((r) => r.target !== undefined);
out(`\ntargets met: ${targets.filter((r) => r.met).length}/${targets.length}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, python, quick, knobs, sections: chosen.map((s) => s.id), rows }, null, 2)}\n`);
}
