"""Edge cases of the engine: label types and tiny classes in the metrics, which page a checkpoint
belongs to and the Predictor's own save / to_bytes, pixel normalisation and dropout worked out by
hand, and the config's small text helpers (describe, preset, conv layer messages)."""
import re
import warnings

import numpy as np
import pytest
import torch

from playground import checkpoints, evaluation, fastpath
from playground import config as cfg
from playground.checkpoints import CheckpointError, Predictor
from playground.config import ConfigError
from playground.models import Dropout, Normalize, build_model, pixel_stats


# ------------------------------------------------------------------ evaluation
def test_float_labels_count_like_whole_numbers_in_the_confusion_matrix():
    true = np.array([0.0, 1.0, 1.0, 2.0])
    pred = np.array([0.0, 1.0, 2.0, 2.0])
    cm = evaluation.confusion_matrix(true, pred, 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_torch_float_labels_count_like_whole_numbers_in_the_confusion_matrix():
    cm = evaluation.confusion_matrix(torch.tensor([2.0, 0.0, 0.0]), torch.tensor([2.0, 0.0, 1.0]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]


def test_a_class_with_a_single_example_gets_its_real_accuracy():
    # class 0: its one example right; class 1: its one example wrong; class 2: two of two right
    cm = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 2]])
    assert evaluation.per_class_accuracy(cm).tolist() == [1.0, 0.0, 1.0]


def test_a_class_without_examples_reads_zero():
    cm = np.array([[2, 0], [0, 0]])
    assert evaluation.per_class_accuracy(cm).tolist() == [1.0, 0.0]


def test_accuracy_of_an_empty_set_is_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = evaluation.accuracy(np.array([]), np.array([]))
    assert isinstance(value, float) and np.isnan(value)


def test_accuracy_of_a_single_example():
    assert evaluation.accuracy(np.array([1]), np.array([1])) == 1.0
    assert evaluation.accuracy(np.array([1]), np.array([0])) == 0.0


# ------------------------------------------------------------------ checkpoints
@pytest.fixture(scope="module")
def predictor():
    config = cfg.from_dict(dict(dataset="quadrants", hidden=(5,), features=("x1x2",)))
    model = build_model(config, 3, 4, torch.Generator().manual_seed(7))
    return Predictor.from_model(config, model, 3, 4)


POINTS = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.25], [0.75, -0.5]], np.float32)


def test_a_page_accepts_a_model_of_its_own_data(predictor):
    assert checkpoints.require_dataset(predictor, ("xor", "quadrants")) is None


def test_a_page_refuses_a_model_of_other_data_and_says_which(predictor):
    with pytest.raises(CheckpointError) as e:
        checkpoints.require_dataset(predictor, ("mnist", "fashion_mnist", "cifar10"))
    assert str(e.value) == "that model was trained on quadrants; this page trains on mnist, fashion_mnist, cifar10"


def test_a_page_with_one_dataset_names_just_that_one(predictor):
    with pytest.raises(CheckpointError) as e:
        checkpoints.require_dataset(predictor, ("mnist",))
    assert str(e.value) == "that model was trained on quadrants; this page trains on mnist"


def _same_predictor(loaded, original):
    assert loaded.config == original.config
    assert (loaded.n_inputs, loaded.n_classes) == (3, 4)
    assert np.array_equal(loaded.proba(POINTS), original.proba(POINTS))


def test_predictor_save_loads_back_the_same_predictor(predictor, tmp_path):
    path = tmp_path / "model.pt"
    predictor.save(path)
    _same_predictor(checkpoints.load(path), predictor)


def test_predictor_to_bytes_loads_back_the_same_predictor(predictor):
    _same_predictor(checkpoints.load(predictor.to_bytes()), predictor)


# ------------------------------------------------------------------ models: Normalize
def test_grey_normalize_subtracts_the_mean_and_divides_by_the_std():
    x = torch.tensor([[[[0.0, 1.0], [0.5, 0.75]]]])
    out = Normalize(0.5, 0.25)(x)
    assert torch.allclose(out, torch.tensor([[[[-2.0, 2.0], [0.0, 1.0]]]]))


