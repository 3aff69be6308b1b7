"""Batches (the host's ``sp.map``): one call carries many inputs of one tool; they run back to back.

A batch is a ``Call`` whose ``batch`` holds the inputs (pipe: a ``batch`` frame; gRPC: the
``ExecuteBatch`` RPC). The tool runner resolves the tool and runs the session restore once, as
for a call, then ``run_batch`` runs each input through ``ToolRunner.item`` (so a failing input's
error map is the one a call would get, from ``wire_errors``) and hands the results to the call's
sink in input order: ``out.items(call, values, errors)``, where ``errors`` lists
``[index in values, error map]`` and the value at such an index is None. Results go out as they
finish, gathered for at most ``FLUSH_INTERVAL_S``, then the batch ends with ``out.end(call)``.
With ``fail_fast`` the first failing input ends the batch (the inputs after it do not run). A
cancel stops the batch before its next input: what finished is sent, then the ``cancelled`` error.
"""
from __future__ import annotations

import time
from typing import Any, Callable, List, Optional

from . import wire_errors
from .errors import SnakepitToolError, ToolCancelledError

# Over a size limit (ValueError, PayloadTooLargeError), the strict policy, no Arrow on the host.
_UNSENDABLE = (ValueError, SnakepitToolError)

__all__ = ["Batch", "FLUSH_INTERVAL_S", "encode_items", "run_batch"]

# Results are gathered for at most this long before they go out: a batch of tiny inputs sends a
# few frames instead of one per input (a frame costs far more than an echo), while slow inputs
# still reach the host one by one, as each finishes.
FLUSH_INTERVAL_S = 0.002


class Batch:
    """The inputs of a batch call (argument maps, in order) and whether a failure ends it."""

    __slots__ = ("items", "fail_fast")

    def __init__(self, items: List[Any], fail_fast: bool) -> None:
        self.items = items
        self.fail_fast = fail_fast


def run_batch(runner: Any, call: Any, fn: Optional[Callable[..., Any]], route: Optional[Callable[..., Any]]) -> None:
    """Run every input of ``call.batch`` with ``runner`` (a ``ToolRunner``); answer through ``call.out``.

    Raises ``ToolCancelledError`` (after sending what finished) when the batch is cancelled.
    """
    batch: Batch = call.batch
    if type(batch.items) is not list:
        err = wire_errors.invalid_args(TypeError(f"a batch's items must be an array, got {type(batch.items).__name__}"))
        call.failed = err
        return call.out.error(call, err)
    ctx, out, item = call.ctx, call.out, runner.item
    fail_fast = batch.fail_fast
    values: List[Any] = []
    errors: List[List[Any]] = []
    clock = time.perf_counter
    flushed_at = clock()
    try:
        for args in batch.items:
            if ctx.cancelled:
                raise ToolCancelledError()
            value, err = item(call, fn, route, args)
            if ctx.cancelled:  # during this input: its result is not wanted either
                raise ToolCancelledError()
            if err is not None:
                errors.append([len(values), err])
            values.append(value)
            if err is not None and fail_fast:
                break
            now = clock()
            if now - flushed_at >= FLUSH_INTERVAL_S:
                out.items(call, values, errors)
                values, errors, flushed_at = [], [], now
    except ToolCancelledError:
        if values:
            out.items(call, values, errors)
        raise
    if values:
        out.items(call, values, errors)
    out.end(call)


def encode_items(encode: Callable[[List[Any], List[List[Any]]], Any], values: List[Any],
                 errors: List[List[Any]]) -> List[Any]:
    """The messages of one flush, encoded by ``encode(values, errors)``: one for all results or, when
    they cannot go together (too large, or a value that cannot be sent), one per result, a result
    that cannot be sent at all replaced by its error map (``unsendable``)."""
    try:
        return [encode(values, errors)]
    except _UNSENDABLE:
        pass
    bodies = []
    for i, value in enumerate(values):
        err = next((e for at, e in errors if at == i), None)
        try:
            bodies.append(encode([value], [] if err is None else [[0, err]]))
        except _UNSENDABLE as exc:
            bodies.append(encode([None], [[0, wire_errors.unsendable(exc)]]))
    return bodies
