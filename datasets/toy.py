"""TensorFlow-Playground-style 2D datasets: generators of the form (n_points, noise, seed) -> Dataset.

Clean points lie inside [-1, 1]^2; `noise` (0 clean .. 1 very noisy) is scaled to each set.
"""
from __future__ import annotations

from typing import Callable, Iterable, TypeVar

import numpy as np

from datasets.base import Dataset, Split
from playground.config import FEATURES, MAX_TOY_POINTS, ConfigError, n_test_points

DOMAIN = (-1.25, 1.25)      # the square shown in plots
PADDING = 0.05              # xor/quadrants keep points this far from the axes, as TF Playground does


def _binary(name: str, x: np.ndarray, y: np.ndarray) -> Dataset:
    return Dataset(name, x.astype(np.float32), y.astype(np.int64), "binary", 2)


def _away_from_axes(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.uniform(-1, 1, (n, 2))
    return x + np.sign(x) * PADDING * (np.abs(x) < PADDING)


def prod(n_points: int, noise: float, seed: int) -> Dataset:
    """Regression: target x1 * x2."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n_points, 2))
    y = x[:, 0] * x[:, 1] + noise * 0.2 * rng.standard_normal(n_points)
    return Dataset("prod", x.astype(np.float32), y.astype(np.float32), "regression", 1)


def xor(n_points: int, noise: float, seed: int) -> Dataset:
    """Class 1 where x1 and x2 have the same sign."""
    rng = np.random.default_rng(seed)
    x = _away_from_axes(rng, n_points)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return _binary("xor", x + noise * 0.25 * rng.standard_normal(x.shape), y)


def quadrants(n_points: int, noise: float, seed: int) -> Dataset:
    """Four classes: 0 top right, 1 top left, 2 bottom left, 3 bottom right."""
    rng = np.random.default_rng(seed)
    x = _away_from_axes(rng, n_points)
    right, top = x[:, 0] >= 0, x[:, 1] >= 0
    y = np.where(top, np.where(right, 0, 1), np.where(right, 3, 2))
    x = x + noise * 0.25 * rng.standard_normal(x.shape)
    return Dataset("quadrants", x.astype(np.float32), y.astype(np.int64), "multiclass", 4)


def _labels(n: int) -> np.ndarray:
    return (np.arange(n) >= (n + 1) // 2).astype(np.int64)   # balanced within one


def circle(n_points: int, noise: float, seed: int) -> Dataset:
    """Class 0 in a ring around class 1 in a disc."""
    rng = np.random.default_rng(seed)
    y = _labels(n_points)
    radius = np.where(y == 1, rng.uniform(0, 0.5, n_points), rng.uniform(0.7, 1.0, n_points))
    angle = rng.uniform(0, 2 * np.pi, n_points)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    return _binary("circle", x + noise * 0.2 * rng.standard_normal(x.shape), y)


def gauss(n_points: int, noise: float, seed: int) -> Dataset:
    """Two Gaussian blobs that overlap more as noise grows."""
    rng = np.random.default_rng(seed)
    y = _labels(n_points)
    centre = np.where(y[:, None] == 1, 0.45, -0.45)
    spread = 0.12 + 0.35 * noise
    x = np.clip(centre + spread * rng.standard_normal((n_points, 2)), -1, 1) if noise == 0 else \
        centre + spread * rng.standard_normal((n_points, 2))
    return _binary("gauss", x, y)


def spiral(n_points: int, noise: float, seed: int) -> Dataset:
    """Two interleaved spirals."""
    rng = np.random.default_rng(seed)
    y = _labels(n_points)
    t = rng.uniform(0, 1, n_points)
    radius = 0.05 + 0.95 * t
    angle = 1.75 * t * 2 * np.pi + np.pi * y
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], 1)
    return _binary("spiral", x + noise * 0.1 * rng.standard_normal(x.shape), y)


GENERATORS: dict[str, Callable[[int, float, int], Dataset]] = {
    "xor": xor, "quadrants": quadrants, "prod": prod, "circle": circle, "gauss": gauss, "spiral": spiral,
}


def n_classes(name: str) -> int:
    return {"quadrants": 4, "prod": 1}.get(name, 2)


# ------------------------------------------------------------------ extra inputs
FEATURE_LABELS = {"x1sq": "x1²", "x2sq": "x2²", "x1x2": "x1·x2", "sin_x1": "sin x1", "sin_x2": "sin x2"}
Points = TypeVar("Points")    # np.ndarray or torch.Tensor, (n, 2)


def add_features(x: Points, names: Iterable[str]) -> Points:
    """Append the named extra inputs, always in config.FEATURES order, to (n, 2) points.

    Works on numpy arrays and on torch tensors (any device), returning the same type.
    """
    names = set(names)
    unknown = names - set(FEATURES)
    if unknown:
        raise ConfigError(f"unknown extra feature {sorted(unknown)[0]!r}; choose from {', '.join(FEATURES)}")
    if not names:
        return x
    if isinstance(x, np.ndarray):
        sin, cat = np.sin, np.concatenate
    else:
        import torch   # only when given tensors: numpy callers need not load torch
        sin, cat = torch.sin, torch.cat
    x1, x2 = x[:, :1], x[:, 1:2]
    columns = {"x1sq": x1 * x1, "x2sq": x2 * x2, "x1x2": x1 * x2, "sin_x1": sin(x1), "sin_x2": sin(x2)}
    return cat([x] + [columns[name] for name in FEATURES if name in names], 1)


def feature_names(names: Iterable[str]) -> list[str]:
    """Readable names of the inputs add_features gives, for plots: ["x1", "x2", "x1²", ...]."""
    names = set(names)
    return ["x1", "x2"] + [FEATURE_LABELS[name] for name in FEATURES if name in names]


# ------------------------------------------------------------------ train/test split
def make_split(name: str, n_points: int, noise: float, test_ratio: float, seed: int,
               features: Iterable[str] = ()) -> Split:
    """Generate n_points, shuffle them with the seed, and hold out n_test_points for testing."""
    if name not in GENERATORS:
        raise ConfigError(f'dataset must be one of {", ".join(GENERATORS)}; got "{name}"')
    if not 2 <= n_points <= MAX_TOY_POINTS:
        raise ConfigError(f"points must be from 2 to {MAX_TOY_POINTS:,}, got {n_points}")
    if not 0 <= noise <= 1:
        raise ConfigError(f"noise must be from 0 to 1, got {noise:g}")
    features = tuple(features)
    data = GENERATORS[name](n_points, noise, seed)
    order = np.random.default_rng(seed + 1).permutation(n_points)
    n_test = n_test_points(n_points, test_ratio)
    test, train = order[:n_test], order[n_test:]

    def part(idx: np.ndarray) -> Dataset:
        return Dataset(name, add_features(data.x[idx], features).astype(np.float32), data.y[idx],
                       data.task, data.n_classes)
    return Split(part(train), part(test), source=f"generated: {name}, {n_points} points, noise {noise:g}")
