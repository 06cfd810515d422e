"""CIFAR-10 from the official binary archive (no pickles): find, download (md5-checked, atomic), read.

Downloading and the folder search are MNIST's (datasets/mnist.py). There is no bundled sample:
when the archive is neither here nor downloadable, load() says plainly how to get it.
"""
from __future__ import annotations

import os
import sys
import tarfile
import threading
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from datasets import downloaded, mnist
from datasets.base import Dataset, Split
from datasets.mnist import MnistError, Progress

NAME, TITLE, SUBFOLDER = "cifar10", "CIFAR-10", "cifar10"
ARCHIVE = "cifar-10-binary.tar.gz"
FILES = {ARCHIVE: "c32a1d4ab5d03f1284b67883e8d87530"}   # name -> md5, as mnist.fetch takes them
# PLAYGROUND_CIFAR10_MIRRORS (space-separated base URLs) replaces them, e.g. a local one.
MIRRORS = tuple(os.environ.get("PLAYGROUND_CIFAR10_MIRRORS", "").split()) or ("https://www.cs.toronto.edu/~kriz/",)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "cifar-10-batches-bin/test_batch.bin"
RECORD = 1 + 3 * 32 * 32        # one label byte, then 1024 red, 1024 green, 1024 blue (rows of 32)
MAX_BATCH = 10_000 * RECORD     # the official batches; a bigger member is not CIFAR-10

_cache: dict[str, Split] = {}   # decoded arrays per folder: read-only, shared by sessions
_cache_lock = threading.Lock()


class Cifar10Error(ValueError):
    """The CIFAR-10 archive is missing, damaged, or could not be downloaded."""


Error = Cifar10Error


# ------------------------------------------------------------------ reading
def read_archive(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x_train, y_train, x_test, y_test as uint8 (n, 3, 32, 32) and (n,), read from the .tar.gz in memory."""
    path = Path(path)
    wanted = set(TRAIN_BATCHES) | {TEST_BATCH}
    batches: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:   # one pass: seeking back in a .gz would decompress it again
                name = member.name.removeprefix("./")
                if name in wanted and name not in batches:
                    batches[name] = _member_bytes(tar, member, path.name)
    except FileNotFoundError:
        raise Cifar10Error(f"{path.name}: not found in {path.parent}") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise Cifar10Error(f"{path.name}: cannot be read, the archive is damaged or cut short ({e})") from None
    missing = sorted(wanted - set(batches))
    if missing:
        raise Cifar10Error(f"{path.name}: not the CIFAR-10 binary archive, it lacks {', '.join(missing)}")
    train = [parse_batch(batches[name], name) for name in TRAIN_BATCHES]
    x_test, y_test = parse_batch(batches[TEST_BATCH], TEST_BATCH)
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo, archive: str) -> bytes:
    if not member.isfile():   # links could point anywhere: only plain files are read
        raise Cifar10Error(f"{archive}: {member.name} is not a plain file")
    if member.size > MAX_BATCH:
        raise Cifar10Error(f"{archive}: {member.name} is {member.size:,} bytes, too big for a CIFAR-10 batch")
    data = tar.extractfile(member).read()
    if len(data) != member.size:
        raise Cifar10Error(f"{archive}: {member.name} is cut short ({len(data)} of {member.size} bytes)")
    return data


def parse_batch(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One .bin batch: records of 1 label byte + 3072 pixel bytes, as (n, 3, 32, 32) images and (n,) labels."""
    if not data or len(data) % RECORD:
        raise Cifar10Error(f"{name}: {len(data):,} bytes is not a whole number of {RECORD}-byte images "
                           "(1 label + 3072 pixels): the file is damaged")
    rows = np.frombuffer(data, np.uint8).reshape(-1, RECORD)
    labels = rows[:, 0]
    if labels.max() > 9:
        raise Cifar10Error(f"{name}: labels must be classes 0-9, found {labels.max()}: the file is damaged")
    return rows[:, 1:].reshape(-1, 3, 32, 32), labels


def cache_dir() -> Path:
    """Where downloads go by default: ~/.cache/neural-playground/cifar10."""
    return mnist.cache_dir(SUBFOLDER)


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where the archive is looked for: `data_dir`, $PLAYGROUND_DATA_DIR/cifar10, the cache."""
    return mnist.search_dirs(data_dir, SUBFOLDER)


def find_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first of `search_dirs` that holds the archive, or None."""
    return mnist.find_dir(data_dir, names=FILES, subfolder=SUBFOLDER)


def read_dir(folder: Path) -> Split:
    """The archive in `folder`, decoded once per process and then shared."""
    key = str(Path(folder).resolve())
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    x_train, y_train, x_test, y_test = read_archive(Path(folder) / ARCHIVE)
    split = Split(_part(x_train, y_train), _part(x_test, y_test), used_sample=False,
                  source=f"{TITLE}: {len(y_train):,} training + {len(y_test):,} test images")
    with _cache_lock:
        _cache[key] = split
    return split


def _part(x: np.ndarray, y: np.ndarray) -> Dataset:
    images = x.astype(np.float32)
    images /= 255.0   # in place: the training images take 600 MB as float32
    images.flags.writeable = False
    labels = y.astype(np.int64)
    labels.flags.writeable = False
    return Dataset(NAME, images, labels, "multiclass", 10)


# ------------------------------------------------------------------ downloading and loading
def fetch(dest: str | os.PathLike | None = None, progress: Progress | None = None, mirrors=None,
          md5s: dict[str, str] | None = None, timeout: float = 30,
          warn: Callable[[str], None] = mnist.log.warning) -> None:
    """Download the archive into `dest` (default: the cache) unless a good one is there, md5-checked."""
    try:
        mnist.fetch(dest or cache_dir(), progress, mirrors=mirrors or MIRRORS, md5s=md5s or FILES,
                    timeout=timeout, warn=warn, check=read_archive)
    except MnistError as e:
        raise Cifar10Error(str(e)) from None


def load(data_dir: str | os.PathLike | None = None, download: bool = True,
         progress: Progress | None = None) -> Split:
    """The full set, found or downloaded; else Cifar10Error saying how to get it."""
    return downloaded.load(sys.modules[__name__], data_dir, download, progress)


def replace_hint() -> str:
    return f"Replace {ARCHIVE} with a fresh copy from {MIRRORS[0]}"


def missing_message(data_dir, target: Path, reason: str) -> str:
    places = ", ".join(str(p) for p in search_dirs(data_dir))
    return (f"{TITLE} is not on this machine: its archive {ARCHIVE} was not found in {places}, "
            f"and {reason}. To get it, download {MIRRORS[0]}{ARCHIVE} (about 160 MB) and put it in {target}, "
            f"or set PLAYGROUND_DATA_DIR to a folder whose '{SUBFOLDER}' subfolder holds it.")