def test_colour_normalize_uses_each_channel_own_mean_and_std():
    x = torch.tensor([[[[0.0, 1.0]], [[1.0, 3.0]], [[1.0, 0.5]]]])   # (1, 3, 1, 2)
    out = Normalize((0.5, 0.0, 1.0), (0.5, 2.0, 0.25))(x)
    expected = torch.tensor([[[[-1.0, 1.0]], [[0.5, 1.5]], [[0.0, -2.0]]]])
    assert torch.allclose(out, expected)


@pytest.mark.parametrize("mean, std", [(0.5, 0.25), ((0.5, 0.0, 1.0), (0.5, 2.0, 0.25))])
def test_normalize_keeps_its_statistics_out_of_the_saved_weights(mean, std):
    # older checkpoints have no such keys, and the numbers come from the config anyway
    assert list(Normalize(mean, std).state_dict()) == []


def test_a_cifar_model_saves_no_normalisation_weights():
    config = cfg.from_dict(dict(dataset="cifar10", hidden=(4,), normalize="standard"))
    keys = list(build_model(config, 3072, 10).state_dict())
    assert keys == ["2.weight", "2.bias", "4.weight", "4.bias"]


@pytest.mark.parametrize("dataset, shape", [("cifar10", (2, 3, 32, 32)), ("mnist", (2, 1, 28, 28))])
def test_normalize_keeps_the_image_shape(dataset, shape):
    assert Normalize(*pixel_stats(dataset))(torch.rand(shape)).shape == shape


def test_pixel_stats_of_a_grey_set_are_plain_numbers():
    mean, std = pixel_stats("mnist")
    assert (mean, std) == (0.1307, 0.3081)
    assert isinstance(mean, float) and isinstance(std, float)


def test_pixel_stats_of_a_colour_set_are_per_channel():
    assert pixel_stats("cifar10") == ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))


# ------------------------------------------------------------------ models: Dropout
def _no_draws(*args):
    raise AssertionError("dropout drew random numbers")


def test_dropout_zero_while_training_passes_the_input_and_draws_nothing(monkeypatch):
    monkeypatch.setattr(fastpath, "uniform", _no_draws)
    layer = Dropout(0.0)
    x = torch.tensor([1.0, -2.0, 3.0])
    assert torch.equal(layer(x), x)


def test_dropout_in_eval_mode_passes_the_input_and_draws_nothing(monkeypatch):
    monkeypatch.setattr(fastpath, "uniform", _no_draws)
    layer = Dropout(0.5).eval()
    x = torch.tensor([1.0, -2.0, 3.0])
    assert torch.equal(layer(x), x)


def test_dropout_keeps_an_element_whose_draw_equals_p_and_scales_the_kept_ones(monkeypatch):
    monkeypatch.setattr(fastpath, "uniform", lambda source, shape, device: torch.tensor([0.25, 0.25, 0.1, 0.9]))
    out = Dropout(0.25)(torch.tensor([3.0, 6.0, 3.0, -3.0]))
    assert torch.allclose(out, torch.tensor([4.0, 8.0, 0.0, -4.0]))


def test_dropout_half_keeps_about_half_scaled_by_two():
    layer = Dropout(0.5)
    layer.generator = torch.Generator().manual_seed(11)
    out = layer(torch.full((4000,), 1.5))
    kept = out != 0
    assert 0.45 < kept.float().mean().item() < 0.55
    assert torch.all(out[kept] == 3.0)


class _Drawn(Exception):
    pass


