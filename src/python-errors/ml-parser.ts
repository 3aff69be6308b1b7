/**
 * Recognises ML failures in Python exception messages (the original's `Snakepit.Error.Parser`):
 * out-of-memory, device, dtype and shape errors as PyTorch, NumPy, CUDA/HIP and MPS word them.
 * Pure string work, so it is tested on the libraries' exact texts. Order matters: an OOM message
 * may name a shape, and "Input type ... and weight type ..." is a device error when the devices
 * differ and a dtype error otherwise.
 */
import { firstUnbroadcastableDimension, type OutOfMemory, type ShapeMismatch } from './ml-errors.js';

/** What the parser found, before it becomes an error class. */
export type MlErrorMatch =
  | ({ kind: 'shape' } & ShapeMismatch & { shapes?: number[][] })
  | { kind: 'dtype'; expected?: string; got?: string; operation?: string }
  | { kind: 'device'; expected?: string; got?: string; operation?: string }
  | ({ kind: 'oom' } & OutOfMemory);

/** The ML error in `message`, or undefined. `exceptionType` helps (torch's `OutOfMemoryError`). */
export function matchMlError(exceptionType: string, message: string): MlErrorMatch | undefined {
  return matchOom(exceptionType, message) ?? matchDevice(message) ?? matchDType(message) ?? matchShape(message);
}

// ---- out of memory ----

// NumPy prints three significant digits, so 100 units and up end in a bare dot: "728. TiB".
const SIZE = String.raw`(\d+(?:\.\d*)?\s*[KMGTPE]?i?B)`;
const sizeAfter = (message: string, pattern: string) => {
  const m = new RegExp(pattern).exec(message);
  return m?.[1] === undefined ? undefined : parseByteSize(m[1]);
};

function matchOom(exceptionType: string, message: string): MlErrorMatch | undefined {
  // PyTorch CUDA/HIP, old form: "(GPU 0; 15.78 GiB total capacity; ...; 1.50 GiB free; ...)";
  // new form: "GPU 0 has a total capacity of 79.15 GiB of which 10.81 MiB is free."
  const gpu = /\b(CUDA|HIP) out of memory/.exec(message) ?? /\b(CUDA|HIP) error: out of memory/.exec(message);
  if (gpu || (exceptionType.endsWith('OutOfMemoryError') && /GPU|CUDA/.test(message))) {
    const kind = gpu?.[1] === 'HIP' ? 'rocm' : 'cuda';
    const index = /\bGPU (\d+)/.exec(message)?.[1];
    return {
      kind: 'oom',
      device: index === undefined ? kind : `${kind}:${index}`,
      requestedBytes: sizeAfter(message, String.raw`Tried to allocate ${SIZE}`),
      availableBytes: sizeAfter(message, String.raw`${SIZE} free`) ?? sizeAfter(message, String.raw`of which ${SIZE} is free`),
      totalBytes: sizeAfter(message, String.raw`${SIZE} total capacity`) ?? sizeAfter(message, String.raw`total capacity of ${SIZE}`),
    };
  }
  // "MPS backend out of memory (MPS allocated: 17.00 GB, other allocations: 1.00 MB, max allowed: 18.13 GB). Tried to allocate 1.50 GB on private pool."
  if (/MPS backend out of memory/.test(message)) {
    const allocated = sizeAfter(message, String.raw`MPS allocated: ${SIZE}`);
    const other = sizeAfter(message, String.raw`other allocations: ${SIZE}`) ?? 0;
    const max = sizeAfter(message, String.raw`max allowed: ${SIZE}`);
    return {
      kind: 'oom',
      device: 'mps',
      requestedBytes: sizeAfter(message, String.raw`Tried to allocate ${SIZE}`),
      availableBytes: max !== undefined && allocated !== undefined ? Math.max(0, max - allocated - other) : undefined,
      totalBytes: max,
    };
  }
  // NumPy: "Unable to allocate 7.45 GiB for an array with shape (1000000, 1000) and data type float64"
  const numpy = new RegExp(String.raw`Unable to allocate ${SIZE} for an array`).exec(message);
  if (numpy?.[1]) return { kind: 'oom', device: 'cpu', requestedBytes: parseByteSize(numpy[1]), operation: 'numpy allocation' };
  // TensorFlow: "OOM when allocating tensor with shape[10000,10000] and type float on /job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc"
  const tf = /OOM when allocating tensor.*?device:(GPU|CPU):(\d+)/.exec(message);
  if (tf) return { kind: 'oom', device: tf[1] === 'GPU' ? `cuda:${tf[2]}` : 'cpu' };
  return undefined;
}

