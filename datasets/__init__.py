"""Data for a config: the 2D toy sets or MNIST."""
from __future__ import annotations

from typing import Callable

from datasets.base import Dataset, Split

__all__ = ["Dataset", "Split", "load"]


def load(config, data_dir: str | None = None,
         progress: Callable[[str, int, int | None], None] | None = None,
         download: bool = True) -> Split:
    """The train/test split a config asks for (MNIST may fall back to the bundled sample)."""
    if config.dataset == "mnist":
        from datasets import mnist
        return mnist.load(data_dir, download=download, progress=progress)
    from datasets import toy
    return toy.make_split(config.dataset, config.n_points, config.noise, config.test_ratio,
                          config.seed, config.features)
