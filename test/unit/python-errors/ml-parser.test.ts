// The ML parser on the exact texts NumPy (2.x, generated here) and PyTorch print.
import { describe, expect, it } from 'vitest';
import {
  DeviceMismatchError,
  DTypeMismatchError,
  extractShape,
  normalizeDType,
  OutOfMemoryError,
  parseByteSize,
  parsePythonError,
  PythonError,
  ShapeMismatchError,
} from '../../../src/index.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** [label, Python type, message, expected fields]. */
const SHAPES: [string, string, string, Record<string, unknown>][] = [
  ['torch matmul', 'RuntimeError', 'mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)', { operation: 'matmul', expected: [3, 5], got: [4, 5], dimension: 0, expectedDim: 3, gotDim: 4 }],
  ['torch < 1.9 linear', 'RuntimeError', 'size mismatch, m1: [2 x 3], m2: [4 x 5] at /pytorch/aten/src/TH/generic/THTensorMath.cpp:41', { operation: 'matmul', expected: [3, 5], got: [4, 5], dimension: 0 }],
  ['numpy broadcast', 'ValueError', 'operands could not be broadcast together with shapes (2,3) (4,5) ', { operation: 'broadcast', expected: [2, 3], got: [4, 5], dimension: 0, expectedDim: 2, gotDim: 4 }],
  ['numpy broadcast, ranks differ', 'ValueError', 'operands could not be broadcast together with shapes (2,3,4) (5,4) ', { operation: 'broadcast', expected: [2, 3, 4], got: [5, 4], dimension: 1, expectedDim: 3, gotDim: 5 }],
  ['numpy dot', 'ValueError', 'shapes (2,3) and (4,5) not aligned: 3 (dim 1) != 4 (dim 0)', { operation: 'dot', expected: [3, 5], got: [4, 5], dimension: 0, expectedDim: 3, gotDim: 4 }],
  ['numpy matmul', 'ValueError', 'matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 4 is different from 3)', { operation: 'matmul', dimension: 0, expectedDim: 3, gotDim: 4 }],
  ['numpy reshape', 'ValueError', 'cannot reshape array of size 6 into shape (4,5)', { operation: 'reshape', got: [4, 5] }],
  ['torch elementwise', 'RuntimeError', 'The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1', { operation: 'broadcast', dimension: 1, expectedDim: 3, gotDim: 4 }],
  ['torch view', 'RuntimeError', "shape '[2, 5]' is invalid for input of size 6", { operation: 'view', got: [2, 5] }],
  ['torch conv2d', 'RuntimeError', 'Given groups=1, weight of size [64, 3, 7, 7], expected input[1, 1, 224, 224] to have 3 channels, but got 1 channels instead', { operation: 'conv', expected: [1, 3, 224, 224], got: [1, 1, 224, 224], dimension: 1, expectedDim: 3, gotDim: 1 }],
  ['scikit-learn', 'ValueError', 'X has 10 features, but LinearRegression is expecting 5 features as input.', { operation: 'LinearRegression', dimension: 1, expectedDim: 5, gotDim: 10 }],
  ['hand-written check', 'ValueError', 'expected shape (3, 224, 224), got (3, 256, 256)', { expected: [3, 224, 224], got: [3, 256, 256], dimension: 1, expectedDim: 224, gotDim: 256 }],
];

describe.each(SHAPES)('shape: %s', (_label, type, message, fields) => {
  it('is a ShapeMismatchError with the shapes and the differing dimension', () => {
    const error = parsePythonError({ type, message, traceback: 'tb' });
    expect(error).toBeInstanceOf(ShapeMismatchError);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ code: 'shape_mismatch', category: 'python_error', exceptionType: type, pythonTraceback: 'tb', ...fields });
    expect(error.details).toMatchObject(fields);
  });
});

const DTYPES: [string, string, string, Record<string, unknown>][] = [
  ['torch scalar type', 'RuntimeError', 'expected scalar type Float but found Double', { expected: 'float32', got: 'float64' }],
  ['torch < 1.6', 'RuntimeError', "Expected object of scalar type Float but got scalar type Double for argument #2 'mat2' in call to _th_mm", { expected: 'float32', got: 'float64', operation: '_th_mm' }],
  ['torch 2.0 mm', 'RuntimeError', 'expected m1 and m2 to have the same dtype, but got: float != double', { expected: 'float32', got: 'float64', operation: 'matmul' }],
  ['torch 2.x mm', 'RuntimeError', 'expected mat1 and mat2 to have the same dtype, but got: float != c10::Half', { expected: 'float32', got: 'float16', operation: 'matmul' }],
  ['torch conv dtype', 'RuntimeError', 'Input type (torch.cuda.DoubleTensor) and weight type (torch.cuda.FloatTensor) should be the same', { expected: 'float32', got: 'float64', operation: 'conv' }],
  ['torch cast', 'RuntimeError', "result type Float can't be cast to the desired output type Long", { expected: 'int64', got: 'float32' }],
  ['numpy ufunc', 'UFuncTypeError', "Cannot cast ufunc 'add' output from dtype('float64') to dtype('int64') with casting rule 'same_kind'", { expected: 'int64', got: 'float64', operation: 'add' }],
  ['numpy astype', 'TypeError', "Cannot cast array data from dtype('float64') to dtype('int64') according to the rule 'safe'", { expected: 'int64', got: 'float64' }],
];

