// Python exceptions raised by real workers arrive as their classes, and ML failures as structured errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DTypeMismatchError,
  DeviceMismatchError,
  OutOfMemoryError,
  PythonError,
  PythonAttributeError,
  PythonAssertionError,
  PythonFileNotFoundError,
  PythonIndexError,
  PythonKeyError,
  PythonModuleNotFoundError,
  PythonNotImplementedError,
  PythonOSError,
  PythonRecursionError,
  PythonTypeError,
  PythonValueError,
  PythonZeroDivisionError,
  ShapeMismatchError,
  type Snakepit,
} from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

let sp: Snakepit;
beforeAll(async () => {
  ({ sp } = await startPool({ adapter: 'ml_error_adapter.MlErrorAdapter' }));
});
afterAll(async () => {
  await sp?.stop();
});

const failure = (tool: string, args: Record<string, unknown>) => sp.execute(tool, args).then(() => expect.unreachable(), (e: unknown) => e as PythonError);

describe('builtin exceptions', () => {
  it.each([
    ['ValueError', PythonValueError],
    ['TypeError', PythonTypeError],
    ['KeyError', PythonKeyError],
    ['IndexError', PythonIndexError],
    ['AttributeError', PythonAttributeError],
    ['ZeroDivisionError', PythonZeroDivisionError],
    ['FileNotFoundError', PythonFileNotFoundError],
    ['ModuleNotFoundError', PythonModuleNotFoundError],
    ['NotImplementedError', PythonNotImplementedError],
    ['AssertionError', PythonAssertionError],
    ['RecursionError', PythonRecursionError],
  ])('%s arrives as its class with its traceback', async (kind, Class) => {
    const error = await failure('builtin_error', { kind });
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ code: 'python_error', category: 'python_error', exceptionType: kind, details: { tool: 'builtin_error' } });
    expect(error.pythonTraceback).toContain('Traceback');
    if (kind === 'FileNotFoundError') expect(error).toBeInstanceOf(PythonOSError);
  });
});

describe('NumPy errors', () => {
  it.each([
    ['broadcast', ShapeMismatchError, { code: 'shape_mismatch', operation: 'broadcast', expected: [2, 3], got: [4, 5], dimension: 0 }],
    ['dot', ShapeMismatchError, { code: 'shape_mismatch', operation: 'dot', expectedDim: 3, gotDim: 4 }],
    ['matmul', ShapeMismatchError, { code: 'shape_mismatch', operation: 'matmul', dimension: 0, expectedDim: 3, gotDim: 4 }],
    ['reshape', ShapeMismatchError, { code: 'shape_mismatch', operation: 'reshape', got: [4, 5] }],
    ['ufunc_cast', DTypeMismatchError, { code: 'dtype_mismatch', expected: 'int64', got: 'float64', operation: 'add' }],
    ['astype', DTypeMismatchError, { code: 'dtype_mismatch', expected: 'int64', got: 'float64' }],
    ['alloc', OutOfMemoryError, { code: 'out_of_memory', device: 'cpu' }],
    ['alloc_hundreds', OutOfMemoryError, { code: 'out_of_memory', device: 'cpu', requestedBytes: 728 * 2 ** 40 }],
  ])('%s', async (kind, Class, fields) => {
    const error = await failure('numpy_error', { kind });
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ category: 'python_error', ...fields });
    expect(error.pythonTraceback).toContain('Traceback');
  });

  it('reports the bytes a failed NumPy allocation asked for', async () => {
    const error = (await failure('numpy_error', { kind: 'alloc' })) as OutOfMemoryError;
    expect(error.requestedBytes).toBeGreaterThan(2 ** 50);
    expect(error.suggestions.length).toBeGreaterThan(0);
  });
});

describe('PyTorch texts raised in a worker', () => {
  it.each([
    ['RuntimeError', 'mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)', ShapeMismatchError, { expected: [3, 5], got: [4, 5] }],
    ['RuntimeError', 'expected scalar type Float but found Double', DTypeMismatchError, { expected: 'float32', got: 'float64' }],
    ['RuntimeError', 'Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!', DeviceMismatchError, { expected: 'cuda:0', got: 'cpu' }],
    [
      'OutOfMemoryError',
      'CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 12.34 GiB already allocated; 1.50 GiB free; 13.50 GiB reserved in total by PyTorch)',
      OutOfMemoryError,
      { device: 'cuda:0', requestedBytes: 2 ** 31, availableBytes: 1.5 * 2 ** 30 },
    ],
  ])('%s: %s', async (typeName, message, Class, fields) => {
    const error = await failure('raise_text', { type_name: typeName, message });
    expect(error).toBeInstanceOf(Class);
    expect(error).toMatchObject({ exceptionType: typeName, details: { tool: 'raise_text' }, ...fields });
  });

  it('keeps an unknown exception type a plain PythonError', async () => {
    const error = await failure('raise_text', { type_name: 'RayTaskError', message: 'remote failure' });
    expect(error.constructor).toBe(PythonError);
    expect(error).toMatchObject({ code: 'python_error', exceptionType: 'RayTaskError' });
  });
});
