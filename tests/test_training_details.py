"""Gradient norms per layer: recorded on the device each step, read once per epoch, published in
the 2D snapshot (the 2D page's Training details)."""
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from playground import config as cfg
from playground.jobs import Job
from playground.training import Trainer
from playground.workers import WorkerPool


def small(**overrides):
    base = dict(dataset="xor", n_points=400, hidden=(8,), activation=("tanh",), lr=0.03,
                batch_size=16, epochs=3, device="cpu")
    return cfg.from_dict({**base, **overrides})


def linears(model):
    return [m for m in model.modules() if isinstance(m, torch.nn.Linear)]


def test_a_deep_sigmoid_net_shows_vanishing_gradients():
    trainer = Trainer(small(n_points=200, hidden=(8,) * 8, activation=("sigmoid",), epochs=4))
    trainer.run()
    norms = np.array(trainer.grad_norms)
    assert norms.shape == (4, 9) and len(trainer.history) == 4     # one row per epoch, one value per layer
    assert np.isfinite(norms).all() and (norms > 0).all()
    assert (norms[:, 0] < norms[:, -1] / 10).all()                # the first layer's: far smaller
    assert norms[-1, 0] < norms[-1, -1] / 1000                    # (orders of magnitude, in fact)


def test_one_steps_norm_is_the_weight_gradients_norm_by_hand():
    # 20 training points in one batch: an epoch is one step, and its record is that step's norms
    config = small(n_points=40, batch_size=20, hidden=(5, 3), epochs=1)
    trainer = Trainer(config)
    before = copy.deepcopy(trainer.model)
    trainer.run_epoch()
    assert trainer.steps == 1
    x = torch.as_tensor(trainer.split.train.x)
    y = torch.as_tensor(trainer.split.train.y).float()
    loss = F.binary_cross_entropy_with_logits(before(x).squeeze(1), y)   # the loss for 2 classes
    loss.backward()
    by_hand = [torch.linalg.vector_norm(m.weight.grad).item() for m in linears(before)]
    assert trainer.grad_norms == [pytest.approx(by_hand, rel=1e-5)]


def test_an_epochs_record_is_the_root_mean_square_of_its_steps():
    one_by_one, whole = Trainer(small(batch_size=100)), Trainer(small(batch_size=100))   # 2 steps an epoch
    one_by_one.step(1)
    steps = [one_by_one._read_grad_norms()]               # the first step alone (the sums start again)
    one_by_one.step(1)                                    # the second ends the epoch: its record is that step
    steps.append(one_by_one.grad_norms[0])
    whole.run_epoch()
    rms = np.sqrt(np.mean(np.square(steps), axis=0))
    assert whole.grad_norms[0] == pytest.approx(rms.tolist(), rel=1e-5)


def test_the_emulated_graph_path_records_the_same_norms():
    eager = Trainer(small(batch_size=8), fast_path="eager")
    blocks = Trainer(small(batch_size=8), fast_path="emulate")
    eager.run(), blocks.run()
    assert blocks.fast_path.startswith("emulated graph")
    assert len(eager.grad_norms) == 3 and blocks.grad_norms == eager.grad_norms


def test_a_paused_run_goes_on_with_its_sums_in_another_trainer():
    straight = Trainer(small(batch_size=8))                 # 25 steps an epoch
    straight.run()
    first = Trainer(small(batch_size=8))
    first.step(30)                                          # paused in the middle of epoch 2
    second = Trainer(small(batch_size=8))
    second.restore_state(first.export_state())
    second.run()
    assert second.grad_norms == straight.grad_norms


def test_divergence_records_no_row_and_starts_the_sums_again():
    config = small(dataset="prod", hidden=(64, 64), activation=("relu",), optimizer="sgd", lr=10.0, epochs=50)
    trainer = Trainer(config)
    assert trainer.run() == "diverged"
    assert len(trainer.grad_norms) == len(trainer.history)
    trainer.recover(config.replace(lr=0.01))
    trainer.run(epochs=trainer.epoch + 1)
    assert len(trainer.grad_norms) == len(trainer.history) and all(map(math.isfinite, trainer.grad_norms[-1]))


def test_off_for_mnist_and_on_request():
    quiet = Trainer(small(), grad_norms=False)
    quiet.run_epoch()
    assert quiet.grad_norms == [] and quiet.history
    mnist = Trainer(cfg.from_dict(dict(dataset="mnist", hidden=(16,), batch_size=64, epochs=1, device="cpu")))
    mnist.step(2)
    assert mnist._grad_sq == []


def test_the_2d_snapshot_carries_one_row_per_epoch():
    pool = WorkerPool(1, processes=False)
    try:
        job = Job(small(dataset="circle", n_points=200, hidden=(6, 4), epochs=4), pool=pool)
        job.play()
        assert job.wait(30)
        snap = job.snapshot()
        assert snap.status == "finished"
        assert snap.grad_norms.shape == (len(snap.history), 3) == (4, 3) and not snap.grad_norms.flags.writeable
        job.close()
    finally:
        pool.close()


def test_the_published_rows_grow_without_rebuilding_and_stay_put():
    from types import SimpleNamespace
    from playground.jobs import Controls, Order, Run
    run = Run(Order("j", small(), None, None), Controls(), lambda changes: None)
    trainer = SimpleNamespace(grad_norms=[])
    assert run._grad_norms_so_far(trainer) is None
    published = []
    for epoch in range(150):                              # past the buffer's first sizes
        trainer.grad_norms.append([epoch, epoch / 2, epoch / 4])
        rows = run._grad_norms_so_far(trainer)
        assert np.array_equal(rows, np.array(trainer.grad_norms, np.float32))
        assert run._grad_norms_so_far(trainer) is rows    # nothing new: the same array again
        published.append(rows)
    assert np.array_equal(published[9], np.array(trainer.grad_norms[:10], np.float32))   # earlier ones unchanged
    trainer.grad_norms = [[1.0, 2.0]]                     # another network: start again
    assert np.array_equal(run._grad_norms_so_far(trainer), [[1.0, 2.0]])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_captured_cuda_graph_records_the_eager_norms():
    config = small(batch_size=8, device="cuda")
    eager, graph = Trainer(config, fast_path="eager"), Trainer(config)
    eager.run(), graph.run()
    assert graph.fast_path.startswith("cuda graph")
    assert np.allclose(graph.grad_norms, eager.grad_norms, rtol=1e-4) and len(graph.grad_norms) == 3
