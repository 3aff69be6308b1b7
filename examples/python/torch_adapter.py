"""The PyTorch adapter of guides/threading.md (needs `pip install torch` and a model.pt).

test/commands/examples-guides.test.ts compiles it; it runs only where PyTorch is installed.
"""
# region adapter
import torch

from snakepit_bridge.base_adapter_threaded import ThreadSafeAdapter, thread_safe_method, tool


class PyTorchAdapter(ThreadSafeAdapter):
    __thread_safe__ = True

    def __init__(self):
        super().__init__()
        self.model = torch.load("model.pt")     # shared, read-only
        self.model.eval()
        torch.set_num_threads(4)

    @thread_safe_method
    @tool(description="Inference")
    def inference(self, input_tensor: list) -> list:
        with torch.no_grad():                    # the forward pass releases the GIL
            return self.model(torch.tensor(input_tensor)).tolist()
# endregion adapter
