"""Worker processes that train jobs, and the pool that hands them runs, first come first served.

The web process keeps only light `Job` handles (jobs.py). Training runs in `slots` workers,
started once and reused, each a process of its own: a class's training uses every core, and
no training step competes with the pages for the interpreter lock. A worker trains one run
at a time; the others wait in the pool's queue and see their place and an estimate.

Protocol, pickled tuples over one duplex pipe per worker:
    web -> worker   ("run", Order)  ("stop", job_id)  ("update", job_id, Config)
                    ("target", job_id, epoch | None)  ("quit",)
    worker -> web   ("snap", job_id, changes)  ("end", job_id, changes, state)  ("bye",)

A worker that dies (killed, out of memory, a crash in native code) fails only its job, with a
message, and is replaced. An idle worker that has grown (MNIST arrays) retires to give its
memory back, and is replaced by a fresh one. With processes=False the same protocol runs in
threads of this process (tests that patch the engine use that).
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import heapq
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import types
from multiprocessing.connection import Connection

from playground import fastpath
from playground.jobs import Controls, Job, Run, default_max_jobs

log = logging.getLogger(__name__)
# Seconds idle before a grown worker retires (PLAYGROUND_RETIRE_AFTER: the classroom load tests use 5).
RETIRE_AFTER = float(os.environ.get("PLAYGROUND_RETIRE_AFTER", "") or 20.0)
RETIRE_GROWTH_MB = 100.0   # growth over its start that makes an idle worker retire
ETA_EVERY = 1.0            # seconds between queue-estimate refreshes
WORKER_NICE = 5            # workers yield the CPU to the web process when both want it


# ================================================================ the worker side
def serve(conn: Connection, retire_after: float | None = None, retire_growth_mb: float = RETIRE_GROWTH_MB) -> None:
    """Train the runs the web process orders, one at a time, until told to quit (or, after
    `retire_after` idle seconds, to retire if it grew by more than `retire_growth_mb`)."""
    send_lock = threading.Lock()

    def send(message: tuple) -> None:
        with send_lock:
            conn.send(message)

    orders: queue.Queue = queue.Queue()
    controls: dict[str, Controls] = {}
    threading.Thread(target=_receive, args=(conn, orders, controls), name="worker-orders", daemon=True).start()
    baseline = _rss_mb()
    try:
        send(("ready",))
        while True:
            try:
                item = orders.get(timeout=retire_after)
            except queue.Empty:
                if _rss_mb() - baseline > retire_growth_mb:
                    send(("bye",))
                    return
                continue
            if item is None:
                return
            order, ctl = item
            if retire_after is not None:           # a process of its own: take the web's settings
                _set_env(order.env)
            with fastpath.one_run():
                changes, state = Run(order, ctl, lambda c, job_id=order.job_id: send(("snap", job_id, c))).execute()
            controls.pop(order.job_id, None)
            send(("end", order.job_id, changes, state))
            del changes, state
            _trim()
    except (OSError, EOFError):    # the web process is gone
        return


def _receive(conn: Connection, orders: queue.Queue, controls: dict[str, Controls]) -> None:
    """The worker's ears: orders go to the training loop, commands to the running run."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            orders.put(None)
            return
        kind = message[0]
        if kind == "run":
            order = message[1]
            ctl = controls[order.job_id] = Controls(target_epoch=order.target_epoch)
            orders.put((order, ctl))
        elif kind == "quit":
            orders.put(None)
            return
        elif (ctl := controls.get(message[1])) is not None:
            if kind == "stop":
                ctl.stop.set()
            elif kind == "update":
                ctl.pending = message[2]
            elif kind == "target":
                ctl.target_epoch = message[2]


