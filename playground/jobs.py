"""A session's training job: a light handle in the web process, its runs in a worker.

`Job` is what a page holds: commands (play, step, pause, update, close) and `snapshot()`,
an immutable picture replaced whole. Each Play or Step becomes a `Run` that a worker of the
pool (playground/workers.py) executes: the worker owns the Trainer (model, data, GPU) and
sends back snapshot changes. Between runs the job keeps only the trainer's exported state,
so a paused run continues in whichever worker is free next.
"""
from __future__ import annotations

import dataclasses
import gc
import logging
import os
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

import datasets
from datasets.points import Points
from playground import evaluation
from playground.checkpoints import Predictor
from playground.config import Config, ConfigError, needs_reset
from playground.training import Trainer, device_label, resolve_device, weights_state

log = logging.getLogger(__name__)

REPORT_EVERY = 0.2        # seconds between snapshots while training (5 per second)
FULL_EVERY = 1.0          # seconds between model copies (predictor, MNIST view) while training
IDLE_TIMEOUT = 30.0       # a job whose session has not looked for this long is paused
REAP_EVERY = 1.0          # seconds between the reaper's rounds
GONE_GRACE = 2.0          # a job whose browser tab has been disconnected this long is paused
SURFACE_SIZE = 100        # decision-surface grid is SURFACE_SIZE x SURFACE_SIZE
NEURON_MAP_SIZE = 24      # each neuron's little picture of the plane
MAX_STEP_LOSSES = 2000    # points kept for the per-step loss curve
ACTIVE = ("queued", "loading", "running")


