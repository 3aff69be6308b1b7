// A tour of the observability guide: `npx snakepit run examples/observability.ts --config examples/observability.config.ts`.
// The TypeScript blocks of guides/observability.md are regions of this file (or of the observability-*.ts examples).
import { execute, type LogRecord, Snakepit, telemetry, withLevel } from 'snakepit';

// #region attach
telemetry.attach('slow-calls', ['snakepit.call.stop'], (_event, { durationMs }, { tool, correlationId }) => {
  if (durationMs > 1000) console.warn(`${tool} took ${durationMs} ms (${correlationId})`);
});
const lifecycle: string[] = [];
telemetry.attachMany('lifecycle', ['snakepit.pool.worker.spawned', 'snakepit.pool.worker.terminated'], (event, _m, { workerId }) => {
  lifecycle.push(`${event} ${workerId}`);
});
console.log('catalogued events:', telemetry.events().length);
// #endregion attach

// #region status
let snapshots = 0;
telemetry.attach('queue-depth', ['snakepit.pool.status'], (_event, { queueDepth, availableWorkers }, { pool }) => {
  snapshots++;
  if (queueDepth > 50) console.error(`High queue depth in ${pool}: ${queueDepth} waiting, ${availableWorkers} workers free`);
});
// #endregion status
// Resolved by the first snapshot, awaited at the end (a fast run can finish within one interval).
const firstSnapshot = new Promise<void>((resolve) => telemetry.attach('first-snapshot', ['snakepit.pool.status'], () => resolve()));

// Python's events, as the host sees them.
const fromPython: string[] = [];
telemetry.attach('python', ['snakepit.python.tool.execution.stop', 'snakepit.python.span.stop', 'snakepit.python.custom'], (event, measurements, metadata) => {
  fromPython.push(`${event} ${JSON.stringify({ items: measurements.items, span: metadata.span, model: metadata.model, stage: metadata.stage })}`);
});

// #region correlation
const headers = { 'x-request-id': 'req-42' }; // an incoming request's headers, say
const answer = await execute<{ y: number; correlation_id: string }>('predict', { x: 21 }, { correlationId: headers['x-request-id'] });
console.log('python saw correlation id', answer.correlation_id);
// #endregion correlation
for (const line of fromPython) console.log(line);

// #region control
telemetry.control.setSampling(0.1); //                                  all pools (and workers started later)
telemetry.control.setSampling(0, 'default'); //                         silence one pool
telemetry.control.setSampling(0.01, { patterns: ['python.span.*'] }); // only the events these globs match
telemetry.control.setFilter({ deny: ['python.*.sampled'] }); //          names or globs
telemetry.control.toggle(false);
telemetry.control.sampleResources(5_000); // memory.sampled (rssBytes) + cpu.sampled (cpuPercent) per worker; 0 stops
// #endregion control
telemetry.control.reset();

// #region streams
const [worker] = telemetry.control.streams(); // one per running worker: settings in force, events received
telemetry.control.toggle(false, { workerId: worker!.workerId }); // just this worker (the original's GrpcStream.toggle)
for (const s of telemetry.control.streams()) console.log(`stream ${s.pool}/${s.workerId}: enabled ${s.settings.enabled}, ${s.received} events received`);
// #endregion streams
telemetry.control.reset();

// #region span
telemetry.attach('app', ['myapp.report.stop', 'myapp.report.exception', 'myapp.cache.miss'], (event, measurements, metadata) => {
  console.log(event, JSON.stringify({ ...measurements, ...metadata, durationMs: undefined }));
});
const rows = await telemetry.span('myapp.report', async () => [await execute('predict', { x: 1 }), await execute('predict', { x: 2 })], { rows: 2 });
telemetry.emit('myapp.cache.miss', { count: 1 }, { key: 'report:2024' }); // your own names: anything outside snakepit.*
// #endregion span
console.log('report rows:', rows.length);

// #region errors
telemetry.attach('ml-errors', ['snakepit.error.shape_mismatch', 'snakepit.error.oom', 'snakepit.error.python_exception'], (event, _m, metadata) => {
  console.log(event, JSON.stringify(metadata, ['tool', 'code', 'dimension', 'operation']));
});
await execute('multiply', { a: [[1, 2, 3]], b: [[1, 2]] }).catch((error: unknown) => console.log('call failed:', (error as { code: string }).code));
// #endregion errors

// #region logging
const records: LogRecord[] = [];
const sp = await Snakepit.start(
  { pools: [{ name: 'logged', poolSize: 1, adapter: 'telemetry_adapter.TelemetryAdapter', pythonPath: ['./examples/python'] }] },
  {
    logSink: (record) => records.push(record), // or logger: pino()
    logCategories: { python: 'debug', heartbeat: 'none' },
  },
);
await withLevel('debug', () => sp.execute('predict', { x: 1 }, { pool: 'logged', correlationId: 'req-43' }), 'worker'); // debug for this call's async scope only
await sp.stop();
const pythonLine = records.find((r) => r.context.category === 'python' && r.message.includes('low confidence'));
console.log('python log line:', pythonLine?.level, pythonLine?.message, pythonLine?.context.correlationId);
// #endregion logging

// #region gpu
telemetry.attach('gpu', ['snakepit.gpu.memory.sampled', 'snakepit.gpu.utilization.sampled'], (event, measurements, { device }) => {
  console.log(`GPU ${device} ${event}:`, measurements); // { usedMb, totalMb, freeMb } / { gpuPercent, memoryPercent }
});
if (await telemetry.gpuProfiler.start({ intervalMs: 10_000 })) console.log('sampling GPUs');
else console.log('no NVIDIA GPU to sample');
// ... later
telemetry.gpuProfiler.stop();
// #endregion gpu

// #region tracing
telemetry.tracing.enable(); // after installing an OpenTelemetry SDK in your app
// #endregion tracing
console.log('tracing enabled:', telemetry.tracing.enabled());

// The pool's first status snapshot comes after poolStatusIntervalMs (200 ms in this config); bounded at 5 s.
await Promise.race([firstSnapshot, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
for (const id of ['slow-calls', 'lifecycle', 'python', 'gpu', 'app', 'ml-errors', 'queue-depth', 'first-snapshot']) telemetry.detach(id);
console.log('status snapshots seen:', snapshots > 0);
console.log('lifecycle events seen:', lifecycle.length > 0);
