"""Data for a config: the 2D toy sets, your own 2D points, or an image set (MNIST, Fashion-MNIST, CIFAR-10)."""
from __future__ import annotations

from typing import Callable

from datasets.base import Dataset, Split

__all__ = ["Dataset", "Split", "load"]


def load(config, data_dir: str | None = None,
         progress: Callable[[str, int, int | None], None] | None = None,
         download: bool = True, points=None) -> Split:
    """The train/test split a config asks for (MNIST may fall back to the bundled sample; the other
    image sets have none, and say how to get them);
    `points` (datasets.points.Points) are the data of the custom datasets."""
    if config.dataset == "mnist":
        from datasets import mnist
        return mnist.load(data_dir, download=download, progress=progress)
    if config.dataset in ("fashion_mnist", "cifar10"):
        import importlib
        module = importlib.import_module(f"datasets.{config.dataset}")
        return module.load(data_dir, download=download, progress=progress)
    if config.dataset in ("custom", "custom_regression"):
        from datasets.points import PointsError, make_split
        if points is None or len(points) == 0:
            raise PointsError("the custom data needs your points: upload a CSV file or click points "
                              "on the plane (CLI: train --data points.csv)")
        if points.dataset != config.dataset:
            raise PointsError(f"these points are for dataset {points.dataset}, not {config.dataset}")
        return make_split(points, config.test_ratio, config.seed, config.features)
    from datasets import toy
    return toy.make_split(config.dataset, config.n_points, config.noise, config.test_ratio,
                          config.seed, config.features)
