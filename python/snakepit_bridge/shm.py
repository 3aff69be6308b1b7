"""Zero-copy transfers through POSIX shared memory (``/dev/shm``), docs/protocol.md ext 3.

A binary or array of at least ``SNAKEPIT_ZERO_COPY_THRESHOLD`` bytes is written
to a file in ``/dev/shm`` (memory-backed: no disk) and only a reference goes
through the transport. The reader owns the file once the reference is sent:

- Python -> host: the host reads the file while decoding the frame and unlinks it.
- host -> Python: Python maps the file (``mmap``) while decoding; arrays are
  ``np.frombuffer`` views over the mapping (no copy), which stays valid after the
  host unlinks the file when the call ends.

Files are named ``snakepit-<run id>-<pid>-<n>`` (``SNAKEPIT_SHM_PREFIX`` gives
``snakepit-<run id>-``) so the host can remove a dead worker's files and a later
start can remove those of a crashed host.
"""
from __future__ import annotations

import itertools
import mmap
import os
import re
import threading
from typing import Any, Callable, List, Optional, Tuple

__all__ = ["SHM_DIR", "EXT_SHM", "enabled", "threshold", "export", "export_with", "read_ref", "track", "discard"]

SHM_DIR = "/dev/shm"
EXT_SHM = 3
# Only snakepit's own files may be named by a reference: a peer cannot make us open anything else.
_NAME = re.compile(r"^snakepit-[0-9a-z]{7}-\d+-\d+$")
_counter = itertools.count(1)
_local = threading.local()


# os.environ's own bytes table (POSIX): os.environ.get encodes the key and decodes the value on
# every call (~1.5 µs here), and these settings are read for every frame sent. The table is the
# one os.environ updates, so a changed variable (a test's monkeypatch) is still seen.
_ENV_BYTES = getattr(os.environ, "_data", None) if os.name == "posix" else None


def env_value(name: str, key: bytes) -> Optional[str]:
    """``os.environ.get(name)``, fast on POSIX; ``key`` is ``name`` encoded (a constant at the call site)."""
    if _ENV_BYTES is not None:
        value = _ENV_BYTES.get(key)
        return None if value is None else value.decode(errors="surrogateescape")
    return os.environ.get(name)


def env_int(name: str, key: bytes) -> Optional[int]:
    """A positive integer setting, else None (unset, not a number, or <= 0); fast as ``env_value``."""
    raw = _ENV_BYTES.get(key) if _ENV_BYTES is not None else os.environ.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)  # int() takes the bytes as they are: no decode
    except ValueError:
        return None
    return value if value > 0 else None


def threshold() -> Optional[int]:
    """The export threshold in bytes, or None when zero-copy is off (no env, or no /dev/shm)."""
    value = env_int("SNAKEPIT_ZERO_COPY_THRESHOLD", b"SNAKEPIT_ZERO_COPY_THRESHOLD")
    if value is None or not env_value("SNAKEPIT_SHM_PREFIX", b"SNAKEPIT_SHM_PREFIX") or not _shm_dir_exists():
        return None
    return value


_dir_exists: Optional[bool] = None


def _shm_dir_exists() -> bool:
    # Checked once: this runs for every frame sent, and /dev/shm does not come and go.
    global _dir_exists
    if _dir_exists is None:
        _dir_exists = os.path.isdir(SHM_DIR)
    return _dir_exists


def enabled(nbytes: int) -> bool:
    """Whether a buffer of ``nbytes`` goes through shared memory."""
    limit = threshold()
    return limit is not None and nbytes >= limit


def _new_name() -> str:
    return f"{os.environ['SNAKEPIT_SHM_PREFIX']}{os.getpid()}-{next(_counter)}"


def _record(name: str, size: int) -> None:
    exports = getattr(_local, "exports", None)
    if exports is not None:
        exports.append((name, size))


def export_with(write: Callable[[str], None]) -> Tuple[str, int]:
    """A new shm file filled by ``write(path)`` (for writers that stream into a file,
    saving a copy); returns ``(name, size)``. Nothing is left behind if ``write`` raises."""
    name = _new_name()
    path = os.path.join(SHM_DIR, name)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        write(path)
        size = os.path.getsize(path)
    except BaseException:
        _unlink(name)
        raise
    _record(name, size)
    return name, size


def export(data: Any) -> str:
    """Write ``data`` (any contiguous buffer) to a new shm file; returns its name."""
    name = _new_name()
    fd = os.open(os.path.join(SHM_DIR, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data).cast("B")
        while len(view):
            n = os.write(fd, view)
            view = view[n:]
    except BaseException:
        os.close(fd)
        _unlink(name)
        raise
    os.close(fd)
    _record(name, memoryview(data).nbytes)
    return name


def read_ref(name: str, size: int) -> Any:
    """A read-only mapping of the shm file ``name`` (``size`` bytes; empty bytes for 0)."""
    if not _NAME.match(name):
        raise ValueError(f"invalid shared-memory reference {name!r}")
    if size == 0:
        return b""
    fd = os.open(os.path.join(SHM_DIR, name), os.O_RDONLY)
    try:
        return mmap.mmap(fd, size, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)  # the mapping keeps the memory; the host unlinks the file


def track() -> List[Tuple[str, int]]:
    """Start recording this thread's exports ``(name, bytes)`` (to undo them if the frame is not sent)."""
    _local.exports = []
    return _local.exports


def discard(exports: List[Tuple[str, int]]) -> None:
    """Stop recording and remove ``exports`` (their frame will never be sent)."""
    _local.exports = None
    for name, _size in exports:
        _unlink(name)


def untrack() -> None:
    _local.exports = None


def _unlink(name: str) -> None:
    try:
        os.unlink(os.path.join(SHM_DIR, name))
    except OSError:
        pass
