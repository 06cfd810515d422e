"""Worker processes: a dead worker fails only its job, paused runs move between workers
exactly, idle workers give memory back, closed tabs stop, the queue says where it stands."""
import os
import signal
import time

import pytest

from playground import config as cfg
from playground import jobs as jobs_module
from playground.jobs import Job
from playground.training import Trainer
from playground.workers import WorkerPool


def toy(**overrides):
    base = dict(dataset="spiral", n_points=400, hidden=(8, 8), batch_size=16, epochs=6, device="cpu")
    return cfg.from_dict({**base, **overrides})


def solo_losses(config):
    trainer = Trainer(config)
    trainer.run()
    return [(r.train_loss, r.test_loss) for r in trainer.history]


def losses(job):
    return [(r["train_loss"], r["test_loss"]) for r in job.snapshot().history]


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def pool():
    pool = WorkerPool(2, processes=True)
    yield pool
    pool.close()


def test_workers_are_separate_processes(pool):
    pids = pool.pids()
    assert len(pids) == 2 and os.getpid() not in pids and len(set(pids)) == 2


def test_a_killed_worker_fails_its_job_only_and_is_replaced(pool):
    victim = Job(toy(epochs=10_000, seed=1), pool=pool)
    other = Job(toy(seed=2), pool=pool)
    victim.play()
    wait_for(lambda: victim.snapshot().status == "running" and victim.snapshot().steps > 0, what="victim training")
    other.play()
    pid = victim._worker.pid
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: victim.snapshot().status == "failed", what="victim failed")
    assert "killed" in victim.snapshot().message and "press Play" in victim.snapshot().message
    assert other.wait(60) and other.snapshot().status == "finished"
    assert losses(other) == solo_losses(toy(seed=2))            # the other session was untouched
    wait_for(lambda: len(pool.pids()) == 2 and pid not in pool.pids(), what="a replacement worker")
    victim.update(victim.config.replace(epochs=3))
    victim.play()                                                 # a new Play works
    assert victim.wait(60) and victim.snapshot().status == "finished"
    assert losses(victim) == solo_losses(toy(epochs=3, seed=1))
    victim.close(), other.close()


def test_a_paused_run_continues_exactly_on_another_worker(pool):
    config = toy(epochs=200, seed=7)   # enough that a fast machine cannot finish before the pause
    moving = Job(config, pool=pool)
    moving.play()
    wait_for(lambda: moving.snapshot().epoch >= 2, what="two epochs")
    first_worker = moving._worker
    moving.pause()
    assert moving.wait(10) and moving.snapshot().status == "paused"
    blocker = Job(toy(epochs=10_000, seed=8), pool=pool)
    blocker.play()                                               # takes the first free worker
    wait_for(lambda: blocker._worker is not None, what="blocker started")
    moving.play()                                                # so it goes to the other one
    wait_for(lambda: moving._worker is not None or not moving.running, what="moving started")
    assert blocker._worker is first_worker and moving._worker in (None, *pool.workers)
    assert moving._worker is not first_worker
    assert moving.wait(60) and moving.snapshot().status == "finished"
    assert losses(moving) == solo_losses(config)                 # same numbers as one unbroken run
    blocker.close(), moving.close()


def test_queue_positions_and_estimates_then_start_in_order():
    pool = WorkerPool(1, processes=True)
    try:
        first = Job(toy(epochs=40, seed=1), pool=pool)
        first.play()
        wait_for(lambda: first.snapshot().epoch >= 2, what="first's epochs")
        waiting = [Job(toy(epochs=20, seed=s), pool=pool) for s in (2, 3)]
        for job in waiting:
            job.play()
        wait_for(lambda: [j.snapshot().queue_position for j in waiting] == [1, 2], what="positions")
        wait_for(lambda: all(j.snapshot().queue_eta is not None for j in waiting), what="estimates")
        eta1, eta2 = (j.snapshot().queue_eta for j in waiting)
        assert 0 <= eta1 < eta2                         # the second also waits for the first's 20 epochs
        order = []
        while not all(j.snapshot().status == "finished" for j in waiting):
            for j in waiting:
                if j.snapshot().status not in ("queued",) and j not in order:
                    order.append(j)
            time.sleep(0.01)
            if not first.running and not any(j.running for j in waiting):
                break
        assert order == waiting
        for job in [first, *waiting]:
            job.close()
    finally:
        pool.close()


def test_an_idle_grown_worker_retires_and_a_run_still_starts():
    pool = WorkerPool(1, processes=True, retire_after=0.3, retire_growth_mb=-1)   # any idle worker retires
    try:
        first_pid = pool.pids()[0]
        wait_for(lambda: pool.pids() and pool.pids()[0] != first_pid, what="retirement", timeout=20)
        for seed in range(3):                                    # runs land before, during and after
            job = Job(toy(epochs=2, seed=seed), pool=pool)
            job.play()
            assert job.wait(60) and job.snapshot().status == "finished", job.snapshot()
            assert losses(job) == solo_losses(toy(epochs=2, seed=seed))
            job.close()
            time.sleep(0.4)
    finally:
        pool.close()


def test_a_closed_tab_stops_training_within_seconds(pool):
    job = Job(toy(epochs=10_000), pool=pool)
    tab_open = True
    job.alive = lambda: tab_open
    job.play()
    wait_for(lambda: job.snapshot().status == "running", what="running")
    assert jobs_module.reap_idle() == 0
    tab_open = False
    closed_at = time.monotonic()
    wait_for(lambda: job.snapshot().status == "paused", timeout=10, what="paused by the reaper")
    assert time.monotonic() - closed_at < jobs_module.GONE_GRACE + 3 * jobs_module.REAP_EVERY
    job.close()


def test_the_worker_sees_the_web_process_data_settings(pool, monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "no-mnist"))
    monkeypatch.setenv("PLAYGROUND_MNIST_MIRRORS", "http://127.0.0.1:9/")
    job = Job(cfg.from_dict(dict(dataset="mnist", epochs=1, hidden=(16,), device="cpu")), pool=pool)
    job.step()
    assert job.wait(120)
    snap = job.snapshot()
    assert snap.status == "finished" and snap.used_sample and "sample" in snap.data_source
    assert snap.mnist.images.shape == (len(snap.mnist.labels), 1, 28, 28) and not snap.mnist.images.flags.writeable
    job.close()
