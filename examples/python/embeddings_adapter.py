"""The start-modes example's adapter (guides/worker-profiles.md#start-modes-spawn-and-fork): a table loaded once in preload()."""
import os

import numpy as np

from snakepit_bridge.base_adapter import BaseAdapter, tool

VOCABULARY = ["snake", "pit", "node", "python", "fork", "spawn"]


# region adapter
class EmbeddingsAdapter(BaseAdapter):
    table = None        # shared by every worker forked from the template
    loaded_by = None

    @classmethod
    def preload(cls):
        # Runs once in the pool's template (startMode 'fork'), or once in each worker (spawn).
        rng = np.random.default_rng(seed=42)
        cls.table = rng.standard_normal((len(VOCABULARY), 2_000_000), dtype=np.float32)  # ~46 MiB
        cls.loaded_by = os.getpid()

    def initialize(self):
        # Still runs in every worker: per-process state (connections, GPU context, caches).
        self.index = {word: row for row, word in enumerate(VOCABULARY)}

    @tool(description="The first values of a word's embedding")
    def embed(self, word: str, dims: int = 3):
        return [round(float(v), 4) for v in self.table[self.index[word], :dims]]
    # endregion adapter

    @tool(description="Which process runs this worker, its parent, and who loaded the table")
    def where(self):
        return {"pid": os.getpid(), "parent": os.getppid(), "loaded_by": type(self).loaded_by}
