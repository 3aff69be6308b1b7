"""Log set-up of a worker (the original's ``snakepit_bridge.logging_config``).

Lines go to stderr at ``SNAKEPIT_LOG_LEVEL`` (debug, info, warning, error, none; default
warning). Python's stdout and stderr are logs, never protocol: the host reads them line
by line and logs each with the worker's id, so ``get_logger(__name__).info(...)`` in an
adapter lands in the host's log. A record logged while a call runs ends with
`` [correlation_id=…]`` (the host moves it into the log record's context) and carries
``record.correlation_id`` (``-`` outside calls) as the original's did.
"""
from __future__ import annotations

import logging
import os
import sys

__all__ = ["configure_logging", "get_logger"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "warn": logging.WARNING, "error": logging.ERROR, "none": logging.CRITICAL + 10}
_FORMAT = "%(levelname)s %(name)s: %(message)s%(snakepit_corr)s"
_correlation_installed = False


def configure_logging(force: bool = False) -> None:
    """Log to stderr at ``SNAKEPIT_LOG_LEVEL``. The worker does it at start; an adapter calling it
    again changes nothing unless ``force`` (which re-applies the level and format)."""
    global _correlation_installed
    level = _LEVELS.get(os.environ.get("SNAKEPIT_LOG_LEVEL", "warning").strip().lower(), logging.WARNING)
    if not _correlation_installed:
        from . import telemetry  # late: a bare import of this module must not load telemetry

        telemetry.install_log_correlation()
        _correlation_installed = True
    logging.basicConfig(stream=sys.stderr, level=level, format=_FORMAT, force=force)
    # Third-party chatter stays at warning, as in the original.
    for noisy in ("grpc", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # Line-buffer stdout so adapters' print() reach the host's log promptly
    # even without PYTHONUNBUFFERED; stdout never carries protocol.
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except Exception:
        pass


def get_logger(name: str) -> logging.Logger:
    """A logger in the ``snakepit.`` namespace: ``snakepit_bridge.x`` -> ``snakepit.bridge.x``,
    ``myapp`` -> ``snakepit.myapp`` (names starting with ``snakepit.`` are kept)."""
    if name.startswith("snakepit."):
        return logging.getLogger(name)
    if name.startswith("snakepit_bridge."):
        return logging.getLogger("snakepit.bridge." + name[len("snakepit_bridge."):])
    return logging.getLogger("snakepit." + name)
