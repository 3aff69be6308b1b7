"""The floor: the least a pipe + msgpack round trip can cost. Reads frames on fd 3, echoes on fd 4;
`stamped` writes n time-stamped chunks (the streaming floor)."""
import os
import struct
import time

import msgpack

HEADER = struct.Struct(">I")


def read_exact(fd, n):
    # Read into one preallocated buffer: no quadratic concatenation for large frames.
    buf = bytearray(n)
    view = memoryview(buf)
    pos = 0
    while pos < n:
        got = os.readv(fd, [view[pos:]])
        if not got:
            raise SystemExit(0)
        pos += got
    return buf


def send(obj):
    body = msgpack.packb(obj, use_bin_type=True)
    out = memoryview(HEADER.pack(len(body)) + body)
    while out:
        out = out[os.write(4, out):]


def main():
    while True:
        (length,) = HEADER.unpack(read_exact(3, 4))
        msg = msgpack.unpackb(read_exact(3, length), raw=False)
        if msg["tool"] == "stamped":
            # The streaming floor: `n` chunks, each stamped as it is written, then the end.
            for i in range(msg["args"]["n"]):
                send({"t": "chunk", "id": msg["id"], "value": {"i": i, "t": time.time_ns()}})
            send({"t": "result", "id": msg["id"], "value": None})
            continue
        send({"t": "result", "id": msg["id"], "value": msg["args"]["value"]})


main()
