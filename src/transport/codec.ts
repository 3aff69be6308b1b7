/** msgpack encoding of values on the wire: the JS side of the value mapping in docs/protocol.md. */
import { addExtension, Packr } from 'msgpackr';
import { Tensor, type TensorDType } from '../tensor.js';

/** ext type of a tensor: `[dtype, shape, bytes]`. */
export const TENSOR_EXT_TYPE = 2;

// `pack`/`unpack` (not `write`/`read`, which msgpackr writes outside the ext body) keep the
// payload a self-contained msgpack value, as Python's ExtType expects.
const inner = new Packr({ useRecords: false });
addExtension({
  Class: Tensor,
  type: TENSOR_EXT_TYPE,
  pack: (t: Tensor) => inner.pack([t.dtype, t.shape, t.bytes]),
  unpack: (payload: Uint8Array) => {
    const [dtype, shape, bytes] = inner.unpack(payload) as [TensorDType, number[], Uint8Array];
    return Tensor.fromBytes(dtype, shape, bytes);
  },
});

// One shared Packr: `useRecords: false` keeps plain msgpack maps Python understands;
// 'auto' gives numbers up to 2^53 and bigints beyond; bigints past 64 bits use ext 0x42.
const packr = new Packr({
  useRecords: false,
  // 'auto' exists at run time; msgpackr's typings lag behind.
  int64AsType: 'auto' as 'bigint',
  useBigIntExtension: true,
  encodeUndefinedAsNil: true,
  mapsAsObjects: true,
});

/** Encodes one frame body. */
export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes one frame body. */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