// ---- device ----

function matchDevice(message: string): MlErrorMatch | undefined {
  const operation = /\(when checking argument (?:for argument \w+ )?in method (\w+)\)/.exec(message)?.[1];
  // "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
  const two = /Expected all tensors to be on the same device, but found at least two devices, ([\w:]+) and ([\w:]+)!/.exec(message);
  if (two) return { kind: 'device', expected: two[1], got: two[2], ...(operation ? { operation } : {}) };
  // PyTorch >= 2.5: "... but got mat2 is on cpu, different from other tensors on cuda:0 (when checking argument in method wrapper_CUDA_mm)"
  const got = /Expected all tensors to be on the same device, but got \w+ is on ([\w:]+), different from other tensors on ([\w:]+)/.exec(message);
  if (got) return { kind: 'device', expected: got[2], got: got[1], ...(operation ? { operation } : {}) };
  // "Input type (torch.FloatTensor) and weight type (torch.cuda.FloatTensor) should be the same ..."
  const types = /Input type \(([\w.]+)\) and (?:weight|bias) type \(([\w.]+)\) should be the same/.exec(message);
  if (types?.[1] && types[2] && tensorDevice(types[1]) !== tensorDevice(types[2])) {
    return { kind: 'device', expected: tensorDevice(types[2]), got: tensorDevice(types[1]), operation: 'conv' };
  }
  // Older PyTorch: "Tensor for argument #2 'mat2' is on CPU, but expected it to be on GPU (while checking arguments for addmm)"
  const arg = /is on (CPU|GPU), but expected (?:it|them) to be on (CPU|GPU)(?: \(while checking arguments for (\w+)\))?/.exec(message);
  if (arg) {
    const dev = (d: string | undefined) => (d === 'GPU' ? 'cuda' : 'cpu');
    return { kind: 'device', expected: dev(arg[2]), got: dev(arg[1]), ...(arg[3] ? { operation: arg[3] } : {}) };
  }
  if (/Torch not compiled with CUDA enabled|Found no NVIDIA driver on your system/.test(message)) return { kind: 'device', expected: 'cuda' };
  if (/CUDA error: invalid device ordinal/.test(message)) return { kind: 'device', expected: 'cuda' };
  return undefined;
}

/** `torch.cuda.FloatTensor` -> `cuda`, `torch.FloatTensor` -> `cpu`, `torch.mps.FloatTensor` -> `mps`. */
function tensorDevice(tensorType: string): string {
  const m = /^torch\.(cuda|mps|xpu)\./.exec(tensorType);
  return m?.[1] ?? 'cpu';
}

// ---- dtype ----

