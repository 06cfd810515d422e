"""Trainer: loss goes down, reproducible, steps and epochs, stop from another thread, divergence."""
import math
import threading
import time

import pytest
import torch

from playground import augment
from playground import config as cfg
from playground.training import Trainer


def small(**overrides):
    base = dict(dataset="xor", n_points=400, hidden=(8,), activation=("tanh",), lr=0.03,
                batch_size=16, epochs=5, device="cpu")
    return cfg.from_dict({**base, **overrides})


def test_loss_goes_down_and_history_is_recorded():
    trainer = Trainer(small(epochs=30))
    assert trainer.run() == "finished"
    first, last = trainer.history[0], trainer.history[-1]
    assert len(trainer.history) == 30 and last.epoch == 30
    assert last.train_loss < first.train_loss and last.test_loss < first.test_loss
    assert last.test_acc > 0.9 and 0 <= last.train_acc <= 1
    assert last.steps == trainer.steps == 30 * math.ceil(200 / 16)
    summary = trainer.summary()
    assert summary["status"] == "ok" and summary["steps_per_second"] > 0


def test_same_seed_same_run_on_cpu():
    a, b = Trainer(small(dropout=0.2)), Trainer(small(dropout=0.2))
    a.run(), b.run()
    assert [r.train_loss for r in a.history] == [r.train_loss for r in b.history]
    c = Trainer(small(seed=1))
    c.run()
    assert [r.train_loss for r in a.history] != [r.train_loss for r in c.history]


def test_steps_and_partial_batches():
    trainer = Trainer(small(batch_size=64))     # 200 training points: 3 full batches + 8
    trainer.step(2)
    assert trainer.steps == 2 and trainer.epoch == 0
    trainer.step(2)
    assert trainer.epoch == 1 and trainer.steps == 4
    trainer.run_epoch()
    assert trainer.epoch == 2 and trainer.steps == 8
    dropping = Trainer(small(batch_size=64, drop_last=True))
    dropping.run_epoch()
    assert dropping.steps == 3


def test_regression_has_no_accuracy():
    trainer = Trainer(small(dataset="prod", epochs=3))
    trainer.run()
    assert trainer.history[-1].test_acc is None and trainer.history[-1].test_loss < 1


def test_stop_from_another_thread_then_continue():
    trainer = Trainer(small(epochs=10_000))
    thread = threading.Thread(target=trainer.run)
    thread.start()
    time.sleep(0.5)
    trainer.stop()
    thread.join(5)
    assert not thread.is_alive() and trainer.status == "stopped"
    epochs = trainer.epoch
    trainer.run(epochs=epochs + 2)
    assert trainer.epoch == epochs + 2


def test_divergence_keeps_last_good_weights_and_explains():
    config = small(dataset="prod", hidden=(64, 64), activation=("relu",), optimizer="sgd", lr=10.0,
                   epochs=50)
    trainer = Trainer(config)
    assert trainer.run() == "diverged"
    assert "too high" in trainer.message and "Try 1 (10x smaller)" in trainer.message
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    assert trainer.summary()["status"] == "diverged"
    trainer.recover(config.replace(lr=0.01))
    assert trainer.run(epochs=trainer.epoch + 1) in ("paused", "finished")
    assert math.isfinite(trainer.history[-1].train_loss)


def test_live_hyperparameter_changes():
    trainer = Trainer(small(optimizer="sgd", lr=0.1))
    trainer.step(3)
    trainer.set_hparams(trainer.config.replace(lr=0.5, momentum=0.9))
    group = trainer.optimizer.param_groups[0]
    assert group["lr"] == 0.5 and group["momentum"] == 0.9
    trainer.set_hparams(trainer.config.replace(optimizer="adam", lr=0.01, momentum=0.0))
    assert isinstance(trainer.optimizer, torch.optim.Adam)
    trainer.run()
    assert trainer.status == "finished"


