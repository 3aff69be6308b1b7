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

    Ids are unique per host connection, so a note for a call that already
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


class CallTable:
    """Call id -> ``Call`` for the calls queued or running; the runner removes a call when it ends."""

    def __init__(self) -> None:
        self.inflight: Dict[Any, Call] = {}
        self._early: Optional[EarlyCancels] = None

    def remember_early_cancels(self) -> None:
        """gRPC: a cancel may arrive before its call; keep it for then."""
        self._early = EarlyCancels()

    def register(self, call: Call) -> None:
        """Make a call known to ``cancel``, applying a cancel that came first (gRPC)."""
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
