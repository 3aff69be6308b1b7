"""The pipe transport, worker side: frames on fds 3/4 (docs/protocol.md).

``frames`` (what each frame holds, both ways), ``framing`` (length-prefixed
msgpack), ``control`` (the fd 3/4 channel every spawned worker has), ``inbox``
(who reads fd 3), ``worker`` (the loop routing inbound frames), ``replies`` and
``host_channel`` (what goes out for calls and for requests to the host).
"""
