"""The shape every dataset takes, toy or MNIST."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Inputs and targets of one split.

    x: float32, (n, d) for points or (n, 1, 28, 28) for images.
    y: float32 (n,) for regression, int64 (n,) class labels otherwise.
    """
    name: str
    x: np.ndarray
    y: np.ndarray
    task: str           # "regression", "binary" or "multiclass"
    n_classes: int      # 1 for regression

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Split:
    train: Dataset
    test: Dataset
    used_sample: bool = False   # MNIST: the bundled sample stood in for the full set
    source: str = ""            # where the data came from, said to the user

    @property
    def task(self) -> str:
        return self.train.task

    @property
    def n_classes(self) -> int:
        return self.train.n_classes

    @property
    def n_inputs(self) -> int:
        return int(np.prod(self.train.x.shape[1:]))
