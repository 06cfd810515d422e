"""Build datasets/mnist_sample.npz: 6,000 training digits (600 per class) and 1,000 test digits
(100 per class), the first ones of each class in the official order, from the four IDX files.

    .venv/bin/python scripts/build_mnist_sample.py --data-dir ../shared/mnist
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasets.mnist import SAMPLE, MnistError, read_idx  # noqa: E402


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    picks = [np.flatnonzero(labels == digit)[:per_class] for digit in range(10)]
    return np.sort(np.concatenate(picks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "mnist"))
    parser.add_argument("--train-per-class", type=int, default=600)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--out", default=str(SAMPLE), help="where to write the .npz")
    args = parser.parse_args()
    folder = Path(args.data_dir)
    try:
        x_train, y_train = read_idx(folder / "train-images-idx3-ubyte.gz"), read_idx(folder / "train-labels-idx1-ubyte.gz")
        x_test, y_test = read_idx(folder / "t10k-images-idx3-ubyte.gz"), read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    except MnistError as e:
        sys.exit(f"{folder}: {e}")
    train, test = first_per_class(y_train, args.train_per_class), first_per_class(y_test, args.test_per_class)
    out = Path(args.out)
    np.savez_compressed(out, x_train=x_train[train], y_train=y_train[train],
                        x_test=x_test[test], y_test=y_test[test])
    size = out.stat().st_size
    print(f"{out}: {len(train)} train + {len(test)} test digits, {size:,} bytes")
    if size > 2 * 1024 * 1024:
        sys.exit(f"{out} is over the 2 MB budget; use fewer digits per class")


if __name__ == "__main__":
    main()
