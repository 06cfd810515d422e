"""Conv layers in the one config declaration, the image sets' models, and their augmentation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from playground import augment, models
from playground import config as cfg
from playground.training import Trainer


def test_conv_blocks_read_short_and_full_forms():
    assert str(cfg.conv_block("16")) == "16-3-1-max"
    assert str(cfg.conv_block("16-5")) == "16-5-1-max"
    assert str(cfg.conv_block(" 8-5-2 ")) == "8-5-2-max"
    assert str(cfg.conv_block("64-3-0-GAP")) == "64-3-0-gap"
    config = cfg.from_params({"dataset": "mnist", "model": "cnn", "conv": "6-5-2,16-5-0-avg"})
    assert config.conv == ("6-5-2-max", "16-5-0-avg")
    assert cfg.from_params(cfg.to_params(config)) == config                 # the share link keeps it


@pytest.mark.parametrize("text, words", [
    ("16-3-1-pool", "pooling must be one of max, avg, none, gap"),
    ("0", "filters must be from 1 to 512, got 0"),
    ("16-12", "kernel must be from 1 to 11, got 12"),
    ("16-3-6", "padding must be from 0 to 5, got 6"),
    ("16-3-1-max-2", "each conv layer is filters-kernel-padding-pooling"),
    ("sixteen", "each conv layer is filters-kernel-padding-pooling"),
    ("\u00b2", "each conv layer is filters-kernel-padding-pooling"),        # a digit to isdigit(), not to int()
    ("8,8,8,8,8,8,8", "conv layers: at most 6 allowed, got 7"),
])
def test_bad_conv_layers_are_refused_with_a_message(text, words):
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.from_dict(dict(dataset="mnist", model="cnn", conv=text))
    assert words in str(caught.value)


def test_a_stack_too_deep_for_the_image_names_the_layer():
    # 28 -> 26 -> 13 (pool) -> 11 -> 5 -> 3 -> 1 -> a fourth 3x3 kernel has 1x1 maps
    with pytest.raises(cfg.ConfigError, match=r"conv layer 4 \(64-3-0-max\): its 3x3 kernel does not fit the "
                                              r"1x1-pixel maps"):
        cfg.from_dict(dict(dataset="mnist", model="cnn", conv="16-3-0,32-3-0,64-3-0,64-3-0"))
    # 32 -> 30 -> 15 -> 13 -> 6 -> 4 -> 2 -> 1 (pool): the same stack fits CIFAR-10's 32 pixels
    assert cfg.from_dict(dict(dataset="cifar10", model="cnn", conv="16-3-0,32-3-0,64-3-0,64-1-0")).model == "cnn"
    with pytest.raises(cfg.ConfigError, match=r"conv layer 2 \(8-3-1-max\): its maps are 1x1 pixels, too small to "
                                              r"pool"):
        cfg.from_dict(dict(dataset="mnist", model="cnn", conv="8-3-1-gap,8-3-1-max"))
    with pytest.raises(cfg.ConfigError, match="model cnn works on image data only"):
        cfg.from_dict(dict(dataset="xor", model="cnn"))


def _shapes_through(model: torch.nn.Sequential, image: tuple[int, int, int]) -> list[tuple[int, ...]]:
    """Each conv block's output shape (after its pooling), measured by running the model: the
    shape going into each later Conv2d, and into the Flatten."""
    x, shapes, seen_conv = torch.zeros(2, *image), [], False
    for layer in model:
        if seen_conv and isinstance(layer, (torch.nn.Conv2d, torch.nn.Flatten)):
            shapes.append(tuple(x.shape[1:]))
        seen_conv |= isinstance(layer, torch.nn.Conv2d)
        x = layer(x)
    return shapes


@pytest.mark.parametrize("name", [n for n, p in cfg.IMAGE_PRESETS.items()])
def test_every_image_preset_builds_with_the_shapes_it_declares(name):
    config = cfg.preset(name)
    image = cfg.IMAGE_SHAPES[config.dataset]
    model = models.build_model(config, int(np.prod(image)), 10, torch.Generator().manual_seed(0))
    out = model(torch.rand(3, *image))
    assert out.shape == (3, 10)
    if config.model == "cnn":
        assert _shapes_through(model, image) == cfg.conv_shapes(config.conv, image)
        first = next(m for m in model if isinstance(m, torch.nn.Conv2d))
        assert first.in_channels == image[0]


def test_the_tutorials_cifar_cnn_is_as_the_tutorial_describes():
    config = cfg.preset("CIFAR-10 CNN (tutorial: 64-128-128-64 conv, 64-32-10)")
    model = models.build_model(config, 3072, 10, torch.Generator().manual_seed(0))
    convs = [m for m in model if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (3, 64, (3, 3), (0, 0)), (64, 128, (3, 3), (0, 0)), (128, 128, (3, 3), (0, 0)), (128, 64, (3, 3), (0, 0))]
    assert sum(isinstance(m, torch.nn.AdaptiveAvgPool2d) for m in model) == 1
    linears = [(m.in_features, m.out_features) for m in model if isinstance(m, torch.nn.Linear)]
    assert linears == [(64, 32), (32, 10)] and config.dropout > 0 and config.optimizer == "adam"
    assert config.epochs == 10


def test_colour_normalisation_is_per_channel():
    config = cfg.from_dict(dict(dataset="cifar10", hidden=(4,)))
    model = models.build_model(config, 3072, 10, torch.Generator().manual_seed(0))
    x = torch.rand(2, 3, 32, 32)
    mean, std = torch.tensor([0.4914, 0.4822, 0.4465]), torch.tensor([0.2470, 0.2435, 0.2616])
    torch.testing.assert_close(model[0](x), (x - mean[:, None, None]) / std[:, None, None])
    assert not any("mean" in k for k in model.state_dict())               # from the config, not saved


def test_old_configs_with_channels_still_load():
    config = cfg.from_dict(dict(dataset="mnist", model="cnn", channels=[24, 48, 96]))
    assert config.conv == ("24-3-1-max", "48-3-1-max", "96-3-1-max")
    from playground import reader
    assert reader.load().config.conv == ("24-3-1-max", "48-3-1-max", "96-3-1-max")   # the bundled digit reader


def test_shift_and_flip_moves_whole_pixels_and_mirrors():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6)

    class Fixed:        # draws: dx u, dy u, mirror u for each image, in that order
        def __init__(self, values):
            self.values = list(values)

        def __call__(self, shape, device):
            return torch.tensor(self.values.pop(0))

    # padding 2: steps 5, floor(u * 5) - 2 -> u 0.9: +2, u 0.1: -2; mirror when u < 0.5
    out = augment.shift_and_flip(x, Fixed([[0.9, 0.5], [0.1, 0.5], [0.7, 0.2]]), 2)
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)))
    # image 0: dx +2, dy -2, not mirrored -> out[y, x] = in[y - 2, x + 2]
    np.testing.assert_array_equal(out[0].numpy(), padded[0, :, 0:6, 4:10])
    # image 1: dx 0, dy 0, mirrored left-right
    np.testing.assert_array_equal(out[1].numpy(), x[1].numpy()[:, :, ::-1])


def test_each_image_set_gets_its_augmentation(monkeypatch):
    seen = []
    monkeypatch.setattr(augment, "digits", lambda x, gen: seen.append("digits") or x)
    monkeypatch.setattr(augment, "shift_and_flip", lambda x, gen, padding: seen.append(padding) or x)
    for dataset in ("mnist", "fashion_mnist", "cifar10"):
        augment.images(torch.zeros(1, 1, 4, 4), dataset, None)
    assert seen == ["digits", 2, 4]


def test_a_small_cnn_learns_cifar_shaped_data_with_augmentation_reproducibly():
    from datasets.base import Dataset, Split
    rng = np.random.default_rng(0)

    def part(n):   # the class is which colour channel is bright
        y = rng.integers(0, 3, n)
        x = rng.random((n, 3, 32, 32), dtype=np.float32) * 0.3
        x[np.arange(n), y] += 0.6
        return Dataset("cifar10", x, y.astype(np.int64), "multiclass", 10)
    split = Split(part(256), part(64), source="test")
    config = cfg.from_dict(dict(dataset="cifar10", model="cnn", conv="8-3-1-avg,8-3-0-gap", hidden=(16,),
                                optimizer="adam", lr=0.01, batch_size=32, epochs=4, augment=True, device="cpu"))
    runs = [Trainer(config, split) for _ in range(2)]
    for t in runs:
        t.run()
    assert runs[0].history[-1].test_acc >= 0.9
    assert [r.train_loss for r in runs[0].history] == [r.train_loss for r in runs[1].history]