describe.each(DTYPES)('dtype: %s', (_label, type, message, fields) => {
  it('is a DTypeMismatchError with NumPy dtype names', () => {
    const error = parsePythonError({ type, message });
    expect(error).toBeInstanceOf(DTypeMismatchError);
    expect(error).toMatchObject({ code: 'dtype_mismatch', category: 'python_error', ...fields });
  });
});

const DEVICES: [string, string, Record<string, unknown>][] = [
  ['torch', 'Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!', { expected: 'cuda:0', got: 'cpu' }],
  [
    'torch, with the argument',
    'Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu! (when checking argument for argument mat2 in method wrapper_CUDA_mm)',
    { expected: 'cuda:0', got: 'cpu', operation: 'wrapper_CUDA_mm' },
  ],
  [
    'torch >= 2.5',
    'Expected all tensors to be on the same device, but got mat2 is on cpu, different from other tensors on cuda:0 (when checking argument in method wrapper_CUDA_mm)',
    { expected: 'cuda:0', got: 'cpu', operation: 'wrapper_CUDA_mm' },
  ],
  [
    'torch conv',
    'Input type (torch.FloatTensor) and weight type (torch.cuda.FloatTensor) should be the same or input should be a MKLDNN tensor and weight is a dense tensor',
    { expected: 'cuda', got: 'cpu', operation: 'conv' },
  ],
  ['torch < 1.5', "Tensor for argument #2 'mat2' is on CPU, but expected it to be on GPU (while checking arguments for addmm)", { expected: 'cuda', got: 'cpu', operation: 'addmm' }],
  ['no CUDA build', 'Torch not compiled with CUDA enabled', { expected: 'cuda', got: undefined }],
];

describe.each(DEVICES)('device: %s', (_label, message, fields) => {
  it('is a DeviceMismatchError', () => {
    const error = parsePythonError({ type: message.startsWith('Torch not') ? 'AssertionError' : 'RuntimeError', message });
    expect(error).toBeInstanceOf(DeviceMismatchError);
    expect(error).toMatchObject({ code: 'device_mismatch', category: 'python_error', ...fields });
  });
});

const OOMS: [string, string, string, Record<string, unknown>][] = [
  [
    'torch < 2.1',
    'RuntimeError',
    'CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 12.34 GiB already allocated; 1.50 GiB free; 13.50 GiB reserved in total by PyTorch) If reserved memory is >> allocated memory try setting max_split_size_mb to avoid fragmentation.  See documentation for Memory Management and PYTORCH_CUDA_ALLOC_CONF',
    { device: 'cuda:0', requestedBytes: 2 * GiB, availableBytes: 1.5 * GiB, totalBytes: Math.round(15.78 * GiB) },
  ],
  [
    'torch >= 2.1',
    'OutOfMemoryError',
    'CUDA out of memory. Tried to allocate 20.00 MiB. GPU 1 has a total capacity of 79.15 GiB of which 10.81 MiB is free. Including non-PyTorch memory, this process has 79.13 GiB memory in use. Of the allocated memory 78.47 GiB is allocated by PyTorch, and 152.09 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)',
    { device: 'cuda:1', requestedBytes: 20 * MiB, availableBytes: Math.round(10.81 * MiB), totalBytes: Math.round(79.15 * GiB) },
  ],
  ['CUDA runtime', 'RuntimeError', 'CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.', { device: 'cuda', requestedBytes: undefined }],
  ['ROCm', 'OutOfMemoryError', 'HIP out of memory. Tried to allocate 1024.00 MiB (GPU 0; 63.98 GiB total capacity; 63.10 GiB already allocated; 512.00 MiB free; 63.20 GiB reserved in total by PyTorch)', { device: 'rocm:0', requestedBytes: GiB, availableBytes: 512 * MiB }],
  [
    'MPS',
    'RuntimeError',
    'MPS backend out of memory (MPS allocated: 17.00 GB, other allocations: 1.00 MB, max allowed: 18.13 GB). Tried to allocate 1.50 GB on private pool. Use PYTORCH_MPS_HIGH_WATERMARK_RATIO=0.0 to disable upper limit for memory allocations (may cause system failure).',
    { device: 'mps', requestedBytes: 1.5 * GiB, availableBytes: Math.round(18.13 * GiB) - 17 * GiB - MiB, totalBytes: Math.round(18.13 * GiB) },
  ],
  ['NumPy', 'MemoryError', 'Unable to allocate 72.8 TiB for an array with shape (1000000, 10000000) and data type float64', { device: 'cpu', requestedBytes: Math.round(72.8 * 2 ** 40) }],
];

