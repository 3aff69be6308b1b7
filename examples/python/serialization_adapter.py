"""The graceful-serialization guide's adapter: a tool whose result holds values msgpack has no form for."""
# region adapter
import dataclasses
import datetime
import decimal
import enum
import threading
import uuid

from snakepit_bridge.base_adapter import BaseAdapter, tool


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int
    _cache: dict = dataclasses.field(default_factory=dict)  # private: not sent


class SerializationAdapter(BaseAdapter):
    @tool(description="A result mixing values with and without a msgpack form")
    def mixed(self) -> dict:
        return {
            "when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            "took": datetime.timedelta(milliseconds=1500),
            "price": decimal.Decimal("9.99"),
            "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "tags": {"b"},
            "color": Color.RED,
            "point": Point(1, 2),
            "big": 2**70,
            "lock": threading.Lock(),  # no mapping: the marker (or the policy's choice)
        }
# endregion adapter
