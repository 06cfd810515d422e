"""Jobs: commands and immutable snapshots, the job limit and its queue, failures.

These run the workers as threads of the test process (same protocol, so the engine can be
patched); tests/test_workers.py runs them as processes."""
import time

import numpy as np
import pytest
import torch

from playground import config as cfg
from playground import jobs as jobs_module
from playground.jobs import Job
from playground.workers import WorkerPool


def small(**overrides):
    base = dict(dataset="xor", n_points=300, hidden=(6,), batch_size=16, epochs=5, device="cpu")
    return cfg.from_dict({**base, **overrides})


def wait_for(job, statuses, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = job.snapshot()
        if snap.status in statuses:
            return snap
        time.sleep(0.02)
    raise AssertionError(f"job stayed {job.snapshot().status}, wanted {statuses}")


@pytest.fixture
def pool():
    pool = WorkerPool(4, processes=False)
    yield pool
    pool.close()


def test_play_to_the_end_publishes_immutable_snapshots(pool):
    job = Job(small(), pool=pool)
    assert job.snapshot().status == "idle"
    job.play()
    snap = wait_for(job, {"finished"})
    assert snap.epoch == 5 and len(snap.history) == 5
    assert snap.surface.shape == (jobs_module.SURFACE_SIZE, jobs_module.SURFACE_SIZE)
    assert not snap.surface.flags.writeable
    assert snap.layer_sizes == (2, 6, 1) and [w.shape for w in snap.weights] == [(6, 2), (1, 6)]
    size = jobs_module.NEURON_MAP_SIZE
    assert [m.shape for m in snap.neuron_maps] == [(2, size, size), (6, size, size)]
    assert snap.predictor is not None and snap.device == "cpu"
    with pytest.raises(Exception):
        snap.epoch = 3
    job.close()
    assert not job.running


def test_pause_resume_and_step(pool):
    job = Job(small(epochs=10_000), pool=pool)
    job.play()
    wait_for(job, {"running"})
    time.sleep(0.3)
    job.pause()
    paused = wait_for(job, {"paused"})
    time.sleep(0.3)
    assert job.snapshot().steps == paused.steps
    job.step()
    wait_for(job, {"paused"}, 10)
    deadline = time.monotonic() + 10
    while job.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.snapshot().epoch == paused.epoch + 1
    job.close()


def test_live_update_and_reset_rule(pool):
    job = Job(small(epochs=10_000, optimizer="sgd", lr=0.1), pool=pool)
    job.play()
    wait_for(job, {"running"})
    assert job.update(job.config.replace(lr=0.5))
    deadline = time.monotonic() + 5
    while getattr(job.snapshot().applied_config, "lr", None) != 0.5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.snapshot().applied_config.lr == 0.5      # the worker's trainer took it between steps
    assert not job.update(job.config.replace(hidden=(3,)))
    job.close()


def test_job_limit_queues_and_starts_in_order():
    pool = WorkerPool(1, processes=False)
    first = Job(small(epochs=10_000), pool=pool)
    second = Job(small(epochs=2), pool=pool)
    third = Job(small(epochs=2), pool=pool)
    first.play()
    wait_for(first, {"running"})
    second.play()
    third.play()
    for job, position in ((second, 1), (third, 2)):   # the worker publishes its place shortly after Play
        deadline = time.monotonic() + 5
        while job.snapshot().queue_position != position and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job.snapshot().status == "queued" and job.snapshot().queue_position == position
    assert pool.running == 1
    third.pause()                                   # leaves the queue
    assert wait_for(third, {"idle"}).queue_position is None
    first.pause()                                   # frees the slot: the second starts
    wait_for(second, {"finished"})
    assert third.snapshot().status == "idle"
    for job in (first, second, third):
        job.close()
    assert pool.running == 0 and pool.waiting == 0
    pool.close()


def test_out_of_memory_stops_only_that_job(pool, monkeypatch):
    from playground.training import Trainer
    real_step = Trainer._step

    def exploding_step(self, idx):
        if self.config.seed == 666:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20 GiB")
        return real_step(self, idx)

    monkeypatch.setattr(Trainer, "_step", exploding_step)
    doomed, healthy = Job(small(seed=666), pool=pool), Job(small(), pool=pool)
    doomed.play()
    healthy.play()
    failed = wait_for(doomed, {"failed"})
    assert "ran out of memory" in failed.message and doomed._state is None
    assert wait_for(healthy, {"finished"}).epoch == 5
    doomed.close(), healthy.close()


def test_divergence_is_shown_with_the_last_good_state(pool):
    job = Job(small(dataset="prod", hidden=(64, 64), activation=("relu",), optimizer="sgd", lr=10.0,
                    epochs=100), pool=pool)
    job.play()
    snap = wait_for(job, {"diverged"})
    assert "10x smaller" in snap.message
    assert snap.surface is not None and np.isfinite(snap.surface).all()
    job.update(job.config.replace(lr=0.001))
    job.play()                                      # continues from the last good weights
    assert wait_for(job, {"finished"}).epoch == 100
    job.close()


def test_idle_sessions_are_paused(pool):
    job = Job(small(epochs=10_000), pool=pool)
    job.play()
    wait_for(job, {"running"})
    assert jobs_module.reap_idle(now=time.monotonic() + 3600) >= 1
    wait_for(job, {"paused"})
    job.close()


def test_close_frees_the_slot_at_once(pool):
    for _ in range(5):
        job = Job(small(epochs=10_000), pool=pool)
        job.play()
        wait_for(job, {"running"})
        job.close()
        assert pool.running == 0 and not job.running


def test_a_toy_job_publishes_its_dead_units(pool):
    job = Job(small(hidden=(6, 3), activation=("relu", "tanh"), epochs=2), pool=pool)
    job.play()
    wait_for(job, ("finished",))
    snap = job.snapshot()
    assert [m.shape for m in snap.dead_units] == [(6,), (3,)] and snap.dead_units[0].dtype == bool
    assert not snap.dead_units[1].any()                          # tanh units never count as dead
    assert not snap.dead_units[0].flags.writeable
    job.close()


def test_pressing_play_on_a_page_left_open_is_not_reaped(pool):
    """A page at rest polls nothing: the session's last look may be minutes old when Play comes."""
    job = Job(small(epochs=10_000), pool=pool)
    job.last_seen -= 10 * jobs_module.IDLE_TIMEOUT                   # opened long ago, read, then Play
    job.play()
    assert jobs_module.reap_idle() == 0                               # the reaper's next round
    wait_for(job, {"running"})
    assert job.snapshot().status == "running"
    job.close()


def test_a_loaded_model_is_evaluated_then_trained_on_from_its_weights(pool):
    from playground import checkpoints
    from playground.training import Trainer
    config = small(epochs=3, seed=11)
    first = Trainer(config)
    first.run()
    saved = checkpoints.load(checkpoints.to_bytes(config, first.model, 2, 2))   # what a download gives
    job = Job(config, pool=pool, weights=saved.model.state_dict())
    job.evaluate()
    snap = wait_for(job, ("idle",))
    grid = np.random.default_rng(0).uniform(-1, 1, (50, 2)).astype(np.float32)
    assert snap.epoch == 0 and np.array_equal(snap.predictor.proba(grid), saved.proba(grid))
    job.update(config.replace(epochs=1))
    job.play()
    wait_for(job, ("finished",))
    on = Trainer(config.replace(epochs=1))                   # the same run by hand: weights, then 1 epoch
    on.model.load_state_dict(saved.model.state_dict())
    on._good = on._copy_params()
    on.run()
    assert job.snapshot().history[-1]["train_loss"] == pytest.approx(on.history[-1].train_loss, abs=1e-6)
    job.close()
