"""The calls a worker holds (queued or running), so cancels, credit and shutdown find them.

Over the pipe a ``cancel`` frame always follows its ``call`` frame. Over gRPC,
``CancelTool`` and the ``ExecuteTool`` it names are separate RPCs handled by
different threads, so the cancel can overtake its call (the host cancels right
after sending): ``remember_early_cancels()`` keeps such ids (``EarlyCancels``)
and the call is born cancelled.
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Any, Dict, Optional

from .call import Call


class EarlyCancels:
    """Cancels of call ids not (yet) known.

    Ids do not repeat across host connections (each host transport starts
    its ids at a random point in 2^47), so a note for a call that already
    finished never matches again; notes expire after ``TTL_S`` and at most
    ``CAP`` are kept.
    """

    TTL_S = 60.0
    CAP = 4096

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._ids: "collections.OrderedDict[Any, float]" = collections.OrderedDict()

    def add(self, call_id: Any) -> None:
        now = time.monotonic()
        ids = self._ids
        ids[call_id] = now + self.TTL_S
        ids.move_to_end(call_id)
        while ids and (len(ids) > self.CAP or next(iter(ids.values())) < now):
            ids.popitem(last=False)

    def take(self, call_id: Any) -> bool:
        if not self._ids:  # the usual case: nothing noted
            return False
        deadline = self._ids.pop(call_id, None)
        return deadline is not None and deadline >= time.monotonic()


class FinishedCalls:
    """The ids of the last ``CAP`` calls that ended (gRPC): a recall of an id never seen is one
    of a call not arrived yet, not one that already ran."""

    CAP = 4096

    def __init__(self) -> None:
        self._ids: "collections.OrderedDict[Any, None]" = collections.OrderedDict()

    def add(self, call_id: Any) -> None:
        self._ids[call_id] = None
        if len(self._ids) > self.CAP:
            self._ids.popitem(last=False)

    def __contains__(self, call_id: Any) -> bool:
        return call_id in self._ids


class CallTable:
    """Call id -> ``Call`` for the calls queued or running; the runner removes a call when it ends.

    ``waiting``: the calls received and not started yet. Starting a call and recalling it (the
    host takes it back for another worker) both pop it from there: a ``dict.pop`` is atomic, so
    exactly one of them wins, with no lock on the call path.
    """

    def __init__(self) -> None:
        self.inflight: Dict[Any, Call] = {}
        self.waiting: Dict[Any, Call] = {}
        self._early: Optional[EarlyCancels] = None
        self._finished: Optional[FinishedCalls] = None

    def enqueue(self, call: Call) -> None:
        """A call arrived and waits for its turn (pipe: in arrival order)."""
        self.inflight[call.id] = call
        self.waiting[call.id] = call

    def start(self, call: Call) -> bool:
        """The call's turn came: True when it is still here to run (not recalled or cancelled while waiting)."""
        return self.waiting.pop(call.id, None) is not None

    def take_back(self, call_id: Any) -> Optional[Call]:
        """Removes a call that has not started (a recall, or a cancel of a waiting call); None once it started."""
        call = self.waiting.pop(call_id, None)
        if call is not None:
            self.inflight.pop(call_id, None)
        return call

    def remember_early_cancels(self) -> None:
        """gRPC: a cancel (or a recall) may arrive before its call; keep it for then."""
        self._early = EarlyCancels()
        self._finished = FinishedCalls()

    def done(self, call_id: Any) -> None:
        """The call ended (the runner's last word on it)."""
        self.inflight.pop(call_id, None)
        finished = self._finished
        if finished is not None:
            with self._early.lock:  # type: ignore[union-attr]
                finished.add(call_id)

    def recall(self, call_id: Any) -> bool:
        """The host takes a call back: True when it will not run here (it waited, or has not arrived yet)."""
        early = self._early
        if early is None:  # pipe: a recall frame always follows its call frame
            return self.take_back(call_id) is not None
        with early.lock:
            call = self.waiting.pop(call_id, None)
            if call is None:
                # Running or ended: it is the host's answer. Not arrived (gRPC: its RPC waits for a
                # thread): it is born cancelled when it comes, like a cancel that overtook it.
                if call_id in self.inflight or call_id in self._finished:  # type: ignore[operator]
                    return False
                early.add(call_id)
                return True
            self.inflight.pop(call_id, None)
        call.cancel()  # out of an admission gate at once; it never runs
        return True

    def register(self, call: Call) -> None:
        """Make a call known to ``cancel`` (and, waiting, to a recall), applying a cancel that came first (gRPC)."""
        self.waiting[call.id] = call
        early = self._early
        if early is None:
            self.inflight[call.id] = call
            return
        with early.lock:
            self.inflight[call.id] = call
            cancelled = early.take(call.id)
        if cancelled:
            call.cancel()

    def cancel(self, call_id: Any) -> bool:
        """Cooperatively cancel a queued or running call; False if unknown."""
        early = self._early
        if early is None:  # pipe: a cancel frame always follows its call frame
            call = self.inflight.get(call_id)
            if call is None:
                return False
            call.cancel()
            return True
        with early.lock:  # keeps a concurrent register() from slipping between look-up and note
            call = self.inflight.get(call_id)
            if call is None:
                early.add(call_id)
                return False
        call.cancel()
        return True

    def grant(self, call_id: Any, n: Any) -> bool:
        """Flow control (pipe ``credit``, gRPC ``GrantCredit``): the host's consumer took ``n``
        chunks of stream ``call_id``. False when no such stream with flow control runs."""
        call = self.inflight.get(call_id)
        flow = call.flow if call is not None else None
        if flow is None:
            return False
        if type(n) is int and n > 0:
            flow.grant(n)
        return True

    def cancel_all(self) -> None:
        for call in list(self.inflight.values()):
            call.cancel()
