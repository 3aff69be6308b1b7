"""Correlation ids and OpenTelemetry tracing (the original's ``snakepit_bridge.otel_tracing``).

The correlation id of the host call a thread or task serves lives here (the bridge
sets it around every call; ``get_correlation_id`` reads it). The OpenTelemetry
helpers work when the OpenTelemetry SDK is installed (``pip install
opentelemetry-sdk``, plus ``opentelemetry-exporter-otlp-proto-http`` for
``SNAKEPIT_OTEL_ENDPOINT``) and degrade to no-ops without it: ``setup_tracing``
only installs the log-record correlation id, ``get_tracer`` is None and ``span``
yields None while still binding a correlation id.
"""
from __future__ import annotations

import contextlib
import logging
import os
import uuid
from contextvars import ContextVar, Token
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

__all__ = ["CORRELATION_HEADER", "setup_tracing", "get_tracer", "new_correlation_id", "set_correlation_id",
           "reset_correlation_id", "get_correlation_id", "span", "outgoing_metadata", "correlation_filter"]

CORRELATION_HEADER = "x-snakepit-correlation-id"

# The call being served in this thread / task: its correlation id (None outside calls).
correlation_var: ContextVar[Optional[str]] = ContextVar("snakepit_correlation_id", default=None)

_tracer: Any = None
_tracing_ready = False
_log_factory_installed = False


def new_correlation_id() -> str:
    """A fresh id (32 hex digits)."""
    return uuid.uuid4().hex


def set_correlation_id(value: Optional[str]) -> Token:
    """Make ``value`` the current correlation id; returns the token for ``reset_correlation_id``."""
    return correlation_var.set(value)


def reset_correlation_id(token: Optional[Token] = None) -> None:
    """Undo ``set_correlation_id`` (with its token); without a token, clear the current id."""
    if token is not None:
        correlation_var.reset(token)
    else:
        correlation_var.set(None)


def get_correlation_id(default: Optional[str] = None) -> Optional[str]:
    """The correlation id of the host call this code serves, else ``default``."""
    value = correlation_var.get()
    return value if value is not None else default


def outgoing_metadata(initial: Optional[Iterable[Tuple[str, str]]] = None) -> List[Tuple[str, str]]:
    """gRPC metadata (``initial`` plus ``x-snakepit-correlation-id`` when a call is being served)."""
    metadata: List[Tuple[str, str]] = list(initial) if initial else []
    correlation = correlation_var.get()
    if correlation:
        metadata.append((CORRELATION_HEADER, correlation))
    return metadata


class _CorrelationIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = get_correlation_id("-")
        return True


def correlation_filter() -> logging.Filter:
    """A logging filter that sets ``record.correlation_id`` (``-`` outside calls)."""
    return _CorrelationIdFilter()


def _install_log_record_factory() -> None:
    global _log_factory_installed
    if _log_factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not getattr(record, "correlation_id", None):
            record.correlation_id = get_correlation_id("-")
        return record

    logging.setLogRecordFactory(factory)
    _log_factory_installed = True


def _sdk() -> Any:
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        return None
    return trace, Resource, TracerProvider, BatchSpanProcessor, ConsoleSpanExporter


def _exporter(console_exporter: Any) -> Any:
    endpoint = os.environ.get("SNAKEPIT_OTEL_ENDPOINT")
    if endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            logging.getLogger("snakepit_bridge.otel").warning(
                "SNAKEPIT_OTEL_ENDPOINT is set but opentelemetry-exporter-otlp-proto-http is not installed")
        else:
            return OTLPSpanExporter(endpoint=endpoint)
    if os.environ.get("SNAKEPIT_OTEL_CONSOLE", "true").lower() in ("1", "true", "yes"):
        return console_exporter()
    return None


def setup_tracing() -> None:
    """Start OpenTelemetry tracing when the SDK is installed (once); always add log correlation ids.

    ``SNAKEPIT_SERVICE_NAME`` (default ``snakepit.python.bridge``) names the service;
    spans go to ``SNAKEPIT_OTEL_ENDPOINT`` (OTLP over HTTP) or, unless
    ``SNAKEPIT_OTEL_CONSOLE`` is false, to stdout.
    """
    global _tracer, _tracing_ready
    if _tracing_ready:
        return
    _tracing_ready = True
    _install_log_record_factory()
    sdk = _sdk()
    if sdk is None:
        return
    trace, resource_cls, provider_cls, processor_cls, console_exporter = sdk
    provider = provider_cls(resource=resource_cls.create({
        "service.name": os.environ.get("SNAKEPIT_SERVICE_NAME", "snakepit.python.bridge"),
        "service.namespace": "snakepit",
        "service.instance.id": os.environ.get("SNAKEPIT_INSTANCE_ID", uuid.uuid4().hex),
    }))
    exporter = _exporter(console_exporter)
    if exporter is not None:
        provider.add_span_processor(processor_cls(exporter))
    trace.set_tracer_provider(provider)
    _tracer = trace.get_tracer("snakepit.bridge")


def get_tracer() -> Any:
    """The bridge's tracer once ``setup_tracing`` found the SDK, else None."""
    return _tracer if _tracing_ready else None


def _correlation_from(metadata: Optional[Sequence[Tuple[str, str]]]) -> Optional[str]:
    for key, value in metadata or ():
        if key.lower() == CORRELATION_HEADER:
            return value
    return None


@contextlib.contextmanager
def span(name: str, *, context_metadata: Optional[Sequence[Tuple[str, str]]] = None,
         attributes: Optional[dict] = None) -> Iterator[Any]:
    """An OpenTelemetry span bound to a correlation id (from ``context_metadata``, the current
    call, or a new one); yields the span, or None without the SDK (the id is bound either way)."""
    correlation = _correlation_from(context_metadata) or get_correlation_id() or new_correlation_id()
    token = set_correlation_id(correlation)
    try:
        tracer = get_tracer()
        if tracer is None:
            yield None
            return
        with tracer.start_as_current_span(name) as current:
            for key, value in (attributes or {}).items():
                current.set_attribute(key, value)
            current.set_attribute("snakepit.correlation_id", correlation)
            yield current
    finally:
        reset_correlation_id(token)