function matchDType(message: string): MlErrorMatch | undefined {
  const found = (expected: string | undefined, got: string | undefined, operation?: string): MlErrorMatch => ({
    kind: 'dtype',
    ...(expected ? { expected: normalizeDType(expected) } : {}),
    ...(got ? { got: normalizeDType(got) } : {}),
    ...(operation ? { operation } : {}),
  });
  // "expected scalar type Float but found Double"
  let m = /expected scalar type (\w+) but found (\w+)/i.exec(message);
  if (m) return found(m[1], m[2]);
  // Older: "Expected object of scalar type Float but got scalar type Double for argument #2 'mat2' in call to _th_mm"
  m = /Expected object of scalar type (\w+) but got scalar type (\w+)(?: for argument #\d+ '\w+')?(?: in call to (\w+))?/.exec(message);
  if (m) return found(m[1], m[2], m[3]);
  // PyTorch 2.x matmul: "expected m1 and m2 to have the same dtype, but got: float != double",
  // "expected mat1 and mat2 to have the same dtype, but got: float != double"
  m = /expected (?:m1 and m2|mat1 and mat2) to have the same dtype, but got: ([\w:]+) != ([\w:]+)/.exec(message);
  if (m) return found(m[1], m[2], 'matmul');
  // "mat1 and mat2 must have the same dtype, but got Float and Double"
  m = /mat1 and mat2 must have the same dtype(?:, but got (\w+) and (\w+))?/.exec(message);
  if (m) return found(m[1], m[2], 'matmul');
  // Same device, different types: "Input type (torch.cuda.DoubleTensor) and weight type (torch.cuda.FloatTensor) ..."
  // or "Input type (double) and bias type (float) should be the same"
  m = /Input type \(([\w.]+)\) and (?:weight|bias) type \(([\w.]+)\) should be the same/.exec(message);
  if (m) return found(m[2], m[1], 'conv');
  // PyTorch: "result type Float can't be cast to the desired output type Long"
  m = /result type (\w+) can't be cast to the desired output type (\w+)/.exec(message);
  if (m) return found(m[2], m[1]);
  // NumPy: "Cannot cast ufunc 'add' output from dtype('float64') to dtype('int64') with casting rule 'same_kind'"
  m = /Cannot cast ufunc '(\w+)' output from dtype\('(\w+)'\) to dtype\('(\w+)'\)/.exec(message);
  if (m) return found(m[3], m[2], m[1]);
  // NumPy: "Cannot cast array data from dtype('float64') to dtype('int64') according to the rule 'safe'"
  m = /Cannot cast array data from dtype\('(\w+)'\) to dtype\('(\w+)'\)/.exec(message);
  if (m) return found(m[2], m[1]);
  return undefined;
}

const DTYPES: Record<string, string> = {
  float: 'float32', double: 'float64', half: 'float16', bfloat16: 'bfloat16', long: 'int64', int: 'int32', short: 'int16',
  char: 'int8', byte: 'uint8', bool: 'bool', complexfloat: 'complex64', complexdouble: 'complex128', 'c10::half': 'float16', 'c10::bfloat16': 'bfloat16',
};

/** A dtype in NumPy's words: PyTorch's `Float`, `torch.float32` and `float` all become `float32`. */
export function normalizeDType(name: string): string {
  const bare = name.replace(/^torch\.(cuda\.)?/, '').replace(/Tensor$/, '').toLowerCase();
  return DTYPES[bare] ?? bare;
}

// ---- shape ----

function matchShape(message: string): MlErrorMatch | undefined {
  // PyTorch: "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"; old: "size mismatch, m1: [2 x 3], m2: [4 x 5]"
  const mm = /mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)/.exec(message) ?? /size mismatch, m1: \[(\d+) x (\d+)\], m2: \[(\d+) x (\d+)\]/.exec(message);
  if (mm) {
    const [a, k1, k2, b] = mm.slice(1).map(Number) as [number, number, number, number];
    return matmul([a, k1], [k2, b]);
  }
  // NumPy dot: "shapes (2,3) and (4,5) not aligned: 3 (dim 1) != 4 (dim 0)"
  const dot = /shapes (\([\d,\s]*\)) and (\([\d,\s]*\)) not aligned/.exec(message);
  if (dot?.[1] && dot[2]) {
    const s1 = extractShape(dot[1]);
    const s2 = extractShape(dot[2]);
    if (s1 && s2) return matmul(s1, s2, 'dot');
  }
  // NumPy matmul: "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 4 is different from 3)"
  const core = /(\w+): Input operand \d+ has a mismatch in its core dimension (\d+), with gufunc signature \S+ \(size (\d+) is different from (\d+)\)/.exec(message);
  if (core) return { kind: 'shape', operation: core[1]!, dimension: Number(core[2]), gotDim: Number(core[3]), expectedDim: Number(core[4]) };
  // NumPy: "operands could not be broadcast together with shapes (2,3) (4,5) " (also "remapped shapes")
  const bc = /could not be broadcast together with (?:remapped )?shapes ((?:\[?\([\d,\s]*\)\]?\s*)+)/.exec(message);
  if (bc?.[1]) {
    const shapes = [...bc[1].matchAll(/\([\d,\s]*\)/g)].map((s) => extractShape(s[0])).filter((s): s is number[] => s !== undefined);
    for (let i = 1; i < shapes.length; i++) {
      const dim = firstUnbroadcastableDimension(shapes[0]!, shapes[i]!);
      if (dim) return { kind: 'shape', operation: 'broadcast', expected: shapes[0]!, got: shapes[i]!, dimension: dim.index, expectedDim: dim.a, gotDim: dim.b, shapes };
    }
    if (shapes.length >= 2) return { kind: 'shape', operation: 'broadcast', expected: shapes[0]!, got: shapes[1]!, shapes };
  }
  // PyTorch: "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"
  const sz = /The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension (\d+)/.exec(message);
  if (sz) return { kind: 'shape', operation: 'broadcast', expectedDim: Number(sz[1]), gotDim: Number(sz[2]), dimension: Number(sz[3]) };
  // PyTorch conv: "Given groups=1, weight of size [64, 3, 7, 7], expected input[1, 1, 224, 224] to have 3 channels, but got 1 channels instead"
  const conv = /expected input(\[[\d,\s]+\]) to have (\d+) channels, but got (\d+) channels instead/.exec(message);
  if (conv?.[1]) {
    const got = extractShape(conv[1]);
    const expectedDim = Number(conv[2]);
    const expected = got?.map((d, i) => (i === 1 ? expectedDim : d));
    return { kind: 'shape', operation: 'conv', ...(got ? { got, expected } : {}), dimension: 1, expectedDim, gotDim: Number(conv[3]) };
  }
  // PyTorch: "shape '[2, 5]' is invalid for input of size 6"; NumPy: "cannot reshape array of size 6 into shape (4,5)"
  const view = /shape '(\[[\d,\s-]*\])' is invalid for input of size (\d+)/.exec(message);
  if (view?.[1]) return { kind: 'shape', operation: 'view', ...optionalGot(extractShape(view[1])) };
  const reshape = /cannot reshape array of size (\d+) into shape (\([\d,\s-]*\))/.exec(message);
  if (reshape?.[2]) return { kind: 'shape', operation: 'reshape', ...optionalGot(extractShape(reshape[2])) };
  // scikit-learn: "X has 10 features, but LinearRegression is expecting 5 features as input."
  const sk = /X has (\d+) features, but (\w+) is expecting (\d+) features as input/.exec(message);
  if (sk) return { kind: 'shape', operation: sk[2]!, dimension: 1, gotDim: Number(sk[1]), expectedDim: Number(sk[3]) };
  // Hand-written checks: "expected shape (3, 224, 224), got (3, 256, 256)"
  const generic = /expected (?:input )?shape:? ?([[(][\d,\s]*[\])]),? (?:but )?got:? ?([[(][\d,\s]*[\])])/i.exec(message);
  if (generic?.[1] && generic[2]) {
    const expected = extractShape(generic[1]);
    const got = extractShape(generic[2]);
    if (expected && got) return { kind: 'shape', expected, got };
  }
  return undefined;
}

