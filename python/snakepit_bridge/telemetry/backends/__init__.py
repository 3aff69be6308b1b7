"""Telemetry backends (the original's ``snakepit_bridge.telemetry.backends``): where ``emit`` sends events.

The default is ``HostBackend`` (batched to the host, which folds the events into
its bus); ``StderrBackend`` writes JSON lines; a class of your own subclasses
``TelemetryBackend`` and is installed with ``telemetry.set_backend(...)``.
"""
from ..host_backend import HostBackend
from .base import TelemetryBackend
from .stderr import StderrBackend

__all__ = ["TelemetryBackend", "HostBackend", "StderrBackend"]
