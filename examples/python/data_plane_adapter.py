"""The data-plane guide's adapter: numpy arrays (tensors) and pyarrow tables, both ways.
Needs numpy and pyarrow in the worker's Python (`pip install numpy pyarrow`)."""
# region tensors
import numpy as np

from snakepit_bridge.base_adapter import BaseAdapter, tool


class DataPlaneAdapter(BaseAdapter):
    @tool(description="x * factor: x arrives as a read-only ndarray over the received bytes")
    def scale(self, x: np.ndarray, factor: float = 2.0) -> np.ndarray:
        return x * factor  # a new array: it goes back as a Tensor

    @tool(description="weights @ x, weights sent once through shared memory by the host")
    def apply(self, weights: np.ndarray, x: np.ndarray) -> np.ndarray:
        return weights @ x
    # endregion tensors

    # region arrow
    @tool(description="n rows of sales as a pyarrow Table")
    def sales(self, n: int = 1000):
        import pyarrow as pa

        rng = np.random.default_rng(0)
        return pa.table({
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "region": pa.array(rng.choice(["north", "south"], n)).dictionary_encode(),
            "amount": pa.array(rng.uniform(1, 100, n)),
            "at": pa.array(np.datetime64("2024-05-01") + np.arange(n).astype("timedelta64[s]")),
            "note": pa.array([None] * n, pa.string()),
        })

    @tool(description="Total amount per region of an Arrow table")
    def totals(self, table):
        import pyarrow as pa

        # apache-arrow's tableFromArrays sends strings dictionary-encoded: group on plain strings
        table = table.set_column(table.schema.get_field_index("region"), "region", table.column("region").cast(pa.string()))
        return table.group_by("region").aggregate([("amount", "sum")]).sort_by("region")
    # endregion arrow
