"""The interface of a telemetry backend (the original's ``TelemetryBackend``)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, Optional


class TelemetryBackend(ABC):
    """Carries events away from the worker; ``telemetry.set_backend`` installs one."""

    @abstractmethod
    def emit(self, event_name: str, measurements: Dict[str, Any], metadata: Optional[Dict[str, Any]] = None,
             correlation_id: Optional[str] = None) -> None:
        """Send one event (dotted name, numeric measurements, metadata, correlation id)."""

    def close(self) -> None:
        """Release what the backend holds (the worker is shutting down)."""
