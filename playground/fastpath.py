"""K training steps replayed as one CUDA graph.

Small-batch training on a GPU is launch-bound: each step is dozens of tiny kernels,
and the CPU cannot queue them fast enough. Capturing K steps once and replaying
them costs one launch per K steps. Batches are gathered on the device from an
index buffer (K, batch) that is refilled from the epoch's permutation before
each replay, so the graph never needs the host.

On the CPU (and in tests) `capture=False` runs the very same K-step body eagerly.

Random numbers (dropout, augmentation) come from the run's own generator through `Draws`. A
captured graph could only replay the device's default generator, which every run in a process
shares and which a capture in one thread breaks for the others; so the K steps' numbers are drawn
into buffers before each replay and the graph reads them.
"""
from __future__ import annotations

import contextlib
import logging
import threading

import torch

log = logging.getLogger(__name__)
STEPS_PER_REPLAY = 16
WARMUP_STEPS = 3
# A capture needs the process to itself: memory freed by another thread while a capture is under
# way (a finished run's tensors, collected by any thread) aborted the whole process inside
# PyTorch's allocator (seen on an H200). A worker process trains one run at a time; jobs in threads
# of one process (PLAYGROUND_WORKERS=threads, the tests) capture only while theirs is the only run.
_runs_lock = threading.Lock()
_runs_in_process = 0
_this_thread = threading.local()


@contextlib.contextmanager
def one_run():
    """Around each run a worker trains: counts the runs training in this process."""
    global _runs_in_process
    with _runs_lock:
        _runs_in_process += 1
    _this_thread.in_run = True
    try:
        yield
    finally:
        _this_thread.in_run = False
        with _runs_lock:
            _runs_in_process -= 1


@contextlib.contextmanager
def process_to_itself():
    """Held while capturing: no other run starts meanwhile; raises NotCapturable if one trains."""
    with _runs_lock:
        others = _runs_in_process - (1 if getattr(_this_thread, "in_run", False) else 0)
        if others:
            raise NotCapturable("other runs train in threads of this process, and a capture needs it to itself")
        yield


def uniform(source, shape, device) -> torch.Tensor:
    """Uniform [0, 1) numbers from `source`: a Draws, a torch.Generator, or None (the default one)."""
    if isinstance(source, Draws):
        return source(tuple(shape), device)
    return torch.rand(shape, generator=source, device=device)


class Draws:
    """A run's random numbers for training steps, from its own generator: drawn on demand, or,
    inside the K-step body, read from per-replay buffers (`refill` draws them)."""

    def __init__(self, gen: torch.Generator):
        self.gen = gen
        self.shapes: list[tuple] = []              # the shapes of one step's draws, in order
        self._recording = False
        self.buffers: list[torch.Tensor] = []      # one (K, *shape) buffer per draw of a step
        self.step: int | None = None               # the body's step, while it reads the buffers
        self._next = 0

    def __call__(self, shape: tuple, device) -> torch.Tensor:
        if self.step is None:
            if self._recording:
                self.shapes.append(shape)
            return torch.rand(shape, generator=self.gen, device=device)
        if self._next >= len(self.buffers) or tuple(self.buffers[self._next].shape[1:]) != shape:
            raise NotCapturable("the steps' random draws changed shape")
        buffer = self.buffers[self._next]
        self._next += 1
        return buffer[self.step]

    def record(self, one_step) -> None:
        """Run one eager step and size the buffers after the draws it made."""
        self.shapes, self._recording = [], True
        try:
            one_step()
        finally:
            self._recording = False

    def allocate(self, k: int, device) -> None:
        self.buffers = [torch.empty((k, *shape), device=device) for shape in self.shapes]

    def refill(self) -> None:
        for buffer in self.buffers:
            buffer.uniform_(0, 1, generator=self.gen)

    def begin(self, step: int | None) -> None:
        self.step, self._next = step, 0


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
                 capture: bool = True, draws: Draws | None = None):
        self.step_body, self.k, self.capture, self.draws = step_body, k, capture, draws
        self.index = torch.zeros(k, batch_size, dtype=torch.long, device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.not_captured = ""           # why a graph meant for capture runs emulated

    def _body(self) -> None:
        try:
            for i in range(self.k):
                if self.draws is not None:
                    self.draws.begin(i)
                self.step_body(self.index[i])
        finally:
            if self.draws is not None:
                self.draws.begin(None)

    def prepare(self, warmup, one_step) -> None:
        """Warm up on a side stream (real training steps, the last one sizing the random-number
        buffers), then capture the K-step body."""
        if not self.capture:
            self._warm(warmup, one_step)   # the same steps, so the emulation follows the captured path
            return
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            self._warm(warmup, one_step)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        try:
            # "thread_local": a run training in another thread of this process may synchronise
            # its own stream while this one captures ("global" would fail both).
            with process_to_itself(), torch.cuda.graph(self.graph, capture_error_mode="thread_local"):
                self._body()
        except NotCapturable as e:       # raised before the capture began: emulate it instead,
            self.graph, self.capture, self.not_captured = None, False, str(e)   # same numbers

    def _warm(self, warmup, one_step) -> None:
        warmup()
        if self.draws is not None:
            self.draws.record(one_step)
            self.draws.allocate(self.k, self.index.device)

    def replay(self, perm: torch.Tensor, pos: int) -> None:
        self.index.copy_(perm[pos:pos + self.index.numel()].view_as(self.index))
        if self.draws is not None:
            self.draws.refill()
        if self.graph is not None:
            self.graph.replay()
        else:
            self._body()
