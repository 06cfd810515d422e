"""A session's training job: its thread, its published snapshots, the server-wide job limit.

The thread owns the Trainer (model, data, GPU). Everyone else reads `job.snapshot()`,
an immutable picture replaced whole at a fixed cadence.
"""
from __future__ import annotations

import atexit
import dataclasses
import gc
import logging
import os
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field

import numpy as np
import torch

import datasets
from playground import evaluation
from playground.checkpoints import Predictor
from playground.config import Config, ConfigError, needs_reset
from playground.training import Trainer, device_label, resolve_device

log = logging.getLogger(__name__)

REPORT_EVERY = 0.2        # seconds between snapshots while training (5 per second)
IDLE_TIMEOUT = 60.0       # a job whose session has not looked for this long is paused
SURFACE_SIZE = 100        # decision-surface grid is SURFACE_SIZE x SURFACE_SIZE
NEURON_MAP_SIZE = 24      # each neuron's little picture of the plane
MAX_STEP_LOSSES = 2000    # points kept for the per-step loss curve
ACTIVE = ("queued", "loading", "running")


def default_max_jobs() -> int:
    raw = os.environ.get("PLAYGROUND_MAX_JOBS", "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return 8 if torch.cuda.is_available() else max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class MnistView:
    """Test-set predictions for the MNIST page, refreshed at each epoch end."""
    probs: np.ndarray          # (n_test, 10)
    labels: np.ndarray         # (n_test,)
    images: np.ndarray         # (n_test, 1, 28, 28), shared read-only with the split
    confusion: np.ndarray      # (10, 10)

    @property
    def predicted(self) -> np.ndarray:
        return self.probs.argmax(1)


@dataclass(frozen=True)
class Snapshot:
    """Everything the UI shows of a job at one moment. Never mutated after publishing."""
    config: Config
    status: str = "idle"           # idle queued loading running paused finished diverged stopped failed
    message: str = ""
    queue_position: int | None = None
    progress: float | None = None  # download progress 0..1 while loading
    epoch: int = 0
    steps: int = 0
    epoch_fraction: float = 0.0    # how far into the current epoch
    steps_per_second: float | None = None
    history: tuple = ()            # EpochRecord.as_dict() per epoch
    step_losses: tuple = ()        # (step, mean train loss) per report
    device: str = ""
    data_source: str = ""
    used_sample: bool = False
    n_train: int = 0
    surface: np.ndarray | None = None       # 2D data: model output over the plane
    layer_sizes: tuple = ()
    weights: tuple = ()                     # 2D data: weight matrices (out, in)
    neuron_maps: tuple = ()                 # 2D data: per diagram column, (neurons, G, G) in [-1, 1]
    mnist: MnistView | None = None
    predictor: Predictor | None = None      # CPU copy of the model, refreshed at epoch ends
    updated: float = field(default_factory=time.monotonic)

    @property
    def latest(self) -> dict | None:
        return self.history[-1] if self.history else None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class SlotLimiter:
    """At most `slots` trainings at once, server-wide; the rest wait in a queue, first come first."""

    def __init__(self, slots: int):
        self.slots = slots
        self._cond = threading.Condition()
        self._running: set[int] = set()
        self._queue: list[int] = []

    def acquire(self, key: int, cancelled: threading.Event, on_wait=None) -> bool:
        """Block until a slot is free (True) or `cancelled` is set (False)."""
        with self._cond:
            self._queue.append(key)
            try:
                while not cancelled.is_set():
                    position = self._queue.index(key)
                    if position < self.slots - len(self._running):
                        self._running.add(key)
                        return True
                    if on_wait:
                        on_wait(position + 1 - (self.slots - len(self._running)))
                    self._cond.wait(0.5)
                return False
            finally:
                self._queue.remove(key)
                self._cond.notify_all()

    def release(self, key: int) -> None:
        with self._cond:
            self._running.discard(key)
            self._cond.notify_all()

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._queue)


LIMITER = SlotLimiter(default_max_jobs())
_JOBS: "weakref.WeakSet[Job]" = weakref.WeakSet()   # for the idle reaper and shutdown only
_JOBS_LOCK = threading.Lock()