def test_dropout_on_another_device_than_its_generator_draws_from_that_device_default_one(monkeypatch):
    # the run's generator lives on the CPU; an input elsewhere (here the meta device) must draw its
    # mask on its own device from that device's default generator (source None) instead of failing
    asked = []

    def record(source, shape, device):
        asked.append((source, tuple(shape), device))
        raise _Drawn   # stop before any arithmetic on the meta device (slow the first time)

    monkeypatch.setattr(fastpath, "uniform", record)
    layer = Dropout(0.5)
    layer.generator = torch.Generator().manual_seed(0)
    with pytest.raises(_Drawn):
        layer(torch.ones(2, 3, device="meta"))
    assert asked == [(None, (2, 3), torch.device("meta"))]


def test_dropout_draws_from_its_own_generator_when_on_the_same_device(monkeypatch):
    asked = []
    monkeypatch.setattr(fastpath, "uniform",
                        lambda source, shape, device: asked.append((source, device)) or torch.ones(shape))
    layer = Dropout(0.5)
    layer.generator = gen = torch.Generator().manual_seed(0)
    layer(torch.ones(3))
    assert asked == [(gen, torch.device("cpu"))]


# ------------------------------------------------------------------ config
def test_describe_lists_the_labels_of_the_fields():
    assert cfg.describe(["batch_size", "lr", "weight_decay", "momentum"]) == \
        "batch size, learning rate, L2 (weight decay), momentum"


def test_describe_of_one_field_and_of_none():
    assert cfg.describe(["init_std"]) == "init std"
    assert cfg.describe([]) == ""


def test_an_unknown_preset_is_refused_by_name():
    with pytest.raises(ConfigError) as e:
        cfg.preset("xyz")
    assert str(e.value) == 'no preset called "xyz"'


def test_average_pooling_halves_the_map_like_max_pooling():
    assert cfg.conv_shapes(["4-3-1-avg"], (1, 28, 28)) == [(4, 14, 14)]
    assert cfg.conv_shapes(["4-3-1-max", "2-3-1-avg"], (3, 32, 32)) == [(4, 16, 16), (2, 8, 8)]


def test_average_pooling_a_one_pixel_map_is_refused():
    with pytest.raises(ConfigError, match=re.escape(
            "conv layer 1 (4-3-0-avg): its maps are 1x1 pixels, too small to pool 2x2; "
            "use pooling none, or fewer layers")):
        cfg.conv_shapes(["4-3-0-avg"], (1, 3, 3))


def test_a_kernel_too_big_for_a_non_square_map_names_height_then_width():
    # the image sets are all square; conv_shapes itself takes any (channels, height, width)
    with pytest.raises(ConfigError) as e:
        cfg.conv_shapes(["1-5-0-none"], (1, 3, 8))
    assert str(e.value) == ("conv layer 1 (1-5-0-none): its 5x5 kernel does not fit the 3x8-pixel maps it gets; "
                            "use fewer layers, a smaller kernel or more padding")


def test_conv_layers_apply_to_a_cnn_only_and_the_init_spread_to_normal_init_only():
    assert cfg.from_dict({"dataset": "mnist", "model": "cnn"}).applies("conv")
    assert not cfg.from_dict({"dataset": "mnist", "model": "mlp"}).applies("conv")
    assert cfg.from_dict({"init": "normal"}).applies("init_std")
    assert not cfg.from_dict({"init": "xavier"}).applies("init_std")


def test_the_cli_help_groups_the_flags_and_shows_choices_types_and_defaults():
    import argparse
    parser = argparse.ArgumentParser(prog="playground train")
    cfg.add_cli_flags(parser)
    titles = [g.title for g in parser._action_groups]
    assert {"data", "network", "training"} <= set(titles)
    actions = {a.dest: a for a in parser._actions}
    activation = actions["activation"]
    assert activation.metavar == "STRS" and activation.default is None
    assert activation.help.endswith(f" [choices: {', '.join(cfg.ACTIVATIONS)}] (default: tanh)")
    lr = actions["lr"]
    assert lr.metavar == "FLOAT" and "[choices:" not in lr.help and lr.help.endswith(")")
    assert lr.help == f"{cfg.KNOBS['lr'].help} (default: {cfg.format_value('lr', cfg.DEFAULTS['lr'])})"
