"""Trainer: the whole dataset on the device, a fast step loop, history, pause/stop, divergence.

The step loop never synchronises with the host: each step adds its loss to an
on-device running total, which is read once per report or epoch.
"""
from __future__ import annotations

import io
import logging
import math
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Callable

import torch

import datasets
from datasets.base import Split
from playground import augment, evaluation, fastpath
from playground.config import Config, ConfigError, check
from playground.models import Dropout, build_model, head_for, weight_matrices

log = logging.getLogger(__name__)
TRAIN_EVAL_LIMIT = 10_000   # train accuracy is measured on at most this many examples


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    test_loss: float
    train_acc: float | None     # None for regression
    test_acc: float | None
    seconds: float              # wall time since training started
    steps: int

    def as_dict(self) -> dict:
        return asdict(self)


def weights_state(model_state: dict) -> bytes:
    """A loaded model's weights as a state for `Trainer.restore_state`: a new run from them."""
    out = io.BytesIO()
    torch.save({"weights_only": True, "model": {k: v.detach().cpu() for k, v in model_state.items()}}, out)
    return out.getvalue()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device cuda was asked for, but this machine has no CUDA GPU; use auto or cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device mps was asked for, but this machine has no Apple GPU; use auto or cpu")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return device.type


def make_optimizer(config: Config, params) -> torch.optim.Optimizer:
    params = list(params)
    kind = OPTIMIZERS[config.optimizer]
    options = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        options.update(momentum=config.momentum, nesterov=config.nesterov)
    device = params[0].device.type if params else "cpu"
    if config.optimizer != "rmsprop" and device == "cpu":
        options["fused"] = True  # measured on CPU: Adam step 260 -> 185 us on a 2-6-1 net
    if config.optimizer in ("adam", "adamw", "rmsprop") and device == "cuda":
        options["capturable"] = True  # step counters stay on the GPU, so steps can be graph-captured
    return kind(params, **options)


OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
              "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}


def _first_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[0][:160] if lines else type(e).__name__


def divergence_message(lr: float) -> str:
    return (f"the loss became NaN or infinite: the learning rate {lr:g} is probably too high. "
            f"Try {lr / 10:g} (10x smaller) and reset.")