class Job:
    """One session's training run. UI threads call the commands; one worker thread trains."""

    def __init__(self, config: Config, data_dir: str | None = None, limiter: SlotLimiter | None = None,
                 surface_size: int = SURFACE_SIZE, report_every: float = REPORT_EVERY):
        self.id = uuid.uuid4().hex[:8]
        self.data_dir = data_dir
        self.limiter = limiter or LIMITER
        self.surface_size = surface_size
        self.report_every = report_every
        self._lock = threading.Lock()
        self._cancel = threading.Event()     # leave the queue / stop training
        self._thread: threading.Thread | None = None
        self._trainer: Trainer | None = None  # touched only by the worker thread
        self._pending: Config | None = None   # live setting changes for the worker
        self._target_epoch: int | None = None
        self._history: list[dict] = []        # EpochRecord dicts published so far
        self._closed = False
        self._snapshot = Snapshot(config=config)
        self.last_seen = time.monotonic()
        with _JOBS_LOCK:
            _JOBS.add(self)
        _start_reaper()

    # ------------------------------------------------------------ reading
    def snapshot(self) -> Snapshot:
        """The latest published picture; also tells the reaper that the session is alive."""
        self.last_seen = time.monotonic()
        return self._snapshot

    @property
    def config(self) -> Config:
        return self._snapshot.config

    def _publish(self, **changes) -> None:
        with self._lock:
            self._snapshot = dataclasses.replace(self._snapshot, updated=time.monotonic(), **changes)

    # ------------------------------------------------------------ commands
    def play(self) -> None:
        """Train until the configured epochs are done (or paused)."""
        self._start(None)

    def step(self) -> None:
        """Train one epoch, then pause."""
        self._start(1)

    def pause(self) -> None:
        self._cancel.set()
        trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    def close(self, timeout: float = 5.0) -> None:
        """Stop and free everything (Reset, session end, shutdown)."""
        self._closed = True
        self.pause()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._trainer = None
        with _JOBS_LOCK:
            _JOBS.discard(self)

    def update(self, new: Config) -> bool:
        """Apply live setting changes (learning rate, optimizer...). False if a reset is needed."""
        if needs_reset(self.config, new):
            return False
        with self._lock:
            self._pending = new
            self._snapshot = dataclasses.replace(self._snapshot, config=new)
        if self._thread is None or not self._thread.is_alive():
            self._apply_pending()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self, epochs: int | None) -> None:
        if self._closed:
            raise RuntimeError("this job was closed; start a new one")
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                if epochs is None:
                    self._target_epoch = None
                return
            self._cancel.clear()
            self._target_epoch = None if epochs is None else self._snapshot.epoch + epochs
            self._thread = threading.Thread(target=self._work, name=f"train-{self.id}", daemon=True)
            self._snapshot = dataclasses.replace(self._snapshot, status="queued", message="")
            self._thread.start()

    # ------------------------------------------------------------ worker thread
    def _work(self) -> None:
        key = id(self)
        if not self.limiter.acquire(key, self._cancel, self._on_queue):
            self._publish(status=self._resting_status(), queue_position=None)
            return
        try:
            self._publish(queue_position=None)
            self._train()
        except torch.cuda.OutOfMemoryError:
            self._fail("the GPU ran out of memory: try a smaller network or batch size")
        except (ConfigError, ValueError, OSError) as e:
            self._fail(str(e))
        except RuntimeError as e:
            if "out of memory" in str(e).lower():
                self._fail("out of memory: try a smaller network or batch size")
            else:
                log.exception("training job %s failed", self.id)
                self._fail(f"training stopped with an internal error: {str(e).splitlines()[0][:200]}")
        except Exception as e:  # noqa: BLE001 - a job must never take the server down
            log.exception("training job %s failed", self.id)
            self._fail(f"training stopped with an internal error: {type(e).__name__}")
        finally:
            self.limiter.release(key)

    def _on_queue(self, position: int) -> None:
        if self._snapshot.queue_position != position:
            self._publish(status="queued", queue_position=position,
                          message=f"waiting for a free slot (position {position})")

    def _fail(self, message: str) -> None:
        self._trainer = None
        _free_memory()
        self._publish(status="failed", message=message)

    def _resting_status(self) -> str:
        snap = self._snapshot
        if snap.status in ("diverged", "failed"):
            return snap.status
        if self._trainer is not None and self._trainer.done:
            return "finished"
        return "paused" if snap.epoch or snap.steps else "idle"

    def _train(self) -> None:
        if self._trainer is None:
            self._trainer = self._make_trainer()
        trainer = self._trainer
        self._apply_pending()
        if trainer.status == "diverged":
            trainer.recover(self.config)
        if self._cancel.is_set():
            self._publish(status=self._resting_status())
            return
        self._publish(status="running", message="")
        target = self._target_epoch if self._target_epoch is not None else trainer.config.epochs
        trainer.run(epochs=min(target, trainer.config.epochs), on_epoch=self._on_epoch,
                    on_report=self._on_report, report_every=self.report_every)
        status = trainer.status
        if status in ("paused", "stopped"):
            status = "finished" if trainer.done else "paused"
        self._publish_full(trainer, status=status, message=trainer.message)

    def _make_trainer(self) -> Trainer:
        config = self.config
        self._publish(status="loading", message="loading data", device=device_label(resolve_device(config.device)))
        split = datasets.load(config, self.data_dir, progress=self._on_download)
        trainer = Trainer(config, split, stop_event=self._cancel)
        self._publish(status="running", data_source=split.source, used_sample=split.used_sample,
                      n_train=trainer.n_train, progress=None, device=device_label(trainer.device),
                      layer_sizes=self._layer_sizes(trainer))
        return trainer

    def _on_download(self, name: str, done: int, total: int | None) -> None:
        fraction = done / total if total else None
        self._publish(status="loading", progress=fraction, message=f"downloading {name}")

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None and self._trainer is not None:
            self._trainer.set_hparams(pending)

    def _on_report(self, trainer: Trainer) -> None:
        self._apply_pending()
        self._publish_live(trainer)

    def _on_epoch(self, trainer: Trainer) -> None:
        self._apply_pending()
        self._publish_full(trainer)
        if self._target_epoch is not None and trainer.epoch >= self._target_epoch:
            trainer.stop()

    # ------------------------------------------------------------ snapshots
    def _publish_live(self, trainer: Trainer, **extra) -> None:
        """The cheap part: counters, curves, and for 2D data the surface and weights."""
        live = dict(
            epoch=trainer.epoch, steps=trainer.steps, epoch_fraction=trainer.epoch_fraction,
            steps_per_second=(trainer.steps / trainer.train_seconds) if trainer.train_seconds else None,
            history=self._history_so_far(trainer),
            step_losses=tuple(trainer.step_losses[-MAX_STEP_LOSSES:]),
        )
        if trainer.config.is_toy:
            live.update(surface=self._surface(trainer), weights=self._weights(trainer),
                        neuron_maps=self._neuron_maps(trainer))
        self._publish(**live, **extra)

    def _history_so_far(self, trainer: Trainer) -> tuple:
        self._history.extend(r.as_dict() for r in trainer.history[len(self._history):])  # new epochs only
        return tuple(self._history)

    def _publish_full(self, trainer: Trainer, **extra) -> None:
        """Also the expensive part: a CPU copy of the model and test-set predictions."""
        split = trainer.split
        predictor = Predictor.from_model(trainer.config, trainer.model, split.n_inputs, split.n_classes)
        mnist = self._mnist_view(trainer) if trainer.config.dataset == "mnist" else None
        self._publish_live(trainer, predictor=predictor, mnist=mnist, **extra)

    def _surface(self, trainer: Trainer) -> np.ndarray:
        from datasets.toy import DOMAIN
        grid = evaluation.surface(trainer.model, trainer.head, trainer.config.features, DOMAIN,
                                  self.surface_size, trainer.device)
        return _frozen(grid)

    @staticmethod
    def _neuron_maps(trainer: Trainer) -> tuple:
        from datasets.toy import DOMAIN
        maps = evaluation.neuron_maps(trainer.model, trainer.config.features, DOMAIN, NEURON_MAP_SIZE,
                                      trainer.device)
        return tuple(_frozen(m) for m in maps)

    @staticmethod
    def _weights(trainer: Trainer) -> tuple:
        linears = [m for m in trainer.model.modules() if isinstance(m, torch.nn.Linear)]
        return tuple(_frozen(m.weight.detach().float().cpu().numpy()) for m in linears)

    @staticmethod
    def _layer_sizes(trainer: Trainer) -> tuple:
        linears = [m for m in trainer.model.modules() if isinstance(m, torch.nn.Linear)]
        return tuple([linears[0].in_features] + [m.out_features for m in linears]) if linears else ()

    @staticmethod
    def _mnist_view(trainer: Trainer) -> MnistView:
        probs = evaluation.predict_proba(trainer.model, trainer.head, trainer.x_test)
        labels = trainer.split.test.y
        cm = evaluation.confusion_matrix(labels, probs.argmax(1), trainer.split.n_classes)
        return MnistView(_frozen(probs), labels, trainer.split.test.x, _frozen(cm))


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ---------------------------------------------------------------- housekeeping
_reaper: threading.Thread | None = None


def _start_reaper() -> None:
    """One daemon thread that pauses jobs whose sessions stopped looking (tab closed)."""
    global _reaper
    with _JOBS_LOCK:
        if _reaper is not None and _reaper.is_alive():
            return
        _reaper = threading.Thread(target=_reap_forever, name="job-reaper", daemon=True)
        _reaper.start()


def _reap_forever() -> None:
    while True:
        time.sleep(5)
        reap_idle()


def reap_idle(now: float | None = None, timeout: float = IDLE_TIMEOUT) -> int:
    """Pause every active job unseen for `timeout` seconds; returns how many."""
    now = time.monotonic() if now is None else now
    with _JOBS_LOCK:
        jobs = list(_JOBS)
    stale = [j for j in jobs if j.running and now - j.last_seen > timeout]
    for job in stale:
        log.info("job %s: its session has not looked for %.0f s, pausing it", job.id, timeout)
        job.pause()
    return len(stale)


@atexit.register
def shutdown_all(timeout: float = 5.0) -> None:
    """Stop every training thread cleanly (server shutdown)."""
    with _JOBS_LOCK:
        jobs = list(_JOBS)
    for job in jobs:
        job.pause()
    deadline = time.monotonic() + timeout
    for job in jobs:
        thread = job._thread
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