describe.each(OOMS)('out of memory: %s', (_label, type, message, fields) => {
  it('is an OutOfMemoryError with the sizes it states and suggestions', () => {
    const error = parsePythonError({ type, message });
    expect(error).toBeInstanceOf(OutOfMemoryError);
    expect(error).toMatchObject({ code: 'out_of_memory', category: 'python_error', exceptionType: type, ...fields });
    expect((error as OutOfMemoryError).suggestions.length).toBeGreaterThan(0);
  });
});

describe('not ML errors', () => {
  it.each([
    ['ValueError', 'invalid literal for int() with base 10: \'x\''],
    ['KeyError', "'shape'"],
    ['RuntimeError', 'dictionary changed size during iteration'],
    ['MemoryError', ''],
    ['TypeError', "unsupported operand type(s) for +: 'int' and 'str'"],
  ])('%s: %s stays a plain exception class', (type, message) => {
    const error = parsePythonError({ type, message });
    expect(error.code).toBe('python_error');
    expect([ShapeMismatchError, DTypeMismatchError, DeviceMismatchError, OutOfMemoryError].some((C) => error instanceof C)).toBe(false);
  });
});

describe('helpers', () => {
  it.each([
    ['[3, 224, 224]', [3, 224, 224]],
    ['(10, 20)', [10, 20]],
    ['(3,)', [3]],
    ['()', []],
    ['2x3', [2, 3]],
    ['[2 x 3]', [2, 3]],
    ['torch.Size([3, 4])', [3, 4]],
    ['no shape here', undefined],
  ])('extractShape(%j)', (text, shape) => {
    expect(extractShape(text)).toEqual(shape);
  });

  it.each([
    ['2.00 GiB', 2 * GiB],
    ['20.00 MiB', 20 * MiB],
    ['1.50 GB', 1.5 * GiB],
    ['512 B', 512],
    ['12 KiB', 12 * 1024],
    ['lots', undefined],
  ])('parseByteSize(%j)', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each([
    ['Float', 'float32'],
    ['Double', 'float64'],
    ['Half', 'float16'],
    ['c10::BFloat16', 'bfloat16'],
    ['Long', 'int64'],
    ['torch.cuda.FloatTensor', 'float32'],
    ['float64', 'float64'],
  ])('normalizeDType(%j)', (name, dtype) => {
    expect(normalizeDType(name)).toBe(dtype);
  });

  it('builds errors in Node as the original helpers do', () => {
    expect(ShapeMismatchError.fromShapes([3, 224, 224], [3, 256, 256], 'conv2d')).toMatchObject({ code: 'shape_mismatch', dimension: 1, expectedDim: 224, gotDim: 256, operation: 'conv2d' });
    expect(ShapeMismatchError.dimensionMismatch(2, 64, 32, 'linear')).toMatchObject({ dimension: 2, expectedDim: 64, gotDim: 32 });
    expect(ShapeMismatchError.broadcast([2, 3], [4, 3])).toMatchObject({ dimension: 0, expectedDim: 2, gotDim: 4, operation: 'broadcast' });
    expect(DeviceMismatchError.deviceMismatch('cpu', 'cuda:0', 'matmul')).toMatchObject({ code: 'device_mismatch', expected: 'cpu', got: 'cuda:0' });
    expect(DeviceMismatchError.deviceUnavailable('cuda:2', 'matrix_multiply')).toMatchObject({ expected: 'cuda:2', got: undefined });
    const oom = OutOfMemoryError.create('cuda:0', GiB, 512 * MiB);
    expect(oom).toMatchObject({ code: 'out_of_memory', device: 'cuda:0', requestedBytes: GiB, availableBytes: 512 * MiB, exceptionType: 'RuntimeError' });
    expect(OutOfMemoryError.create('cpu', 1, 0).suggestions).not.toEqual(oom.suggestions);
  });
});
