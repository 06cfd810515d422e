"""The GPU side of the job system (skipped without CUDA): each worker process trains on the GPU in
its own CUDA context, a class's jobs on one GPU match their solo runs, a killed GPU worker fails
only its job, and jobs in threads of one process (PLAYGROUND_WORKERS=threads) share the GPU safely
(eagerly: a CUDA graph capture needs its process to itself)."""
import os
import signal
import time

import pytest
import torch

from playground import config as cfg
from playground.jobs import Job
from playground.training import Trainer
from playground.workers import WorkerPool

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

DATASETS = ["xor", "spiral", "circle", "gauss"]


def toy(i: int, **overrides) -> cfg.Config:
    base = dict(dataset=DATASETS[i % 4], seed=300 + i, n_points=2000, hidden=(8, 8), batch_size=16, epochs=3,
                optimizer=["sgd", "adam", "rmsprop", "adamw"][i % 4], lr=0.03,
                dropout=0.1 if i % 2 else 0.0, device="cuda")
    return cfg.from_dict({**base, **overrides})


def mnist(i: int) -> cfg.Config:   # the bundled sample: the tests never see the full set
    return cfg.from_dict(dict(dataset="mnist", seed=400 + i, hidden=(64,), batch_size=64, epochs=2,
                              optimizer=["sgd", "adam"][i % 2], lr=0.01, device="cuda",
                              augment=bool(i % 2)))


def solo(config: cfg.Config) -> list[tuple[float, float]]:
    trainer = Trainer(config)
    trainer.run()
    return [(r.train_loss, r.test_loss) for r in trainer.history]


def losses(job: Job) -> list[tuple[float, float]]:
    return [(r["train_loss"], r["test_loss"]) for r in job.snapshot().history]


def close_to(got, expected, tol=1e-4) -> bool:
    return len(got) == len(expected) and all(abs(a - c) <= tol * max(1, abs(c)) and abs(b - d) <= tol * max(1, abs(d))
                                             for (a, b), (c, d) in zip(got, expected))


def wait_all(jobs, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(not j.snapshot().active and j.snapshot().status != "idle" for j in jobs):
            return
        time.sleep(0.05)
    raise AssertionError([j.snapshot().status for j in jobs])


def run_class(pool: WorkerPool, configs: list[cfg.Config], mnist_tol: float = 1e-4) -> list[Job]:
    """Every config as a job at once; each must finish on the GPU with its solo run's numbers."""
    expected = [solo(c) for c in configs]
    jobs = [Job(c, pool=pool) for c in configs]
    for job in jobs:
        job.play()
    wait_all(jobs)
    for job, want in zip(jobs, expected):
        snap = job.snapshot()
        assert snap.status == "finished", snap.message
        assert snap.device.startswith("cuda"), snap.device
        tol = mnist_tol if snap.config.dataset == "mnist" else 1e-4
        assert close_to(losses(job), want, tol), (snap.config.dataset, losses(job), want)
    return jobs


@pytest.mark.slow
def test_a_class_on_one_gpu_in_worker_processes_matches_solo_runs():
    pool = WorkerPool(4, processes=True)
    try:
        jobs = run_class(pool, [toy(i) for i in range(8)] + [mnist(i) for i in range(4)])
        assert len(set(pool.pids())) == 4 and os.getpid() not in pool.pids()
        for job in jobs:
            job.close()
    finally:
        pool.close()


@pytest.mark.slow
def test_a_killed_gpu_worker_fails_only_its_job():
    pool = WorkerPool(2, processes=True)
    try:
        victim, other = Job(toy(0, epochs=10_000), pool=pool), Job(toy(1), pool=pool)
        victim.play()
        deadline = time.monotonic() + 120
        while victim.snapshot().steps == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        other.play()
        os.kill(victim._worker.pid, signal.SIGKILL)
        wait_all([victim, other])
        assert victim.snapshot().status == "failed" and "press Play" in victim.snapshot().message
        assert other.snapshot().status == "finished" and close_to(losses(other), solo(toy(1)))
        victim.update(victim.config.replace(epochs=3))
        victim.play()
        wait_all([victim])
        assert victim.snapshot().status == "finished" and close_to(losses(victim), solo(toy(0, epochs=3)))
    finally:
        pool.close()


@pytest.mark.slow
def test_jobs_in_threads_of_one_process_share_the_gpu_safely():
    """The PLAYGROUND_WORKERS=threads layout on a GPU: memory freed in one thread while another
    captured a CUDA graph aborted the process (H200), so a run captures only while it trains alone
    in the process and otherwise runs the same K-step body eagerly: the same numbers either way,
    dropout and augmentation included (each run's own generator)."""
    pool = WorkerPool(8, processes=False)
    try:
        # MNIST's matmuls vary a little between concurrent streams
        for job in run_class(pool, [toy(i) for i in range(6)] + [mnist(i) for i in range(2)], mnist_tol=1e-2):
            job.close()
    finally:
        pool.close()
    alone = Trainer(toy(0, epochs=1))
    alone.run()
    assert alone.fast_path.startswith("cuda graph"), alone.fast_path


def continued(config, pause_at: int) -> Trainer:
    first = Trainer(config.replace(epochs=pause_at))
    first.run()
    second = Trainer(config)
    second.restore_state(first.export_state())
    second.run()
    assert "cuda graph" in second.fast_path, second.fast_path
    return second


def test_a_paused_gpu_run_continues_exactly_and_with_dropout_reproducibly():
    """A paused run continues exactly (its generator travels with export_state). With dropout, the
    continued run re-captures its graph after a few eager warm-up steps, which draw their numbers one
    step at a time where the unbroken run drew them a graph block at a time: the same pause gives
    the same numbers every time, but not the unbroken run's (docs/deploy.md says so)."""
    plain = toy(0, epochs=4, dropout=0.0)
    got = continued(plain, 2)
    assert close_to([(r.train_loss, r.test_loss) for r in got.history], solo(plain), tol=1e-6)
    noisy = toy(1, epochs=4, dropout=0.2)
    runs = [[(r.train_loss, r.test_loss) for r in continued(noisy, 2).history] for _ in range(2)]
    assert runs[0] == runs[1]
