"""K training steps replayed as one CUDA graph.

Small-batch training on a GPU is launch-bound: each step is dozens of tiny kernels,
and the CPU cannot queue them fast enough. Capturing K steps once and replaying
them costs one launch per K steps. Batches are gathered on the device from an
index buffer (K, batch) that is refilled from the epoch's permutation before
each replay, so the graph never needs the host.

On the CPU (and in tests) `capture=False` runs the very same K-step body eagerly.
"""
from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)
STEPS_PER_REPLAY = 16
WARMUP_STEPS = 3


class NotCapturable(Exception):
    """This combination cannot run in a CUDA graph; the reason says why."""


def check_capturable(trainer) -> None:
    config = trainer.config
    if trainer.device.type != "cuda":
        raise NotCapturable("CUDA graphs need a CUDA device")
    if config.optimizer == "adagrad":
        raise NotCapturable("the adagrad optimizer cannot be captured in a CUDA graph")
    if trainer.batch_size > trainer.n_train // STEPS_PER_REPLAY:
        raise NotCapturable("too few batches per epoch to be worth capturing")


class GraphSteps:
    """Runs blocks of `k` full-batch steps; `replay(perm, pos)` does steps pos .. pos + k*batch."""

    def __init__(self, step_body, batch_size: int, device: torch.device, k: int = STEPS_PER_REPLAY,
                 capture: bool = True):
        self.step_body, self.k, self.capture = step_body, k, capture
        self.index = torch.zeros(k, batch_size, dtype=torch.long, device=device)
        self.graph: torch.cuda.CUDAGraph | None = None

    def _body(self) -> None:
        for i in range(self.k):
            self.step_body(self.index[i])

    def prepare(self, warmup) -> None:
        """Warm up on a side stream (real training steps), then capture the K-step body."""
        if not self.capture:
            warmup()     # the same steps, so the emulation follows the captured path exactly
            return
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            warmup()
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self._body()

    def replay(self, perm: torch.Tensor, pos: int) -> None:
        self.index.copy_(perm[pos:pos + self.index.numel()].view_as(self.index))
        if self.graph is not None:
            self.graph.replay()
        else:
            self._body()
