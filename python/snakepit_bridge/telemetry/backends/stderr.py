"""A telemetry backend writing ``TELEMETRY:{json}`` lines to stderr (the original's ``StderrBackend``).

On this host stderr lines are log lines: with this backend installed, events
show up in the host's log (with the worker id), not on the telemetry bus.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Any, Dict, Optional

from .base import TelemetryBackend


class StderrBackend(TelemetryBackend):
    """One ``TELEMETRY:`` JSON line per event: ``event``, ``measurements``, ``metadata``,
    ``timestamp_ns``, ``correlation_id``."""

    def emit(self, event_name: str, measurements: Dict[str, Any], metadata: Optional[Dict[str, Any]] = None,
             correlation_id: Optional[str] = None) -> None:
        payload = {"event": event_name, "measurements": measurements, "metadata": metadata or {},
                   "timestamp_ns": time.time_ns(), "correlation_id": correlation_id or ""}
        try:
            sys.stderr.write(f"TELEMETRY:{json.dumps(payload, default=str)}\n")
            sys.stderr.flush()
        except Exception as exc:  # noqa: BLE001 - telemetry never breaks the worker
            sys.stderr.write(f"TELEMETRY_ERROR: {exc}\n")
