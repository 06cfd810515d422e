"""A classroom on one server: many sessions at once in worker processes, no cross-talk, nothing leaked."""
import gc
import threading
import time

import pytest

from playground import config as cfg
from playground.jobs import Job
from playground.training import Trainer
from playground.workers import WorkerPool

DATASETS = ["xor", "quadrants", "prod", "circle", "gauss", "spiral"]


def session_config(i: int) -> cfg.Config:
    return cfg.from_dict(dict(dataset=DATASETS[i % 6], seed=100 + i, n_points=300, hidden=(8, 4),
                              dropout=0.1 if i % 4 == 0 else 0.0, batch_size=16, epochs=6, device="cpu"))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def wait_all(jobs, status="finished", timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(j.snapshot().status == status for j in jobs):
            return
        time.sleep(0.05)
    raise AssertionError([j.snapshot().status for j in jobs])


def test_twelve_sessions_match_their_solo_runs_and_respect_the_limit(most_running):
    configs = [session_config(i) for i in range(12)]
    solo = []
    for c in configs:
        trainer = Trainer(c)
        trainer.run()
        solo.append([(r.train_loss, r.test_loss) for r in trainer.history])

    pool = WorkerPool(4, processes=True)
    gc.collect()
    memory_before = rss_mb()
    jobs = [Job(c, pool=pool) for c in configs]
    with most_running(pool) as most:
        for job in jobs:
            job.play()
        wait_all(jobs)

    assert 1 <= most[0] <= 4
    for job, expected in zip(jobs, solo):
        got = [(r["train_loss"], r["test_loss"]) for r in job.snapshot().history]
        assert len(got) == len(expected)
        for (a, b), (c, d) in zip(got, expected):
            assert abs(a - c) < 1e-5 and abs(b - d) < 1e-5
        assert job.snapshot().config.dataset in DATASETS
    for job in jobs:
        job.close()
    del jobs
    gc.collect()
    assert rss_mb() - memory_before < 150     # the web side holds light handles only
    pool.close()


@pytest.mark.slow
def test_soak_start_pause_reset_cycles_leak_no_threads():
    """200 Play / Pause / Reset actions on 8 sessions: no thread, memory or worker left behind,
    no run failed, and the runs really trained in between (not only queued and cancelled)."""
    pool = WorkerPool(2, processes=True)
    baseline = {t.ident for t in threading.enumerate()}
    memory_before = rss_mb()
    sessions = [Job(session_config(i).replace(epochs=10_000), pool=pool) for i in range(8)]
    every_job = list(sessions)
    for cycle in range(200):
        i = cycle % len(sessions)
        job = sessions[i]
        job.play()
        time.sleep(0.005 if cycle % 20 else 0.3)   # now and then long enough to train a while
        if cycle % 3 == 0:
            job.pause()
        else:                               # Reset: a new job replaces the old one
            job.close()
            sessions[i] = Job(session_config(i).replace(epochs=10_000), pool=pool)
            every_job.append(sessions[i])
    for job in sessions:
        job.pause()
    for job in sessions:
        assert job.wait(10)
    statuses = [job.snapshot().status for job in every_job]
    assert not {"failed", "diverged"} & set(statuses), statuses
    assert sum(job.snapshot().steps for job in every_job) > 0          # something trained
    for job in sessions:
        job.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t.ident not in baseline and t.name != "job-reaper"]   # one per process
        if not extra and pool.running == 0:
            break
        time.sleep(0.05)
    assert extra == []
    assert pool.running == 0 and pool.waiting == 0
    assert all(w.process.is_alive() for w in pool.workers)
    del every_job, sessions
    gc.collect()
    assert rss_mb() - memory_before < 100     # the web side: light handles, all closed
    pool.close()