def _serve_process(conn: Connection, retire_after: float, retire_growth_mb: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is for the server, which closes us
    try:
        os.nice(WORKER_NICE)     # pages and health checks first; training takes the rest
    except OSError:
        pass
    # As the server prints its own engine messages (Python's last-resort handler): the message,
    # and a traceback for a failure.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    serve(conn, retire_after, retire_growth_mb)


def _set_env(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if (k.startswith("PLAYGROUND_") or k == "XDG_CACHE_HOME") and k not in env]:
        del os.environ[key]
    os.environ.update(env)


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0      # not Linux: never retire for size


def _trim() -> None:
    """Give freed memory back to the system (glibc keeps it otherwise)."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


# ================================================================ the web side
def _context():
    """forkserver where there is one: a fresh worker forks from a process that has already
    imported torch (milliseconds instead of seconds) and never inherits the web server's threads."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["playground.workers"])
        return ctx
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _without_main():
    """Start a process without multiprocessing re-running the main script in it (`streamlit`'s
    launcher, pytest or a user's script): the worker needs only the engine, preloaded."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class Worker:
    """The web side of one worker: its pipe, and a thread reading what it sends."""

    def __init__(self, pool: "WorkerPool", index: int):
        self.pool, self.index = pool, index
        self.job: Job | None = None
        self.ready = False        # it answered once: a worker that dies before is not retried at once
        self.retiring = False
        self._send_lock = threading.Lock()
        if pool.processes:
            ctx = _context()
            self.conn, child = ctx.Pipe()
            self.process = ctx.Process(target=_serve_process, name=f"playground-worker-{index}", daemon=True,
                                       args=(child, pool.retire_after, pool.retire_growth_mb))
            with _without_main():
                self.process.start()
            child.close()
        else:
            self.conn, child = multiprocessing.Pipe()
            self.process = threading.Thread(target=serve, args=(child,), name=f"worker-thread-{index}", daemon=True)
            self.process.start()
        self._reader = threading.Thread(target=self._read, name=f"worker-reader-{index}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return getattr(self.process, "pid", None)

    def start(self, job: Job) -> None:
        job.started(self)
        self.send(("run", job.order()))

    def send(self, message: tuple) -> None:
        try:
            with self._send_lock:
                self.conn.send(message)
        except (OSError, ValueError):
            pass        # the reader sees the worker gone and fails its job

    def _read(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            kind, job = message[0], self.job
            if kind == "snap" and job is not None and job.id == message[1]:
                job.receive(message[2])
                self.pool.refresh_queue()
            elif kind == "end" and job is not None and job.id == message[1]:
                job.ended(message[2], message[3])
                self.pool.finished(self)
            elif kind == "ready":
                self.ready = True
                self.pool.failures = 0
            elif kind == "bye":
                self.retiring = True
        self.pool.lost(self)

    def exit_reason(self) -> str:
        if not self.pool.processes:
            return "the training thread stopped"
        self.process.join(2)
        code = self.process.exitcode
        if code is not None and code < 0 and -code == signal.SIGKILL:
            return "the training process was killed (perhaps the machine ran out of memory)"
        if code is not None and code < 0:
            return f"the training process crashed ({signal.Signals(-code).name})"
        return f"the training process stopped unexpectedly (exit code {code})"

    def close(self, timeout: float) -> None:
        self.send(("quit",))
        self.process.join(timeout)
        if self.pool.processes and self.process.is_alive():
            self.process.kill()
            self.process.join(1)
        self.conn.close()


class WorkerPool:
    """`slots` workers and a first-come-first-served queue of jobs waiting for one."""

    def __init__(self, slots: int, processes: bool = True, retire_after: float = RETIRE_AFTER,
                 retire_growth_mb: float = RETIRE_GROWTH_MB):
        self.slots, self.processes = slots, processes
        self.retire_after, self.retire_growth_mb = retire_after, retire_growth_mb
        self._lock = threading.Lock()
        self._queue: list[Job] = []
        self._closed = False
        self._next_eta = 0.0
        self.failures = 0          # workers in a row that died before answering
        self._epoch_seconds: dict[tuple, float] = {}   # pace key -> last seen seconds per epoch
        self.workers = [Worker(self, i) for i in range(slots)]

    # ------------------------------------------------------------ used by jobs
    def submit(self, job: Job, first: bool = False) -> None:
        """Train `job` on a free worker now, or queue it."""
        with self._lock:
            worker = next((w for w in self.workers if w.job is None and not w.retiring), None)
            if self._closed:
                worker = None
            if worker is not None:
                worker.job = job
            elif first:
                self._queue.insert(0, job)
            else:
                self._queue.append(job)
        if worker is not None:
            worker.start(job)
        self.refresh_queue(force=True)

    def cancel(self, job: Job) -> bool:
        """Take a waiting job out of the queue; False if it was not waiting."""
        with self._lock:
            if job not in self._queue:
                return False
            self._queue.remove(job)
        job.dequeued()
        self.refresh_queue(force=True)
        return True

    @property
    def running(self) -> int:
        return sum(w.job is not None for w in self.workers)

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def pids(self) -> list[int]:
        return [w.pid for w in self.workers if w.pid is not None]

    # ------------------------------------------------------------ called by workers' readers
    def finished(self, worker: Worker) -> None:
        """`worker` is free again: start the first job in the queue on it."""
        with self._lock:
            worker.job = None
            job = None
            if self._queue and not worker.retiring and not self._closed:
                job = worker.job = self._queue.pop(0)
        if job is not None:
            worker.start(job)
        self.refresh_queue(force=True)

    def lost(self, worker: Worker) -> None:
        """A worker is gone (retired, killed or crashed): fail or requeue its job, replace it."""
        with self._lock:
            job, worker.job = worker.job, None
            closed = self._closed
        if job is not None and worker.retiring:
            self.submit(job, first=True)        # it retired just as the job was sent: run it elsewhere
        elif job is not None:
            reason = worker.exit_reason()
            log.warning("worker %s lost while training job %s: %s", worker.index, job.id, reason)
            job.worker_died(f"{reason}. Other sessions carry on; press Play to start again.")
        if closed:
            return
        if not worker.ready:      # it never came up: do not spin; wait longer each time
            self.failures += 1
            log.error("worker %s could not start (%s); trying again in %d s", worker.index,
                      worker.exit_reason(), 2 ** min(self.failures, 5))
            time.sleep(2 ** min(self.failures, 5))
        fresh = Worker(self, worker.index)
        with self._lock:
            self.workers[self.workers.index(worker)] = fresh
        self.finished(fresh)

    def refresh_queue(self, force: bool = False) -> None:
        """Tell each waiting job its place and an estimate of its wait (at most once a second)."""
        now = time.monotonic()
        if not self._queue or (not force and now < self._next_eta):
            return
        self._next_eta = now + ETA_EVERY
        with self._lock:
            waiting = list(self._queue)
            busy = [w.job for w in self.workers if w.job is not None]
            idle = len(self.workers) - len(busy)
        for position, (job, eta) in enumerate(zip(waiting, self._estimates(busy, idle, waiting)), start=1):
            job.queued_at(position, eta)

    def _estimates(self, busy: list[Job], idle: int, waiting: list[Job]) -> list[float | None]:
        """When each waiting job should start: slots free up as running jobs finish, and the
        jobs ahead take as long per epoch as the last run seen on their dataset."""
        free = [0.0] * idle + [self._seconds_left(job) for job in busy]
        if any(t is None for t in free):
            return [None] * len(waiting)
        heapq.heapify(free)
        estimates: list[float | None] = []
        for job in waiting:
            start = heapq.heappop(free)
            estimates.append(round(start, 1))
            per_epoch = self._epoch_seconds.get(_pace_key(job.config))
            if per_epoch is None:
                return estimates + [None] * (len(waiting) - len(estimates))
            heapq.heappush(free, start + per_epoch * job.config.epochs)
        return estimates

    def _seconds_left(self, job: Job) -> float | None:
        snap = job.peek()
        last, key = snap.latest, _pace_key(snap.config)
        if last and last["epoch"]:
            self._epoch_seconds[key] = last["seconds"] / last["epoch"]
        per_epoch = self._epoch_seconds.get(key)
        if per_epoch is None:
            return None
        return max(0.0, per_epoch * (snap.config.epochs - snap.epoch - snap.epoch_fraction))

    def close(self, timeout: float = 5.0) -> None:
        """Stop every worker (server shutdown)."""
        with self._lock:
            self._closed = True
            waiting, self._queue = self._queue, []
        for job in waiting:
            job.dequeued()
        for worker in list(self.workers):
            if worker.job is not None:
                worker.send(("stop", worker.job.id))
        for worker in list(self.workers):
            worker.close(timeout)


def _pace_key(config) -> tuple:
    """Runs with these settings in common take about as long per epoch."""
    return config.dataset, config.n_points, config.batch_size, config.hidden, config.model


_default: WorkerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """The server's pool: PLAYGROUND_MAX_JOBS workers (processes unless PLAYGROUND_WORKERS=threads)."""
    global _default
    with _default_lock:
        if _default is None:
            processes = os.environ.get("PLAYGROUND_WORKERS", "processes") != "threads"
            _default = WorkerPool(default_max_jobs(), processes=processes)
        return _default


def warm_up() -> None:
    """Start the server's pool in the background, so the first Play finds its workers ready
    and no page waits for them to import torch."""
    threading.Thread(target=default_pool, name="start-workers", daemon=True).start()


@atexit.register
def shutdown(timeout: float = 5.0) -> None:
    """Stop the default pool's workers cleanly (server shutdown)."""
    with _default_lock:
        pool = _default
    if pool is not None:
        pool.close(timeout)
