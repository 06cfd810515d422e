"""The 2D generators: shapes, labels, balance, domain, determinism, splits, features."""
import numpy as np
import pytest
import torch

from datasets import toy
from playground.config import FEATURES, GENERATED_DATASETS as TOY_DATASETS, MAX_TOY_POINTS, ConfigError, n_test_points


@pytest.mark.parametrize("name", list(toy.GENERATORS))
def test_generator_shapes_and_determinism(name):
    data = toy.GENERATORS[name](401, 0.0, 7)
    assert data.x.shape == (401, 2) and data.x.dtype == np.float32 and len(data) == 401
    assert np.abs(data.x).max() <= 1.0 + 1e-6           # clean points stay in [-1, 1]^2
    again, other = toy.GENERATORS[name](401, 0.0, 7), toy.GENERATORS[name](401, 0.0, 8)
    assert np.array_equal(data.x, again.x) and np.array_equal(data.y, again.y)
    assert not np.array_equal(data.x, other.x)
    if data.task == "regression":
        assert data.y.dtype == np.float32 and np.allclose(data.y, data.x[:, 0] * data.x[:, 1], atol=1e-6)
    else:
        assert data.y.dtype == np.int64 and set(np.unique(data.y)) == set(range(data.n_classes))


@pytest.mark.parametrize("name", ["circle", "gauss", "spiral"])
def test_two_class_sets_are_balanced(name):
    counts = np.bincount(toy.GENERATORS[name](1001, 0.2, 0).y)
    assert abs(counts[0] - counts[1]) <= 1


def test_labels_follow_the_rules():
    xor = toy.xor(500, 0.0, 0)
    assert np.array_equal(xor.y, (xor.x[:, 0] * xor.x[:, 1] > 0).astype(int))
    quad = toy.quadrants(500, 0.0, 0)
    x1, x2 = quad.x[:, 0], quad.x[:, 1]
    expected = np.select([(x1 >= 0) & (x2 >= 0), (x1 < 0) & (x2 >= 0), (x1 < 0) & (x2 < 0)], [0, 1, 2], 3)
    assert np.array_equal(quad.y, expected) and quad.n_classes == 4
    assert np.abs(xor.x).min() >= toy.PADDING - 1e-6   # kept off the axes
    circle = toy.circle(500, 0.0, 0)
    radius = np.hypot(circle.x[:, 0], circle.x[:, 1])
    assert radius[circle.y == 1].max() < radius[circle.y == 0].min()


def test_noise_moves_points():
    assert not np.array_equal(toy.xor(300, 0.0, 1).x, toy.xor(300, 0.5, 1).x)
    prod = toy.prod(300, 0.5, 1)
    assert not np.allclose(prod.y, prod.x[:, 0] * prod.x[:, 1])


def test_split_sizes_and_features():
    split = toy.make_split("spiral", 1000, 0.1, 0.3, 3, ("x1sq", "sin_x2"))
    assert len(split.train) == 700 and len(split.test) == 300
    assert split.train.x.shape == (700, 4) and split.n_inputs == 4
    x = split.train.x
    assert np.allclose(x[:, 2], x[:, 0] ** 2, atol=1e-6) and np.allclose(x[:, 3], np.sin(x[:, 1]), atol=1e-6)
    with pytest.raises(ConfigError, match="dataset must be one of"):
        toy.make_split("moons", 100, 0, 0.5, 0)


def test_features_agree_on_numpy_and_torch():
    points = np.random.default_rng(0).uniform(-1, 1, (50, 2)).astype(np.float32)
    names = ("x1sq", "x2sq", "x1x2", "sin_x1", "sin_x2")
    on_numpy = toy.add_features(points, names)
    on_torch = toy.add_features(torch.from_numpy(points), names)
    assert isinstance(on_torch, torch.Tensor) and on_numpy.shape == (50, 7)
    assert np.allclose(on_numpy, on_torch.numpy(), atol=1e-6)
    assert toy.feature_names(("sin_x2", "x1sq")) == ["x1", "x2", "x1²", "sin x2"]


def test_generators_follow_the_config_order():
    assert tuple(toy.GENERATORS) == TOY_DATASETS
    assert [toy.n_classes(n) for n in TOY_DATASETS] == [toy.GENERATORS[n](20, 0, 0).n_classes for n in TOY_DATASETS]


@pytest.mark.parametrize("name", TOY_DATASETS)
def test_split_is_a_seeded_shuffle_of_all_points(name):
    split = toy.make_split(name, 301, 0.3, 0.5, 5, FEATURES)
    again = toy.make_split(name, 301, 0.3, 0.5, 5, FEATURES)
    assert np.array_equal(split.train.x, again.train.x) and np.array_equal(split.test.y, again.test.y)
    assert len(split.test) == n_test_points(301, 0.5) and len(split.train) + len(split.test) == 301
    assert split.train.x.shape[1] == 2 + len(FEATURES) and split.train.x.dtype == np.float32
    data = toy.GENERATORS[name](301, 0.3, 5)
    together = np.concatenate([split.train.x[:, :2], split.test.x[:, :2]])
    assert np.array_equal(np.sort(together, 0), np.sort(data.x, 0))     # every point, once
    assert split.source == f"generated: {name}, 301 points, noise 0.3"


def test_split_rejects_what_a_student_could_mistype():
    with pytest.raises(ConfigError, match="points must be from 2"):
        toy.make_split("xor", MAX_TOY_POINTS + 1, 0, 0.5, 0)
    with pytest.raises(ConfigError, match="noise must be from 0 to 1"):
        toy.make_split("xor", 100, 1.5, 0.5, 0)
    with pytest.raises(ConfigError, match="unknown extra feature"):
        toy.add_features(np.zeros((3, 2)), ("cos_x1",))


def test_noise_spreads_points_beyond_the_clean_square():
    for name in ("xor", "circle", "gauss"):
        assert np.abs(toy.GENERATORS[name](2000, 1.0, 0).x).max() > 1.0
