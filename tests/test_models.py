"""config -> nn.Module, init from a generator, and the output head."""
import pytest
import torch
import torch.nn.functional as F

from playground import config as cfg
from playground.models import Dropout, Head, build_model, head_for, n_outputs


def linear_sizes(model):
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]


@pytest.mark.parametrize("preset, sizes, last", [
    ("784-100-10, SGD (tutorial)", [(784, 100), (100, 10)], torch.nn.LogSoftmax),
    ("784-392-196-98-10, dropout 0.2, Adam", [(784, 392), (392, 196), (196, 98), (98, 10)], torch.nn.LogSoftmax),
])
def test_tutorial_architectures(preset, sizes, last):
    model = build_model(cfg.preset(preset), 784, 10)
    assert linear_sizes(model) == sizes
    assert isinstance(model[-1], last)
    out = model(torch.rand(5, 1, 28, 28))
    assert out.shape == (5, 10)
    assert torch.allclose(out.exp().sum(1), torch.ones(5), atol=1e-5)


def test_dropout_layers_follow_hidden_layers():
    model = build_model(cfg.preset("784-392-196-98-10, dropout 0.2, Adam"), 784, 10)
    assert sum(isinstance(m, Dropout) for m in model.modules()) == 3


@pytest.mark.parametrize("dataset, loss, n_out", [
    ("xor", "auto", 1), ("xor", "cross_entropy", 2), ("circle", "mse", 1),
    ("quadrants", "auto", 4), ("prod", "auto", 1), ("prod", "l1", 1),
])
def test_outputs_fit_the_task(dataset, loss, n_out):
    c = cfg.from_dict({"dataset": dataset, "loss": loss, "hidden": "6"})
    n_classes = {"quadrants": 4, "prod": 1}.get(dataset, 2)
    model = build_model(c, 2, n_classes)
    assert linear_sizes(model) == [(2, 6), (6, n_out)]
    assert n_outputs(c.task, n_classes, c.resolved_loss) == n_out


def test_features_add_inputs_and_cnn_builds():
    c = cfg.from_dict({"features": "x1sq,x2sq,sin_x1", "hidden": "4"})
    assert linear_sizes(build_model(c, 5, 2))[0] == (5, 4)
    cnn = build_model(cfg.preset("Small CNN (16-32 conv, Adam)"), 784, 10)
    assert cnn(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert sum(p.numel() for p in cnn.parameters()) > 10_000


def test_init_is_reproducible_from_a_generator():
    c = cfg.from_dict({"hidden": "8,8"})
    a = build_model(c, 2, 2, torch.Generator().manual_seed(1))
    b = build_model(c, 2, 2, torch.Generator().manual_seed(1))
    d = build_model(c, 2, 2, torch.Generator().manual_seed(2))
    for pa, pb, pd in zip(a.parameters(), b.parameters(), d.parameters()):
        assert torch.equal(pa, pb) and not torch.equal(pa, pd)


@pytest.mark.parametrize("init", ["xavier", "kaiming", "normal"])
def test_named_inits_zero_the_biases(init):
    model = build_model(cfg.from_dict({"init": init, "init_std": 0.05, "hidden": "256"}), 2, 2,
                        torch.Generator().manual_seed(0))
    first = model[0]
    assert torch.count_nonzero(first.bias) == 0
    if init == "normal":
        assert abs(first.weight.std().item() - 0.05) < 0.01


def test_default_init_matches_pytorch_ranges():
    model = build_model(cfg.from_dict({"hidden": "100"}), 50, 2, torch.Generator().manual_seed(0))
    bound = 1 / 50 ** 0.5
    assert model[0].weight.abs().max() <= bound + 1e-6 and model[0].bias.abs().max() <= bound + 1e-6


def test_dropout_uses_its_generator_and_is_off_in_eval():
    layer = Dropout(0.5)
    x = torch.ones(1000)
    layer.generator = torch.Generator().manual_seed(3)
    first = layer(x)
    layer.generator = torch.Generator().manual_seed(3)
    assert torch.equal(first, layer(x))
    assert 0.4 < (first == 0).float().mean() < 0.6 and set(first.unique().tolist()) == {0.0, 2.0}
    layer.eval()
    assert torch.equal(layer(x), x)


def test_head_losses_match_torch():
    out2, y2 = torch.randn(6, 2), torch.tensor([0, 1, 1, 0, 1, 0])
    bce = Head("binary", 2, "bce_with_logits")
    assert bce.loss(out2[:, :1], bce.targets(y2)) == pytest.approx(
        F.binary_cross_entropy_with_logits(out2[:, 0], y2.float()).item())
    ce = Head("binary", 2, "cross_entropy")
    assert ce.loss(out2, ce.targets(y2)) == pytest.approx(F.cross_entropy(out2, y2).item())
    probs = ce.proba(out2)
    assert probs.shape == (6, 2) and torch.allclose(probs.sum(1), torch.ones(6))
    mse4 = Head("multiclass", 4, "mse")
    out4, y4 = torch.randn(5, 4), torch.tensor([0, 1, 2, 3, 0])
    assert mse4.loss(out4, mse4.targets(y4)) == pytest.approx(
        F.mse_loss(out4.softmax(1), F.one_hot(y4, 4).float()).item())
    reg = head_for(cfg.Config(dataset="prod"), 1)
    assert reg.predict(torch.tensor([[0.3]])).item() == pytest.approx(0.3)
    assert Head("binary", 2, "bce_with_logits").predict(torch.tensor([[2.0], [-1.0]])).tolist() == [1, 0]
