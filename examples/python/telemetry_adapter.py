"""The observability guide's adapter: spans, a custom event and a log line inside a tool."""
import logging

from snakepit_bridge import telemetry
from snakepit_bridge.base_adapter import BaseAdapter, tool

log = logging.getLogger(__name__)


class TelemetryAdapter(BaseAdapter):
    # region events
    @tool(description="Predict")
    def predict(self, x: float) -> dict:
        with telemetry.span("tool.execution", {"model": "bert"}):      # start, then stop with duration_ms (or exception)
            with telemetry.span("load_weights"):                       # nested: span.* with span_id / parent_span_id
                weights = 2.0
        telemetry.emit("custom", {"items": 3}, {"stage": "post"})
        log.warning("low confidence for x=%s", x)                      # reaches the host log with the correlation id
        return {"y": weights * x, "correlation_id": telemetry.get_correlation_id()}
    # endregion events

    @tool(description="Multiply two matrices")
    def multiply(self, a: list, b: list) -> list:
        import numpy as np

        return (np.array(a) @ np.array(b)).tolist()