def default_max_jobs() -> int:
    raw = os.environ.get("PLAYGROUND_MAX_JOBS", "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return 8 if torch.cuda.is_available() else max(1, os.cpu_count() or 1)


def forwarded_env() -> dict[str, str]:
    """The environment a run needs from the web process (where data lives, mirrors)."""
    return {k: v for k, v in os.environ.items() if k.startswith("PLAYGROUND_") or k == "XDG_CACHE_HOME"}


@dataclass(frozen=True)
class MnistView:
    """Test-set predictions for the image page (MNIST, Fashion-MNIST, CIFAR-10), refreshed at each epoch end."""
    probs: np.ndarray          # (n_test, 10)
    labels: np.ndarray         # (n_test,)
    images: np.ndarray | None  # (n_test, c, h, w), shared read-only; a run sends it once
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
    queue_eta: float | None = None  # queued: estimated seconds until a slot frees up
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
    dead_units: tuple = ()                  # 2D data: per hidden layer, units never active on the training data
    grad_norms: np.ndarray | None = None    # 2D data: (epochs, Linear layers) RMS weight-gradient norm, per history row
    mnist: MnistView | None = None
    predictor: Predictor | None = None      # CPU copy of the model, refreshed at epoch ends
    applied_config: Config | None = None    # the settings the trainer trains with right now
    updated: float = field(default_factory=time.monotonic)

    @property
    def latest(self) -> dict | None:
        return self.history[-1] if self.history else None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


# ================================================================ in the worker: one run
@dataclass(frozen=True)
class Order:
    """What a worker needs to train one Play or Step of a job."""
    job_id: str
    config: Config
    state: bytes | None           # Trainer.export_state() after the last run; None: fresh weights
    target_epoch: int | None      # Step: stop at this epoch; None: train to config.epochs
    data_dir: str | None = None
    images_known: str = ""        # the data source whose test images the job already holds
    surface_size: int = SURFACE_SIZE
    report_every: float = REPORT_EVERY
    env: dict = field(default_factory=dict)
    points: Points | None = None  # the data of the custom datasets (not a setting: too big for one)


@dataclass
class Controls:
    """What the web process may change while a run trains (set by the worker's receiving thread)."""
    stop: threading.Event = field(default_factory=threading.Event)
    pending: Config | None = None     # live setting changes, applied between steps
    target_epoch: int | None = None


class Run:
    """Trains one order in a worker, sending snapshot changes through `send(changes)`."""

    def __init__(self, order: Order, controls: Controls, send: Callable[[dict], None]):
        self.order, self.controls, self.send = order, controls, send
        self.config = order.config
        self.trainer: Trainer | None = None
        self._history: list[dict] = []      # EpochRecord dicts built so far
        self._grads = np.empty((0, 0), np.float32)   # trainer.grad_norms copied so far (rows: capacity)
        self._grads_sent: np.ndarray | None = None   # the rows published last (a copy)
        self._last_sent = self._last_full = -float("inf")   # monotonic times of the last sends

    def execute(self) -> tuple[dict, bytes | None]:
        """Train until done, paused, stopped or failed: (last snapshot changes, state to keep)."""
        try:
            return self._train()
        except torch.cuda.OutOfMemoryError:
            return self._failed("the GPU ran out of memory: try a smaller network or batch size")
        except (ConfigError, ValueError, OSError) as e:
            return self._failed(str(e))
        except RuntimeError as e:
            if "out of memory" in str(e).lower():
                return self._failed("out of memory: try a smaller network or batch size")
            log.exception("training job %s failed", self.order.job_id)
            return self._failed(f"training stopped with an internal error: {str(e).splitlines()[0][:200]}")
        except Exception as e:  # noqa: BLE001 - a run must never take its worker down
            log.exception("training job %s failed", self.order.job_id)
            return self._failed(f"training stopped with an internal error: {type(e).__name__}")

    def _failed(self, message: str) -> tuple[dict, None]:
        self.trainer = None
        _free_memory()
        return {"status": "failed", "message": message}, None

    def _train(self) -> tuple[dict, bytes | None]:
        trainer = self.trainer = self._make_trainer()
        self._apply_pending()
        if trainer.status == "diverged":
            trainer.recover(self.config)
        if self.controls.stop.is_set():
            return {"status": self._resting_status(trainer)}, trainer.export_state()
        target = self.controls.target_epoch
        if target is not None and target <= trainer.epoch:     # evaluate: the views, no training
            return self._full(trainer, status=self._resting_status(trainer)), trainer.export_state()
        self.send({"status": "running", "message": ""})
        trainer.run(epochs=min(target or trainer.config.epochs, trainer.config.epochs), on_epoch=self._on_epoch,
                    on_report=self._on_report, report_every=self.order.report_every)
        status = trainer.status
        if status in ("paused", "stopped"):
            status = "finished" if trainer.done else "paused"
        return self._full(trainer, status=status, message=trainer.message), trainer.export_state()

    @staticmethod
    def _resting_status(trainer: Trainer) -> str:
        if trainer.status == "diverged":
            return "diverged"
        if trainer.done:
            return "finished"
        return "paused" if trainer.epoch or trainer.steps else "idle"

    def _make_trainer(self) -> Trainer:
        config = self.config
        if config.is_image:
            self.send({"status": "loading", "message": "loading data",
                       "device": device_label(resolve_device(config.device))})
        split = datasets.load(config, self.order.data_dir, progress=self._on_download, points=self.order.points)
        trainer = Trainer(config, split, stop_event=self.controls.stop)
        if self.order.state is not None:
            trainer.restore_state(self.order.state)
        self.send({"data_source": split.source, "used_sample": split.used_sample, "n_train": trainer.n_train,
                   "progress": None, "device": device_label(trainer.device),
                   "layer_sizes": self._layer_sizes(trainer)})
        return trainer

    def _on_download(self, name: str, done: int, total: int | None) -> None:
        fraction = done / total if total else None
        self.send({"status": "loading", "progress": fraction, "message": f"downloading {name}"})

    def _apply_pending(self) -> None:
        pending, self.controls.pending = self.controls.pending, None
        if pending is not None and self.trainer is not None:
            self.config = pending
            self.trainer.set_hparams(pending)

    def _on_report(self, trainer: Trainer) -> None:
        self._apply_pending()
        self._send_at_most_every(self.order.report_every, self._live, trainer)

    def _on_epoch(self, trainer: Trainer) -> None:
        """Short epochs (toy data: ~50 a second) publish at most at the report cadence, and the
        model copy at most once a second; the end of the run always sends everything."""
        self._apply_pending()
        if time.monotonic() - self._last_full >= FULL_EVERY:
            self._last_full = time.monotonic()
            self._send_at_most_every(0.0, self._full, trainer)
        else:
            self._send_at_most_every(self.order.report_every, self._live, trainer)
        target = self.controls.target_epoch
        if target is not None and trainer.epoch >= target:
            trainer.stop()

    def _send_at_most_every(self, seconds: float, changes: Callable[[Trainer], dict], trainer: Trainer) -> None:
        now = time.monotonic()
        if now - self._last_sent >= seconds:
            self._last_sent = now
            self.send(changes(trainer))

    # ------------------------------------------------------------ snapshot changes
    def _live(self, trainer: Trainer, **extra) -> dict:
        """The cheap part: counters, curves, and for 2D data the surface and weights."""
        live = dict(
            epoch=trainer.epoch, steps=trainer.steps, epoch_fraction=trainer.epoch_fraction,
            steps_per_second=(trainer.steps / trainer.train_seconds) if trainer.train_seconds else None,
            history=self._history_so_far(trainer), step_losses=tuple(trainer.step_losses[-MAX_STEP_LOSSES:]),
            applied_config=trainer.config,
        )
        if trainer.config.is_toy:
            live.update(surface=self._surface(trainer), weights=self._weights(trainer),
                        neuron_maps=self._neuron_maps(trainer), grad_norms=self._grad_norms_so_far(trainer),
                        dead_units=tuple(evaluation.dead_units(trainer.model, trainer.x_train)))
        return {**live, **extra}

    def _history_so_far(self, trainer: Trainer) -> tuple:
        self._history.extend(r.as_dict() for r in trainer.history[len(self._history):])  # new epochs only
        return tuple(self._history)

    def _grad_norms_so_far(self, trainer: Trainer) -> np.ndarray | None:
        """trainer.grad_norms as an (epochs, layers) array: new epochs are copied into a growing
        buffer, so a long run's publish costs a copy of floats, not a rebuild from lists."""
        rows = trainer.grad_norms
        if not rows:
            return None
        n, width = len(self._grads_sent) if self._grads_sent is not None else 0, len(rows[0])
        if self._grads_sent is not None and n == len(rows):
            return self._grads_sent
        if len(rows) < n or self._grads.shape[1] != width:     # not the rows copied so far: start again
            self._grads, n = np.empty((0, width), np.float32), 0
        if len(rows) > len(self._grads):
            grown = np.empty((max(64, 2 * len(rows)), width), np.float32)
            grown[:n] = self._grads[:n]
            self._grads = grown
        self._grads[n:len(rows)] = rows[n:]
        self._grads_sent = self._grads[:len(rows)].copy()
        return self._grads_sent

    def _full(self, trainer: Trainer, **extra) -> dict:
        """Also the expensive part: a CPU copy of the model and test-set predictions."""
        split = trainer.split
        predictor = Predictor.from_model(trainer.config, trainer.model, split.n_inputs, split.n_classes)
        mnist = self._mnist_view(trainer) if trainer.config.is_image else None
        return self._live(trainer, predictor=predictor, mnist=mnist, **extra)

    def _surface(self, trainer: Trainer) -> np.ndarray:
        from datasets.toy import DOMAIN
        return evaluation.surface(trainer.model, trainer.head, trainer.config.features, DOMAIN,
                                  self.order.surface_size, trainer.device)

    @staticmethod
    def _neuron_maps(trainer: Trainer) -> tuple:
        from datasets.toy import DOMAIN
        return tuple(evaluation.neuron_maps(trainer.model, trainer.config.features, DOMAIN, NEURON_MAP_SIZE,
                                            trainer.device))

    @staticmethod
    def _weights(trainer: Trainer) -> tuple:
        linears = [m for m in trainer.model.modules() if isinstance(m, torch.nn.Linear)]
        return tuple(m.weight.detach().float().cpu().numpy() for m in linears)

    @staticmethod
    def _layer_sizes(trainer: Trainer) -> tuple:
        linears = [m for m in trainer.model.modules() if isinstance(m, torch.nn.Linear)]
        return tuple([linears[0].in_features] + [m.out_features for m in linears]) if linears else ()

    def _mnist_view(self, trainer: Trainer) -> MnistView:
        probs = evaluation.predict_proba(trainer.model, trainer.head, trainer.x_test)
        labels = trainer.split.test.y
        cm = evaluation.confusion_matrix(labels, probs.argmax(1), trainer.split.n_classes)
        known = self.order.images_known == trainer.split.source
        return MnistView(probs, labels, None if known else trainer.split.test.x, cm)


# ================================================================ in the web process: the handle
_TEST_IMAGES: "weakref.WeakValueDictionary[str, np.ndarray]" = weakref.WeakValueDictionary()
_JOBS: "weakref.WeakSet[Job]" = weakref.WeakSet()   # for the idle reaper only
_JOBS_LOCK = threading.Lock()


class Job:
    """One session's training job. Pages call the commands and read `snapshot()`; the pool's
    workers train it. Never hold `_lock` while calling the pool (the pool calls back in)."""

    def __init__(self, config: Config, data_dir: str | None = None, pool=None,
                 surface_size: int = SURFACE_SIZE, report_every: float = REPORT_EVERY,
                 weights: dict | None = None, points: Points | None = None):
        self.id = uuid.uuid4().hex[:8]
        self.data_dir = data_dir
        self.points = points                   # your own 2D data (custom datasets), fixed for the job
        self._pool = pool                      # None: the server's pool, started on first need
        self.surface_size, self.report_every = surface_size, report_every
        self._lock = threading.Lock()
        self._snapshot = Snapshot(config=config)
        # The trainer after its last run; a loaded model's weights before the first.
        self._state: bytes | None = weights_state(weights) if weights is not None else None
        self._where = "idle"                   # idle, queued or running (in a worker)
        self._worker = None
        self._target_epoch: int | None = None
        self._status_before_queue = "idle"
        self._rested = threading.Event()       # set while no run is queued or training
        self._rested.set()
        self._closed = False
        self.last_seen = time.monotonic()
        self.alive: Callable[[], bool] | None = None   # the UI's "is my session still open?"
        self.gone_since: float | None = None
        with _JOBS_LOCK:
            _JOBS.add(self)
        _start_reaper()

    @property
    def pool(self):
        if self._pool is None:
            from playground import workers
            self._pool = workers.default_pool()
        return self._pool

    # ------------------------------------------------------------ reading
    def snapshot(self) -> Snapshot:
        """The latest published picture; also tells the reaper that the session is alive."""
        self.last_seen = time.monotonic()
        return self._snapshot

    def peek(self) -> Snapshot:
        """The latest picture, without counting as the session looking (for the pool)."""
        return self._snapshot

    @property
    def config(self) -> Config:
        return self._snapshot.config

    @property
    def running(self) -> bool:
        """Queued or training."""
        return self._where != "idle"

    # ------------------------------------------------------------ commands
    def play(self) -> None:
        """Train until the configured epochs are done (or paused)."""
        self._start(None)

    def step(self) -> None:
        """Train one epoch, then pause."""
        self._start(1)

    def evaluate(self) -> None:
        """Publish the views of the current weights (surface, test results, predictor), no training."""
        self._start(0)

    def pause(self) -> None:
        """Leave the queue, or stop training after the current step."""
        if self._where == "idle":
            return
        if self.pool.cancel(self):
            return
        with self._lock:
            worker = self._worker if self._where == "running" else None
        if worker is not None:
            worker.send(("stop", self.id))

    def close(self, timeout: float = 5.0) -> None:
        """Stop and forget everything (Reset, session end, shutdown)."""
        self._closed = True
        self.pause()
        self._rested.wait(timeout)
        self._state = None
        with _JOBS_LOCK:
            _JOBS.discard(self)

    def update(self, new: Config) -> bool:
        """Apply live setting changes (learning rate, optimizer...). False if a reset is needed."""
        if needs_reset(self.config, new):
            return False
        with self._lock:
            self._snapshot = dataclasses.replace(self._snapshot, config=new)
            worker = self._worker if self._where == "running" else None
        if worker is not None:
            worker.send(("update", self.id, new))
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or training (True), or the timeout passes (False)."""
        return self._rested.wait(timeout)

    def _start(self, epochs: int | None) -> None:
        if self._closed:
            raise RuntimeError("this job was closed; start a new one")
        # Pressing Play is the session looking: a page left open at rest (it polls nothing) for
        # longer than IDLE_TIMEOUT must not have its new run paused by the reaper at once.
        self.last_seen = time.monotonic()
        with self._lock:
            if self._where != "idle":
                worker = self._worker if self._where == "running" else None
                if epochs is None:        # Play during a Step: train on to the end
                    self._target_epoch = None
                    if worker is not None:
                        worker.send(("target", self.id, None))
                return
            self._target_epoch = None if epochs is None else self._snapshot.epoch + epochs
            self._where, self._status_before_queue = "queued", self._snapshot.status
            self._rested.clear()
            self._snapshot = dataclasses.replace(self._snapshot, status="queued", message="",
                                                 updated=time.monotonic())
        self.pool.submit(self)

    # ------------------------------------------------------------ called by the pool
    def order(self) -> Order:
        mnist = self._snapshot.mnist
        known = self._snapshot.data_source if mnist is not None and mnist.images is not None else ""
        return Order(self.id, self.config, self._state, self._target_epoch, self.data_dir, known,
                     self.surface_size, self.report_every, forwarded_env(), self.points)

    def queued_at(self, position: int, eta: float | None) -> None:
        snap = self._snapshot
        if snap.queue_position != position or snap.queue_eta != eta:
            self._publish({"status": "queued", "queue_position": position, "queue_eta": eta,
                           "message": f"waiting for a free slot (position {position})"})

    def started(self, worker) -> None:
        with self._lock:
            self._where, self._worker = "running", worker
        self._publish({"queue_position": None, "queue_eta": None})

    def dequeued(self) -> None:
        """Left the queue before training (Pause while waiting): back to how it was."""
        self._rest({"status": self._status_before_queue, "queue_position": None, "queue_eta": None})

    def receive(self, changes: dict) -> None:
        """Snapshot changes sent by the worker training this job."""
        self._publish(changes)

    def ended(self, changes: dict, state: bytes | None) -> None:
        """The run is over (finished, paused, diverged or failed): keep its state for the next."""
        self._state = state
        self._rest(changes)

    def worker_died(self, message: str) -> None:
        self._state = None
        self._rest({"status": "failed", "message": message})

    def _rest(self, changes: dict) -> None:
        with self._lock:
            self._where, self._worker = "idle", None
        self._publish(changes)
        self._rested.set()

    def _publish(self, changes: dict) -> None:
        changes = {k: _received(k, v, self) for k, v in changes.items()}
        with self._lock:
            self._snapshot = dataclasses.replace(self._snapshot, updated=time.monotonic(), **changes)


def _received(name: str, value, job: Job):
    """Arrays from a worker arrive writable: freeze them; test images are shared by all jobs."""
    if isinstance(value, np.ndarray):
        return _frozen(value)
    if name in ("weights", "neuron_maps", "dead_units"):
        return tuple(_frozen(v) for v in value)
    if name == "mnist" and value is not None:
        source = job._snapshot.data_source
        images = value.images
        if images is None:
            images = _TEST_IMAGES.get(source)
            if images is None and job._snapshot.mnist is not None:
                images = job._snapshot.mnist.images
        elif source:
            images = _TEST_IMAGES.setdefault(source, _frozen(images))
        return MnistView(_frozen(value.probs), _frozen(value.labels), images, _frozen(value.confusion))
    return value

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
    """One daemon thread that pauses jobs whose sessions are gone (tab closed)."""
    global _reaper
    with _JOBS_LOCK:
        if _reaper is not None and _reaper.is_alive():
            return
        _reaper = threading.Thread(target=_reap_forever, name="job-reaper", daemon=True)
        _reaper.start()


def _reap_forever() -> None:
    while True:
        time.sleep(REAP_EVERY)
        try:
            reap_idle()
        except Exception:  # noqa: BLE001 - the reaper must outlive any one job's trouble
            log.exception("reaping idle jobs failed")


def _gone(job: Job, now: float) -> bool:
    """Its session has been disconnected for GONE_GRACE seconds (a blip is forgiven)."""
    if job.alive is None or job.alive():
        job.gone_since = None
        return False
    job.gone_since = job.gone_since or now
    return now - job.gone_since >= GONE_GRACE


def reap_idle(now: float | None = None, timeout: float = IDLE_TIMEOUT) -> int:
    """Pause every queued or training job whose session closed, or that nobody looked at for
    `timeout` seconds; returns how many."""
    now = time.monotonic() if now is None else now
    with _JOBS_LOCK:
        jobs = list(_JOBS)
    stale = [j for j in jobs if j.running and (now - j.last_seen > timeout or _gone(j, now))]
    for job in stale:
        log.info("job %s: its session is gone, pausing it", job.id)
        job.pause()
    return len(stale)
