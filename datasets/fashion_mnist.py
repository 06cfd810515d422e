"""Fashion-MNIST: MNIST's four IDX files, with clothes instead of digits (no bundled sample).

Reading, downloading and caching are MNIST's (datasets/mnist.py); this module holds the names,
md5s and mirrors, and says plainly what to do when the files are neither here nor downloadable.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable

from datasets import downloaded, mnist
from datasets.base import Split
from datasets.mnist import MnistError, Progress

NAME, TITLE, SUBFOLDER = "fashion_mnist", "Fashion-MNIST", "fashion_mnist"
FILES = {  # name -> md5 of the official .gz (as torchvision lists them)
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
# PLAYGROUND_FASHION_MNIST_MIRRORS (space-separated URLs) replaces them, e.g. a local one.
MIRRORS = tuple(os.environ.get("PLAYGROUND_FASHION_MNIST_MIRRORS", "").split()) or (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


class FashionMnistError(ValueError):
    """The Fashion-MNIST files are missing, damaged, or could not be downloaded."""


Error = FashionMnistError


def cache_dir() -> Path:
    """Where downloads go by default: ~/.cache/neural-playground/fashion_mnist."""
    return mnist.cache_dir(SUBFOLDER)


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where the files are looked for: `data_dir`, $PLAYGROUND_DATA_DIR/fashion_mnist, the cache."""
    return mnist.search_dirs(data_dir, SUBFOLDER)


def find_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first of `search_dirs` that holds all four files, or None."""
    return mnist.find_dir(data_dir, names=FILES, subfolder=SUBFOLDER)


def read_dir(folder: Path) -> Split:
    """The four files of `folder`, decoded once per process and then shared."""
    try:
        return mnist.read_dir(Path(folder), NAME, TITLE, "images")
    except MnistError as e:
        raise FashionMnistError(str(e)) from None


def fetch(dest: str | os.PathLike | None = None, progress: Progress | None = None, mirrors=None,
          md5s: dict[str, str] | None = None, timeout: float = 30,
          warn: Callable[[str], None] = mnist.log.warning) -> None:
    """Download the missing or damaged files into `dest` (default: the cache), md5-checked."""
    try:
        mnist.fetch(dest or cache_dir(), progress, mirrors=mirrors or MIRRORS, md5s=md5s or FILES,
                    timeout=timeout, warn=warn)
    except MnistError as e:
        raise FashionMnistError(str(e)) from None


def load(data_dir: str | os.PathLike | None = None, download: bool = True,
         progress: Progress | None = None) -> Split:
    """The full set, found or downloaded; else FashionMnistError saying how to get it."""
    return downloaded.load(sys.modules[__name__], data_dir, download, progress)


def replace_hint() -> str:
    return f"Replace that file with a fresh copy from {MIRRORS[0]}"


def missing_message(data_dir, target: Path, reason: str) -> str:
    places = ", ".join(str(p) for p in search_dirs(data_dir))
    return (f"{TITLE} is not on this machine: its four files ({', '.join(FILES)}) were not found "
            f"in {places}, and {reason}. To get it, download the four files from {MIRRORS[0]} and put them "
            f"in {target}, or set PLAYGROUND_DATA_DIR to a folder whose '{SUBFOLDER}' subfolder holds them.")