/** A matrix product whose inner dimensions differ: `expected` is what the right operand should have been. */
function matmul(left: number[], right: number[], operation = 'matmul'): MlErrorMatch {
  const k = left.at(-1)!;
  const dimension = Math.max(0, right.length - 2);
  const expected = right.map((d, i) => (i === dimension ? k : d));
  return { kind: 'shape', operation, expected, got: right, dimension, expectedDim: k, gotDim: right[dimension]!, shapes: [left, right] };
}

const optionalGot = (got: number[] | undefined) => (got ? { got } : {});

/**
 * A shape from its printed form: `[3, 224, 224]`, `(10, 20)`, `(3,)`, `2x3`, `[2 x 3]`,
 * `torch.Size([3, 4])`. Undefined when `text` holds no shape.
 * @example extractShape('(10, 20)') // [10, 20]
 */
export function extractShape(text: string): number[] | undefined {
  const m = /torch\.Size\(\[([^\]]*)\]\)/.exec(text) ?? /\[([-\d,\sx]*)\]/.exec(text) ?? /\(([-\d,\s]*)\)/.exec(text) ?? /^\s*(\d+(?:\s*x\s*\d+)+)\s*$/.exec(text);
  if (!m) return undefined;
  const body = m[1]!.trim();
  if (body === '') return [];
  const parts = body.split(/\s*[,x]\s*/).filter((p) => p !== '');
  const dims = parts.map(Number);
  return dims.every((d) => Number.isInteger(d)) ? dims : undefined;
}

const UNITS: Record<string, number> = { B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50, E: 2 ** 60 };

/**
 * Bytes in a printed size: `2.00 GiB`, `20.00 MiB`, `1.50 GB`. `GB` counts as GiB, since PyTorch
 * and NumPy print 1024-based sizes under both spellings.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d*)?)\s*([KMGTPE]?)i?B$/.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNITS[m[2] || 'B'] ?? 1));
}
