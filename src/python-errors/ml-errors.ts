/**
 * The original's structured ML errors (`Snakepit.Error.ShapeMismatch`, `DTypeMismatch`,
 * `DeviceMismatch`, `OutOfMemory`). The parser builds them from PyTorch/NumPy/CUDA messages; the
 * static helpers build them in Node (the original's `Error.Shape` and `Error.Device`). All are
 * `PythonError`s (category `python_error`) with a code of their own; their fields are also in
 * `details`, so `toJSON()` shows them.
 */
import { PythonError } from '../errors.js';

/** What every ML error may carry from the Python exception it came from. */
export interface FromPython {
  /** The Python type name. @default 'RuntimeError' (what PyTorch raises for these) */
  exceptionType?: string;
  /** @default '' */
  pythonTraceback?: string;
  /** Extra details (e.g. the tool's name) merged under the error's own fields. */
  details?: Record<string, unknown>;
}

/** A device as PyTorch writes it: `cpu`, `mps`, `cuda:0`, `rocm:1` (`cuda` alone when no index is known). */
export type DeviceName = string;

function python(info: FromPython, fields: Record<string, unknown>) {
  const own = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return { exceptionType: info.exceptionType ?? 'RuntimeError', pythonTraceback: info.pythonTraceback ?? '', details: { ...info.details, ...own } };
}

const shapeText = (shape: readonly number[] | undefined) => (shape === undefined ? '?' : `[${shape.join(', ')}]`);

/** Fields of a {@link ShapeMismatchError}. */
export interface ShapeMismatch {
  expected?: readonly number[];
  got?: readonly number[];
  /** Index of the dimension that differs. Computed from `expected` and `got` when not given. */
  dimension?: number;
  expectedDim?: number;
  gotDim?: number;
  /** e.g. `matmul`, `broadcast`, `conv`, `view`. */
  operation?: string;
}

/** Tensor shapes that do not fit: which dimension, and what was expected there. */
export class ShapeMismatchError extends PythonError {
  readonly expected: readonly number[] | undefined;
  readonly got: readonly number[] | undefined;
  readonly dimension: number | undefined;
  readonly expectedDim: number | undefined;
  readonly gotDim: number | undefined;
  readonly operation: string | undefined;

  constructor(message: string, info: ShapeMismatch & FromPython = {}) {
    const dimension = info.dimension ?? (info.expected && info.got ? firstDifferingDimension(info.expected, info.got) : undefined);
    const expectedDim = info.expectedDim ?? (dimension === undefined ? undefined : info.expected?.[dimension]);
    const gotDim = info.gotDim ?? (dimension === undefined ? undefined : info.got?.[dimension]);
    const fields = { expected: info.expected, got: info.got, dimension, expectedDim, gotDim, operation: info.operation };
    super(message, { ...python(info, fields), code: 'shape_mismatch' });
    this.expected = info.expected;
    this.got = info.got;
    this.dimension = dimension;
    this.expectedDim = expectedDim;
    this.gotDim = gotDim;
    this.operation = info.operation;
  }

  /**
   * Shapes that differ; finds the differing dimension (the original's `Shape.shape_mismatch`).
   * @example ShapeMismatchError.fromShapes([3, 224, 224], [3, 256, 256], 'conv2d').dimension // 1
   */
  static fromShapes(expected: readonly number[], got: readonly number[], operation?: string): ShapeMismatchError {
    const dimension = firstDifferingDimension(expected, got);
    const where = dimension === undefined ? '' : ` (dimension ${dimension}: expected ${expected[dimension] ?? 'none'}, got ${got[dimension] ?? 'none'})`;
    return new ShapeMismatchError(`Shape mismatch${operation ? ` in ${operation}` : ''}: expected ${shapeText(expected)}, got ${shapeText(got)}${where}`, {
      expected,
      got,
      operation,
    });
  }

  /** One known dimension differs (the original's `Shape.dimension_mismatch`). */
  static dimensionMismatch(dimension: number, expectedDim: number, gotDim: number, operation?: string): ShapeMismatchError {
    return new ShapeMismatchError(`Dimension ${dimension} mismatch${operation ? ` in ${operation}` : ''}: expected ${expectedDim}, got ${gotDim}`, {
      dimension,
      expectedDim,
      gotDim,
      operation,
    });
  }

  /** Shapes that cannot be broadcast together (the original's `Shape.broadcast_error`). */
  static broadcast(shape1: readonly number[], shape2: readonly number[], operation = 'broadcast'): ShapeMismatchError {
    const dimension = firstUnbroadcastableDimension(shape1, shape2);
    return new ShapeMismatchError(`Cannot broadcast shapes ${shapeText(shape1)} and ${shapeText(shape2)}${operation === 'broadcast' ? '' : ` in ${operation}`}`, {
      expected: shape1,
      got: shape2,
      ...(dimension === undefined ? {} : { dimension: dimension.index, expectedDim: dimension.a, gotDim: dimension.b }),
      operation,
    });
  }
}

/** Tensors of different element types. Types use NumPy's names (`float32`, `int64`). */
export class DTypeMismatchError extends PythonError {
  readonly expected: string | undefined;
  readonly got: string | undefined;
  readonly operation: string | undefined;

