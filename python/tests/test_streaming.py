"""Stream chunks are duck-typed as in the original: anything with .data and .is_final (and .metadata)."""
import numpy as np

from snakepit_bridge.streaming import StreamChunk, unwrap_chunk


class PrivateChunk:
    def __init__(self, data, is_final=False, metadata=None):
        self.data = data
        self.is_final = is_final
        if metadata is not None:
            self.metadata = metadata


def test_plain_values_are_not_chunks():
    for value in ({"a": 1}, [1], "s", b"b", 3, 1.5, None, True):
        assert unwrap_chunk(value) == (value, False, None)


def test_the_bridges_and_any_private_chunk_class():
    assert unwrap_chunk(StreamChunk({"x": 1}, True, {"m": 1})) == ({"x": 1}, True, {"m": 1})
    assert unwrap_chunk(StreamChunk(2)) == (2, False, None)
    assert unwrap_chunk(PrivateChunk({"x": 1}, is_final=1)) == ({"x": 1}, True, None)
    assert unwrap_chunk(PrivateChunk("d", False, {"k": "v"})) == ("d", False, {"k": "v"})
    assert unwrap_chunk(PrivateChunk("d", False, {})) == ("d", False, None)  # empty metadata: none
    assert unwrap_chunk(PrivateChunk("d", False, "not a map")) == ("d", False, None)


def test_objects_with_only_a_data_attribute_are_values():
    arr = np.arange(3)
    data, final, metadata = unwrap_chunk(arr)
    assert data is arr and (final, metadata) == (False, None)
