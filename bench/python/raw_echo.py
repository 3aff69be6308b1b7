"""The floor: the least a pipe + msgpack round trip can cost. Reads frames on fd 3, echoes on fd 4."""
import os
import struct

import msgpack

HEADER = struct.Struct(">I")


def read_exact(fd, n):
    buf = b""
    while len(buf) < n:
        part = os.read(fd, n - len(buf))
        if not part:
            raise SystemExit(0)
        buf += part
    return buf


def main():
    while True:
        (length,) = HEADER.unpack(read_exact(3, 4))
        msg = msgpack.unpackb(read_exact(3, length), raw=False)
        body = msgpack.packb({"t": "result", "id": msg["id"], "value": msg["args"]["value"]}, use_bin_type=True)
        os.write(4, HEADER.pack(len(body)) + body)


main()
