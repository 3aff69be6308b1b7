"""The fork bench's adapter: a large numpy array loaded once in preload() (fork) or per worker in initialize() (spawn).

BENCH_ARRAY_MB sets its size (default 256); BENCH_LOAD_IN is 'preload' or 'initialize'.
"""
import os

import numpy as np

from snakepit_bridge.base_adapter import BaseAdapter, tool


def _load():
    # np.full writes every page: the array is resident, as loaded model weights are.
    return np.full(int(os.environ.get("BENCH_ARRAY_MB", "256")) * 1024 * 1024 // 8, 1.0)


class PreloadAdapter(BaseAdapter):
    data = None

    @classmethod
    def preload(cls):
        if os.environ.get("BENCH_LOAD_IN") == "preload":
            cls.data = _load()

    def initialize(self):
        if os.environ.get("BENCH_LOAD_IN") == "initialize":
            type(self).data = _load()

    @tool(description="A sample sum of the array (reads it)")
    def checksum(self):
        return float(self.data[::4096].sum())
