// The original's error events from real workers: a call failing with an ML error or any other exception its
// tool raised emits snakepit.error.* (catalogue names, measurements, metadata with the call's context) and
// python.exception.mapped/unmapped; the metrics count them by kind, type and category.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetry, type Snakepit } from '../../../src/index.js';
import { ERROR_EVENTS } from '../../../src/telemetry/error-events.js';
import { startPool } from '../../helpers/pool.js';
import { recordTelemetry, type TelemetryRecorder } from '../../helpers/telemetry.js';

const ERRORS = [...ERROR_EVENTS];

let sp: Snakepit;
let rec: TelemetryRecorder;
beforeAll(async () => {
  ({ sp } = await startPool({ adapter: 'ml_error_adapter.MlErrorAdapter' }));
});
afterAll(async () => {
  await sp?.stop();
});
afterEach(() => rec?.stop());

/** Runs a failing call with a correlation id and returns the error events it produced (besides mapped/unmapped). */
async function errorEventsOf(tool: string, args: Record<string, unknown>, correlationId: string) {
  rec = recordTelemetry(ERRORS);
  await expect(sp.execute(tool, args, { correlationId })).rejects.toMatchObject({ category: 'python_error' });
  await rec.until((seen) => seen.filter((e) => e.event.startsWith('snakepit.error.')).length === 1, 'one error event');
  const [mapping] = rec.seen.filter((e) => e.event.startsWith('snakepit.python.exception.'));
  const [error] = rec.seen.filter((e) => e.event.startsWith('snakepit.error.'));
  expect(error!.metadata).toMatchObject({ pool: 'default', tool, correlationId, workerId: expect.stringMatching(/^default-/) });
  return { error: error!, mapping: mapping! };
}

describe('error events', () => {
  it('a NumPy shape mismatch: shape_mismatch with expected, got, dimension and operation', async () => {
    const { error, mapping } = await errorEventsOf('numpy_error', { kind: 'broadcast' }, 'err-shape');
    expect(error.event).toBe('snakepit.error.shape_mismatch');
    expect(error.metadata).toMatchObject({ code: 'shape_mismatch', expected: [2, 3], got: [4, 5], dimension: 0, operation: 'broadcast' });
    expect(mapping).toMatchObject({ event: 'snakepit.python.exception.mapped', metadata: { pythonType: 'ValueError' } });
  });

  it('shapes of different rank: dimension_error with expectedDims and gotDims', async () => {
    const { error } = await errorEventsOf('raise_text', { type_name: 'ValueError', message: 'expected shape (3, 224, 224), got (224, 224)' }, 'err-dims');
    expect(error.event).toBe('snakepit.error.dimension_error');
    expect(error.metadata).toMatchObject({ code: 'shape_mismatch', expectedDims: 3, gotDims: 2 });
  });

  it('a NumPy allocation failure: oom with the bytes asked for and the device', async () => {
    const { error } = await errorEventsOf('numpy_error', { kind: 'alloc' }, 'err-oom');
    expect(error.event).toBe('snakepit.error.oom');
    expect(error.measurements.requestedBytes).toBeGreaterThan(2 ** 50);
    expect(error.metadata).toMatchObject({ code: 'out_of_memory', device: 'cpu', operation: 'numpy allocation' });
  });

  it('a CUDA out-of-memory text: oom with requested and available bytes', async () => {
    const message = 'CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 12.34 GiB already allocated; 1.50 GiB free; 13.50 GiB reserved in total by PyTorch)';
    const { error } = await errorEventsOf('raise_text', { type_name: 'OutOfMemoryError', message }, 'err-cuda');
    expect(error).toMatchObject({ event: 'snakepit.error.oom', measurements: { requestedBytes: 2 ** 31, availableBytes: 1.5 * 2 ** 30 }, metadata: { device: 'cuda:0' } });
  });

  it('tensors on two devices: device with expectedDevice and actualDevice', async () => {
    const message = 'Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!';
    const { error } = await errorEventsOf('raise_text', { type_name: 'RuntimeError', message }, 'err-device');
    expect(error).toMatchObject({ event: 'snakepit.error.device', metadata: { code: 'device_mismatch', expectedDevice: 'cuda:0', actualDevice: 'cpu' } });
  });

  it('a NumPy casting failure: dtype_mismatch with expected and got', async () => {
    const { error } = await errorEventsOf('numpy_error', { kind: 'ufunc_cast' }, 'err-dtype');
    expect(error).toMatchObject({ event: 'snakepit.error.dtype_mismatch', metadata: { code: 'dtype_mismatch', expected: 'int64', got: 'float64', operation: 'add' } });
  });

  it("any other exception: python_exception with Python's type, message and traceback; unmapped when we have no class for it", async () => {
    const { error, mapping } = await errorEventsOf('raise_text', { type_name: 'RayTaskError', message: 'remote failure' }, 'err-py');
    expect(error.event).toBe('snakepit.error.python_exception');
    expect(error.metadata).toMatchObject({ code: 'python_error', type: 'RayTaskError', message: 'remote failure' });
    expect(String(error.metadata.traceback)).toContain('Traceback');
    expect(mapping).toMatchObject({ event: 'snakepit.python.exception.unmapped', metadata: { pythonType: 'RayTaskError', correlationId: 'err-py' } });
  });

  it('the metrics count ML errors by kind, Python exceptions by type and every failed call by category', async () => {
    const m = telemetry.metrics();
    await expect(sp.execute('numpy_error', { kind: 'broadcast' })).rejects.toMatchObject({ code: 'shape_mismatch' });
    await expect(sp.execute('builtin_error', { kind: 'KeyError' })).rejects.toMatchObject({ code: 'python_error' });
    await expect(sp.execute('no_such_tool')).rejects.toMatchObject({ category: 'validation' });
    const text = await m.text();
    expect(text).toMatch(/^snakepit_ml_errors_total\{pool="default",kind="shape_mismatch"\} [1-9]/m);
    expect(text).toMatch(/^snakepit_python_exceptions_total\{pool="default",type="KeyError"\} [1-9]/m);
    expect(text).toMatch(/^snakepit_errors_total\{pool="default",category="python_error"\} [2-9]/m);
    expect(text).toMatch(/^snakepit_errors_total\{pool="default",category="validation"\} [1-9]/m);
  });

  it('a call that fails without reaching Python emits no error event', async () => {
    rec = recordTelemetry([...ERRORS, 'snakepit.call.exception']);
    await expect(sp.execute('no_such_tool')).rejects.toMatchObject({ code: 'unknown_tool' });
    await rec.untilEvent('snakepit.call.exception');
    expect(rec.names()).toEqual(['snakepit.call.exception']);
    expect(rec.seen[0]!.metadata).toMatchObject({ code: 'unknown_tool', category: 'validation' });
  });
});
