"""Log set-up of a worker: stderr lines at ``SNAKEPIT_LOG_LEVEL``, folded into the host's logger.

Python's stdout and stderr are logs, never protocol: the host reads them line by line and
logs each with the worker's id. A record logged while a call runs ends with
`` [correlation_id=…]`` (``telemetry.install_log_correlation``), which the host moves into
the log record's context.
"""
from __future__ import annotations

import logging
import os
import sys

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "warn": logging.WARNING, "error": logging.ERROR, "none": logging.CRITICAL + 10}


def configure_logging() -> None:
    """Logs go to stderr at ``SNAKEPIT_LOG_LEVEL`` (default warning)."""
    level = _LEVELS.get(os.environ.get("SNAKEPIT_LOG_LEVEL", "warning").strip().lower(), logging.WARNING)
    from . import telemetry  # late: telemetry must not be loaded by a bare import of this module

    telemetry.install_log_correlation()
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(levelname)s %(name)s: %(message)s%(snakepit_corr)s")
    # Line-buffer stdout so adapters' print() reach the host's log promptly
    # even without PYTHONUNBUFFERED; stdout never carries protocol.
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except Exception:
        pass