class Trainer:
    """Trains one config. Not thread-safe except `stop()`, which any thread may call."""

    def __init__(self, config: Config, split: Split | None = None, *, data_dir: str | None = None,
                 device: str | torch.device | None = None, threads: int | None = 1,
                 stop_event: threading.Event | None = None, fast_path: str = "auto", points=None,
                 grad_norms: bool | None = None):
        check(config)
        self.config = config
        self.device = resolve_device(config.device) if device is None else torch.device(device)
        if threads and self.device.type == "cpu":
            torch.set_num_threads(threads)  # measured: more threads per job collapse under load
        self.split = split if split is not None else datasets.load(config, data_dir, points=points)
        self.cpu_gen = torch.Generator().manual_seed(config.seed)
        self.gen = torch.Generator(self.device).manual_seed(config.seed)
        self.draws = fastpath.Draws(self.gen)   # dropout and augmentation: the run's own numbers
        self.head = head_for(config, self.split.n_classes)
        self.model = self._build_model()
        self._load_data()
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.history: list[EpochRecord] = []
        self.step_losses: list[tuple[int, float]] = []   # (step, mean train loss since the last read)
        # Per epoch (parallel to history), the RMS over its steps of each Linear layer's weight-
        # gradient norm. 2D data only by default (None): image sets' steps skip the extra work.
        self.grad_norms: list[list[float]] = []
        track = config.is_toy if grad_norms is None else grad_norms
        self._grad_weights = [m.weight for m in self.model.modules() if isinstance(m, torch.nn.Linear)] if track else []
        self._grad_sq = [torch.zeros_like(w) for w in self._grad_weights]   # sum over steps of grad**2
        self._grad_since = 0                    # self.steps at the last record
        self.epoch, self.steps, self.seconds, self.train_seconds = 0, 0, 0.0, 0.0
        self.status, self.message = "ready", ""
        # An owner that passes its own stop event also clears it; otherwise each run() does.
        self._owns_stop = stop_event is None
        self._stop = stop_event or threading.Event()
        self._perm: torch.Tensor | None = None
        self._pos = 0
        self._loss_total = torch.zeros((), dtype=torch.float64, device=self.device)
        self._samples = 0                       # examples seen, host-side count
        self._read = (0.0, 0)                   # (loss total, samples) at the last read
        self._epoch_start = (0.0, 0)            # the same, at the start of this epoch
        self._good = self._copy_params()
        # "auto": CUDA graphs on a CUDA device; "eager": never; "emulate": the graph's K-step
        # body run eagerly (tests the fast path's bookkeeping on the CPU).
        self._fast_mode = fast_path
        self._graph: fastpath.GraphSteps | None = None
        self.fast_path = "eager"
        # Each run gets its own CUDA stream, so sessions sharing a GPU overlap their work.
        self.stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        if self.stream is not None:
            self.stream.wait_stream(torch.cuda.current_stream(self.device))   # the data copies above

    # ----------------------------------------------------------- set-up
    def _build_model(self) -> torch.nn.Module:
        n_inputs = self.split.n_inputs
        model = build_model(self.config, n_inputs, self.split.n_classes, self.cpu_gen).to(self.device)
        for m in model.modules():
            if isinstance(m, Dropout):
                m.generator = self.draws
        return model


    def _load_data(self) -> None:
        def put(array) -> torch.Tensor:
            # On the CPU the tensor shares the read-only arrays every session reads (MNIST is
            # 188 MB as float32): nothing here writes to the data, so no copy is needed.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                return torch.as_tensor(array).to(self.device)
        train, test = self.split.train, self.split.test
        self.x_train, self.y_train = put(train.x), put(train.y)
        self.x_test, self.y_test = put(test.x), put(test.y)
        self.t_train, self.t_test = self.head.targets(self.y_train), self.head.targets(self.y_test)
        self.n_train = len(self.y_train)
        self.batch_size = min(self.config.batch_size, self.n_train)
        self._l1_weights = weight_matrices(self.model)

    # ----------------------------------------------------------- control
    def stop(self) -> None:
        """Ask a running `run`/`step` to return after the current step (any thread)."""
        self._stop.set()

    @property
    def epoch_fraction(self) -> float:
        return self._pos / self.n_train if self._perm is not None else 0.0

    @property
    def done(self) -> bool:
        return self.epoch >= self.config.epochs or self.status == "diverged"

    def set_hparams(self, new: Config) -> None:
        """Apply live changes (learning rate, optimizer, regularisation) between steps."""
        old, self.config = self.config, new
        self._graph = None   # settings are baked into a captured graph: capture again
        if new.optimizer != old.optimizer:
            self.optimizer = make_optimizer(new, self.model.parameters())
            return
        for group in self.optimizer.param_groups:
            group["lr"], group["weight_decay"] = new.lr, new.weight_decay
            if new.optimizer == "sgd":
                group["momentum"], group["nesterov"] = new.momentum, new.nesterov

    # ----------------------------------------------------------- training
    def run(self, epochs: int | None = None, on_epoch: Callable[["Trainer"], None] | None = None,
            on_report: Callable[["Trainer"], None] | None = None, report_every: float = 0.2) -> str:
        """Train until `epochs` epochs are done in total (default: config.epochs) or stop()."""
        target = epochs if epochs is not None else self.config.epochs
        return self._advance(math.inf, target, on_epoch, on_report, report_every)

    def step(self, n_steps: int = 1, on_epoch=None) -> str:
        """Run exactly `n_steps` steps (fewer if stopped or finished)."""
        return self._advance(n_steps, self.config.epochs, on_epoch, None, math.inf)

    def run_epoch(self, on_epoch=None, on_report=None, report_every: float = 0.2) -> str:
        """Finish the current epoch (or run one whole epoch)."""
        return self._advance(math.inf, self.epoch + 1, on_epoch, on_report, report_every)

    def _advance(self, max_steps: float, until_epoch: int, on_epoch, on_report, report_every) -> str:
        if self.status == "diverged":
            return self.status
        if self.stream is None:
            return self._advance_on_stream(max_steps, until_epoch, on_epoch, on_report, report_every)
        with torch.cuda.stream(self.stream):
            status = self._advance_on_stream(max_steps, until_epoch, on_epoch, on_report, report_every)
        self.stream.synchronize()   # others may now read the weights from any stream
        return status

    def _advance_on_stream(self, max_steps: float, until_epoch: int, on_epoch, on_report, report_every) -> str:
        if self._owns_stop:
            self._stop.clear()
        self.status = "running"
        start = time.perf_counter()
        next_report = start + report_every
        done = 0
        self.model.train()
        while done < max_steps and self.epoch < until_epoch and not self._stop.is_set():
            if self._perm is None:
                self._start_epoch()
            t0 = time.perf_counter()
            done += self._train_steps(min(max_steps - done, self._steps_left()))
            now = time.perf_counter()
            self.train_seconds += now - t0
            self.seconds += now - start
            start = now
            if self._steps_left() == 0:
                self._end_epoch()
                if on_epoch and self.status != "diverged":
                    on_epoch(self)
            elif on_report and now >= next_report:
                self.read_step_loss()
                if self.status != "diverged":
                    on_report(self)
                next_report = time.perf_counter() + report_every
            if self.status == "diverged":
                return self.status
        self.status = "finished" if self.epoch >= self.config.epochs else (
            "stopped" if self._stop.is_set() else "paused")
        self.model.eval()
        return self.status

    def _start_epoch(self) -> None:
        self._perm = torch.randperm(self.n_train, generator=self.gen, device=self.device)
        self._pos = 0

    def _steps_left(self) -> int:
        left = self.n_train - self._pos
        return left // self.batch_size if self.config.drop_last else -(-left // self.batch_size)

    def _train_steps(self, n: int) -> int:
        """Up to n steps inside the current epoch; returns how many ran."""
        start, bs = self.steps, self.batch_size
        graph = self._graph_for(int(n))      # capturing runs a few real warm-up steps first
        while self.steps - start < n and not self._stop.is_set():
            full_batches = (self.n_train - self._pos) // bs
            if graph is not None and min(full_batches, n - (self.steps - start)) >= graph.k:
                graph.replay(self._perm, self._pos)
                self._pos += graph.k * bs
                self._samples += graph.k * bs
                self.steps += graph.k
            else:
                self._step(self._perm[self._pos:self._pos + bs])
                self._pos += bs
        return self.steps - start

    def _graph_for(self, n: int) -> fastpath.GraphSteps | None:
        """The captured K-step graph, capturing it now if this is a good moment."""
        if self._graph is not None or self._fast_mode == "eager":
            return self._graph
        if self._fast_mode == "auto" and self.device.type != "cuda":
            return None
        k = fastpath.STEPS_PER_REPLAY
        if n < k + fastpath.WARMUP_STEPS or (self.n_train - self._pos) // self.batch_size < k + fastpath.WARMUP_STEPS:
            return None
        try:
            if self._fast_mode == "auto":
                fastpath.check_capturable(self)
            graph = fastpath.GraphSteps(self._step_core, self.batch_size, self.device, k,
                                        capture=self._fast_mode == "auto", draws=self.draws)
            graph.prepare(warmup=lambda: self._train_steps_eager(fastpath.WARMUP_STEPS - 1),
                          one_step=lambda: self._train_steps_eager(1))
        except (fastpath.NotCapturable, RuntimeError) as e:
            self._fast_mode = "eager"
            self.fast_path = f"eager ({_first_line(e)})"
            log.info("CUDA graphs not used: %s", self.fast_path)
            return None
        self._graph = graph
        self.fast_path = (f"cuda graph, {k} steps per replay" if graph.capture else
                          f"emulated graph, {k} steps" + (f" ({graph.not_captured})" if graph.not_captured else ""))
        return graph

    def _train_steps_eager(self, n: int) -> None:
        for _ in range(n):
            self._step(self._perm[self._pos:self._pos + self.batch_size])
            self._pos += self.batch_size

    def _step(self, idx: torch.Tensor) -> None:
        self._step_core(idx)
        self._samples += len(idx)
        self.steps += 1

    def _step_core(self, idx: torch.Tensor) -> None:
        """One optimisation step, device work only (this is what a CUDA graph captures)."""
        xb = self.x_train.index_select(0, idx)
        tb = self.t_train.index_select(0, idx)
        if self.config.augmenting:
            xb = augment.images(xb, self.config.dataset, self.draws)
        loss = self.head.loss(self.model(xb), tb)
        total = loss
        if self.config.l1:
            total = loss + self.config.l1 * sum(w.abs().sum() for w in self._l1_weights)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if self._grad_sq:   # one in-place op on preallocated sums (a fused kernel on CUDA): no host sync
            grads = [w.grad for w in self._grad_weights]
            torch._foreach_addcmul_(self._grad_sq, grads, grads)
        self.optimizer.step()
        self._loss_total.add_(loss.detach(), alpha=len(idx))

    # ----------------------------------------------------------- reading
    def read_step_loss(self) -> float | None:
        """Mean train loss since the last read (one host sync); also checks divergence."""
        total = float(self._loss_total)
        last_total, last_samples = self._read
        if self._samples == last_samples:
            return None
        self._read = (total, self._samples)
        if not math.isfinite(total):
            self._diverge()
            return None
        mean = (total - last_total) / (self._samples - last_samples)
        self.step_losses.append((self.steps, mean))
        self._good = self._copy_params()
        return mean

    def _end_epoch(self) -> None:
        self._perm = None
        self.read_step_loss()
        if self.status == "diverged":
            return
        (start_total, start_samples), (total, samples) = self._epoch_start, self._read
        self._epoch_start = self._read
        self.epoch += 1
        test_loss, test_acc = self.evaluate("test")
        _, train_acc = self.evaluate("train")
        if not math.isfinite(test_loss):
            self._diverge()
            return
        self.history.append(EpochRecord(
            epoch=self.epoch, train_loss=(total - start_total) / max(1, samples - start_samples),
            test_loss=test_loss, train_acc=train_acc, test_acc=test_acc,
            seconds=self.seconds, steps=self.steps))
        if self._grad_sq:
            self.grad_norms.append(self._read_grad_norms())

    def _read_grad_norms(self) -> list[float]:
        """Each Linear layer's RMS weight-gradient norm over the steps since the last read (one
        host sync); the sums then start again."""
        steps = max(1, self.steps - self._grad_since)
        norms = (torch.stack([s.sum() for s in self._grad_sq]) / steps).sqrt().tolist()
        self._reset_grad_norms()
        return norms

    def _reset_grad_norms(self) -> None:
        if self._grad_sq:
            torch._foreach_zero_(self._grad_sq)
        self._grad_since = self.steps

    def evaluate(self, which: str = "test") -> tuple[float, float | None]:
        """(mean loss, accuracy or None) on the test set or on up to 10,000 training examples."""
        if which == "test":
            x, t, y = self.x_test, self.t_test, self.y_test
        else:
            n = min(self.n_train, TRAIN_EVAL_LIMIT)
            x, t, y = self.x_train[:n], self.t_train[:n], self.y_train[:n]
        return evaluation.loss_and_accuracy(self.model, self.head, x, t, y)

    # ----------------------------------------------------------- divergence
    def _copy_params(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.model.parameters()]

    def _diverge(self) -> None:
        with torch.no_grad():
            for p, good in zip(self.model.parameters(), self._good):
                p.copy_(good)
        self.optimizer = make_optimizer(self.config, self.model.parameters())
        self._graph = None
        self._loss_total.fill_(0.0)
        self._reset_grad_norms()
        self._read = self._epoch_start = (0.0, self._samples)
        self._perm = None
        self.status = "diverged"
        self.message = divergence_message(self.config.lr)
        log.info("run diverged at epoch %d: %s", self.epoch, self.message)

    def recover(self, new: Config) -> None:
        """After divergence: continue from the last good weights with new settings."""
        self.set_hparams(new)
        self.optimizer = make_optimizer(new, self.model.parameters())
        self._graph = None
        self.status, self.message = "paused", ""

    # ----------------------------------------------------------- moving between processes
    def export_state(self) -> bytes:
        """Everything needed to go on exactly where this run stands, as bytes (CPU tensors and
        plain values only), so a paused run can continue in another worker process."""
        state = {
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(), "optimizer_name": self.config.optimizer,
            "cpu_gen": self.cpu_gen.get_state(), "gen": self.gen.get_state(),
            "history": [r.as_dict() for r in self.history], "step_losses": list(self.step_losses),
            "counters": [self.epoch, self.steps, self.seconds, self.train_seconds, self._pos, self._samples],
            "reads": [list(self._read), list(self._epoch_start)], "loss_total": float(self._loss_total),
            "perm": None if self._perm is None else self._perm.cpu(),
            "good": [g.cpu() for g in self._good], "status": [self.status, self.message],
            "fast": [self._fast_mode, self.fast_path],
            "grads": {"norms": list(self.grad_norms), "sums": [s.cpu() for s in self._grad_sq],
                      "since": self._grad_since},
        }
        handle = io.BytesIO()
        torch.save(state, handle)
        return handle.getvalue()

    def restore_state(self, raw: bytes) -> None:
        """Continue from `export_state()` of a run of the same network, or start from a loaded
        model's weights (`weights_state`). Safe: tensors and plain values only are read."""
        state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
        self.model.load_state_dict(state["model"])
        if state.get("weights_only"):
            self._good = self._copy_params()
            return
        if state["optimizer_name"] != self.config.optimizer:   # changed live since: new optimizer
            self.optimizer = make_optimizer(self.config, self.model.parameters())
        else:
            self.optimizer.load_state_dict(state["optimizer"])
            self.set_hparams(self.config)
        self.cpu_gen.set_state(state["cpu_gen"])
        self.gen.set_state(state["gen"])
        self.history = [EpochRecord(**r) for r in state["history"]]
        self.step_losses = [tuple(x) for x in state["step_losses"]]
        self.epoch, self.steps, self.seconds, self.train_seconds, self._pos, self._samples = state["counters"]
        self._read, self._epoch_start = (tuple(r) for r in state["reads"])
        self._loss_total.fill_(state["loss_total"])
        self._perm = None if state["perm"] is None else state["perm"].to(self.device)
        self._good = [g.to(self.device) for g in state["good"]]
        self.status, self.message = state["status"]
        self._fast_mode, self.fast_path = state["fast"]
        grads = state.get("grads")
        if grads is not None and self._grad_sq and len(grads["sums"]) == len(self._grad_sq):
            self.grad_norms = [list(row) for row in grads["norms"]]
            for s, saved in zip(self._grad_sq, grads["sums"]):
                s.copy_(saved)
            self._grad_since = grads["since"]
        else:
            self._grad_since = self.steps

    # ----------------------------------------------------------- results
    def summary(self) -> dict:
        last = self.history[-1] if self.history else None
        return {
            "dataset": self.config.dataset,
            "task": self.config.task,
            "device": device_label(self.device),
            "epochs": self.epoch,
            "status": "ok" if self.status == "finished" else self.status,
            "message": self.message,
            "final_train_loss": last.train_loss if last else None,
            "final_test_loss": last.test_loss if last else None,
            "train_accuracy": last.train_acc if last else None,
            "test_accuracy": last.test_acc if last else None,
            "seconds": round(self.seconds, 4),
            "steps": self.steps,
            "steps_per_second": round(self.steps / self.train_seconds, 1) if self.train_seconds else None,
            "used_sample": self.split.used_sample,
            "fast_path": self.fast_path,
            "data_source": self.split.source,
        }