  constructor(message: string, info: { expected?: string; got?: string; operation?: string } & FromPython = {}) {
    super(message, { ...python(info, { expected: info.expected, got: info.got, operation: info.operation }), code: 'dtype_mismatch' });
    this.expected = info.expected;
    this.got = info.got;
    this.operation = info.operation;
  }
}

/** Tensors on different devices, or a device that is not there (`got` undefined). */
export class DeviceMismatchError extends PythonError {
  readonly expected: DeviceName | undefined;
  readonly got: DeviceName | undefined;
  readonly operation: string | undefined;

  constructor(message: string, info: { expected?: DeviceName; got?: DeviceName; operation?: string } & FromPython = {}) {
    super(message, { ...python(info, { expected: info.expected, got: info.got, operation: info.operation }), code: 'device_mismatch' });
    this.expected = info.expected;
    this.got = info.got;
    this.operation = info.operation;
  }

  /** The original's `Device.device_mismatch`. */
  static deviceMismatch(expected: DeviceName, got: DeviceName, operation?: string): DeviceMismatchError {
    return new DeviceMismatchError(`Device mismatch${operation ? ` in ${operation}` : ''}: expected ${expected}, got ${got}`, { expected, got, operation });
  }

  /** The original's `Device.device_unavailable`: `device` was asked for and is not there. */
  static deviceUnavailable(device: DeviceName, operation?: string): DeviceMismatchError {
    return new DeviceMismatchError(`Device ${device} is not available${operation ? ` for ${operation}` : ''}`, { expected: device, operation });
  }
}

/** Fields of an {@link OutOfMemoryError}. */
export interface OutOfMemory {
  device: DeviceName;
  /** Bytes the failed allocation asked for, when the message says. */
  requestedBytes?: number;
  /** Bytes free on the device then, when the message says. */
  availableBytes?: number;
  /** The device's capacity, when the message says. */
  totalBytes?: number;
  operation?: string;
}

/** An allocation failed on a device (GPU or, for NumPy, host memory), with what to try next. */
export class OutOfMemoryError extends PythonError {
  readonly device: DeviceName;
  readonly requestedBytes: number | undefined;
  readonly availableBytes: number | undefined;
  readonly totalBytes: number | undefined;
  readonly operation: string | undefined;
  /** Recovery suggestions for this kind of device. */
  readonly suggestions: readonly string[];

  constructor(message: string, info: OutOfMemory & FromPython) {
    const suggestions = oomSuggestions(info.device);
    const { device, requestedBytes, availableBytes, totalBytes, operation } = info;
    super(message, { ...python(info, { device, requestedBytes, availableBytes, totalBytes, operation, suggestions }), code: 'out_of_memory' });
    this.device = device;
    this.requestedBytes = requestedBytes;
    this.availableBytes = availableBytes;
    this.totalBytes = totalBytes;
    this.operation = operation;
    this.suggestions = suggestions;
  }

  /**
   * The original's `Device.out_of_memory`.
   * @example OutOfMemoryError.create('cuda:0', 2 ** 30, 2 ** 29).suggestions
   */
  static create(device: DeviceName, requestedBytes: number, availableBytes: number, operation?: string): OutOfMemoryError {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
    return new OutOfMemoryError(`Out of memory on ${device}${operation ? ` in ${operation}` : ''}: tried to allocate ${mib(requestedBytes)}, ${mib(availableBytes)} free`, {
      device,
      requestedBytes,
      availableBytes,
      operation,
    });
  }
}

/** What usually gets a workload under the limit, per kind of device. */
export function oomSuggestions(device: DeviceName): string[] {
  if (device === 'cpu') {
    return ['Reduce the batch or array size', 'Process the data in chunks', 'Use a smaller dtype (float32 instead of float64)', 'Free large intermediate arrays (del, gc.collect())'];
  }
  const common = ['Reduce the batch size', 'Use mixed precision (float16/bfloat16)', 'Enable gradient checkpointing'];
  if (device.startsWith('mps')) return [...common, 'Set PYTORCH_MPS_HIGH_WATERMARK_RATIO to raise the allocation limit', 'Move some tensors to the CPU'];
  return [
    ...common,
    'Free cached memory with torch.cuda.empty_cache()',
    'Set PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to reduce fragmentation',
    'Move some tensors to the CPU or another GPU',
  ];
}

/** Index of the first dimension where two shapes differ (a missing dimension differs); undefined if equal. */
export function firstDifferingDimension(a: readonly number[], b: readonly number[]): number | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return undefined;
}

/**
 * The first dimension (left to right, shapes aligned on the right as broadcasting does) where
 * neither size is 1 and they differ; `index` counts in the longer shape.
 */
export function firstUnbroadcastableDimension(s1: readonly number[], s2: readonly number[]): { index: number; a: number; b: number } | undefined {
  const n = Math.max(s1.length, s2.length);
  for (let i = 0; i < n; i++) {
    const a = s1[i - (n - s1.length)] ?? 1;
    const b = s2[i - (n - s2.length)] ?? 1;
    if (a !== b && a !== 1 && b !== 1) return { index: i, a, b };
  }
  return undefined;
}
