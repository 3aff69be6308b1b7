"""logging_config: the original's configure_logging/get_logger, our format, SNAKEPIT_LOG_LEVEL."""
import logging
import subprocess
import sys

from harness import PYTHON_DIR
from snakepit_bridge import configure_logging, get_logger, logging_config


def test_get_logger_names_follow_the_original():
    assert get_logger("snakepit_bridge.adapters.x").name == "snakepit.bridge.adapters.x"
    assert get_logger("myapp.tools").name == "snakepit.myapp.tools"
    assert get_logger("snakepit.kept").name == "snakepit.kept"
    assert logging_config.get_logger is get_logger and configure_logging is logging_config.configure_logging


SCRIPT = """
import logging, sys
from snakepit_bridge.logging_config import configure_logging, get_logger
from snakepit_bridge import telemetry
configure_logging()
configure_logging(force=True)   # what adapters written for the original may do at import
log = get_logger("snakepit_bridge.adapters.demo")
log.info("outside")
token = telemetry.bind_call("corr-9")
log.info("inside %s", "a call")
logging.getLogger("plain").debug("hidden at info")
"""


def test_worker_format_level_and_correlation_survive_a_forced_reconfigure():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=PYTHON_DIR, capture_output=True, text=True,
                         env={"SNAKEPIT_LOG_LEVEL": "info", "PYTHONPATH": str(PYTHON_DIR)}, check=True)
    assert out.stderr.splitlines() == [
        "INFO snakepit.bridge.adapters.demo: outside",
        "INFO snakepit.bridge.adapters.demo: inside a call [correlation_id=corr-9]",
    ]


def test_records_carry_the_originals_correlation_id_attribute():
    configure_logging()
    from snakepit_bridge import telemetry

    record = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "m", (), None)
    assert record.correlation_id == "-"
    token = telemetry.bind_call("corr-2")
    try:
        record = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "m", (), None)
        assert record.correlation_id == "corr-2"
    finally:
        telemetry.reset_call(token)