def test_l1_shrinks_weights():
    plain, sparse = Trainer(small(epochs=20)), Trainer(small(epochs=20, l1=0.01))
    plain.run(), sparse.run()
    norm = lambda t: sum(p.abs().sum().item() for p in t.model.parameters())  # noqa: E731
    assert norm(sparse) < norm(plain)


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["xor", "quadrants"])
def test_default_preset_learns_the_classification_sets(dataset):
    # The app's default (8-8 tanh, Adam): 0.98 on 9 of 10 seeds in BENCHMARKS.md; one here (make test time).
    for seed in (0,):
        trainer = Trainer(cfg.from_dict(dict(dataset=dataset, seed=seed, device="cpu")))
        trainer.run()
        assert trainer.history[-1].test_acc >= 0.98, (dataset, seed)


def test_augmentation_is_random_but_reproducible():
    x = torch.zeros(4, 1, 28, 28)
    x[:, :, 8:20, 12:16] = 1.0
    a = augment.digits(x, torch.Generator().manual_seed(0))
    b = augment.digits(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == x.shape
    assert not torch.equal(a, x) and a.min() >= 0 and a.max() <= 1 + 1e-6


def test_graph_fast_path_bookkeeping_matches_eager():
    # The K-step body a CUDA graph captures, run eagerly on the CPU: same steps, same numbers.
    eager = Trainer(small(batch_size=8, epochs=3), fast_path="eager")
    blocks = Trainer(small(batch_size=8, epochs=3), fast_path="emulate")
    eager.run(), blocks.run()
    assert blocks.fast_path.startswith("emulated graph")
    assert blocks.steps == eager.steps == 3 * 25          # warm-up steps count, nothing runs past the epoch
    assert [r.train_loss for r in blocks.history] == [r.train_loss for r in eager.history]
    assert [r.test_acc for r in blocks.history] == [r.test_acc for r in eager.history]
    assert [r.steps for r in blocks.history] == [25, 50, 75]
    for p, q in zip(blocks.model.parameters(), eager.model.parameters()):
        assert torch.equal(p, q)


def test_graph_steps_draw_their_random_numbers_from_the_runs_own_generator():
    # Dropout in the K-step body reads per-replay buffers filled from the run's generator (the
    # emulated graph is the captured body run eagerly): same seed, same run; a paused run goes on
    # exactly; each replay gets fresh numbers.
    config = small(batch_size=8, epochs=4, dropout=0.3)
    runs = [Trainer(config, fast_path="emulate") for _ in range(2)]
    refills = []
    refill = runs[0].draws.refill
    runs[0].draws.refill = lambda: (refills.append(1), refill())
    for t in runs:
        t.run()
    assert len(refills) == 4          # 25 steps an epoch: one 16-step replay each, the rest eager
    assert runs[0].fast_path.startswith("emulated graph") and runs[0].draws.buffers
    assert [r.train_loss for r in runs[0].history] == [r.train_loss for r in runs[1].history]
    first = Trainer(config.replace(epochs=2), fast_path="emulate")
    first.run()
    second = Trainer(config, fast_path="emulate")
    second.restore_state(first.export_state())
    second.run()
    assert [r.train_loss for r in second.history] == [r.train_loss for r in runs[0].history]
    buffer = runs[0].draws.buffers[0]
    before = buffer.clone()
    runs[0].draws.refill()
    assert buffer.shape[0] == 16 and not torch.equal(before, buffer)
    assert 0 <= float(buffer.min()) and float(buffer.max()) < 1


def test_a_capture_waits_for_the_process_to_itself():
    """A CUDA graph capture while another thread's run trains aborted the process (H200): a run
    captures only when it is the only one training in the process, and no run starts meanwhile."""
    import threading
    from playground import fastpath
    with fastpath.one_run():
        with fastpath.process_to_itself():           # alone: its own run does not count
            pass
        other_started, release = threading.Event(), threading.Event()

        def other_run():
            with fastpath.one_run():
                other_started.set()
                release.wait(5)

        thread = threading.Thread(target=other_run)
        thread.start()
        assert other_started.wait(5)
        with pytest.raises(fastpath.NotCapturable, match="other runs train"):
            with fastpath.process_to_itself():
                pass
        release.set()
        thread.join(5)
    with fastpath.process_to_itself():               # a trainer outside any worker, all runs done
        pass
