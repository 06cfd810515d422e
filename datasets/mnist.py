"""MNIST from the four standard IDX files: find, download (md5-checked, atomic), read, or the sample."""
from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import math
import os
import tempfile
import threading
import urllib.request
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
from filelock import FileLock

from datasets.base import Dataset, Split

log = logging.getLogger(__name__)

FILES = {  # name -> md5 of the official .gz (as torchvision lists them)
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# torchvision's mirrors; PLAYGROUND_MNIST_MIRRORS (space-separated URLs) replaces them, e.g. a local one.
MIRRORS = tuple(os.environ.get("PLAYGROUND_MNIST_MIRRORS", "").split()) or (
    "https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
SAMPLE = Path(__file__).with_name("mnist_sample.npz")
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
Progress = Callable[[str, int, "int | None"], None]

_cache: dict[str, Split] = {}      # decoded arrays per folder: read-only, shared by sessions
_cache_lock = threading.Lock()


class MnistError(ValueError):
    """The MNIST files are missing, damaged, or could not be downloaded."""


# ------------------------------------------------------------------ reading
def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (.gz or raw) as a uint8 array, checking its header against its size."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzip, whatever the name says
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise MnistError(f"{path.name}: not found in {path.parent}") from None
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise MnistError(f"{path.name}: cannot be read, the file is damaged ({e})") from None
    if len(raw) < 8:
        raise MnistError(f"{path.name}: too short to be an IDX file")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IMAGE_MAGIC, LABEL_MAGIC):
        raise MnistError(f"{path.name}: not an MNIST IDX file (magic number {magic}, expected 2051 or 2049)")
    n_dims = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(n_dims)]
    header = 4 + 4 * n_dims
    expected = header + math.prod(dims)
    if len(raw) != expected:
        raise MnistError(f"{path.name}: truncated or damaged ({len(raw)} bytes, expected {expected})")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def cache_dir(name: str = "mnist") -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "neural-playground" / name


def search_dirs(data_dir: str | os.PathLike | None = None, subfolder: str = "") -> list[Path]:
    """Where to look, in order: the argument, $PLAYGROUND_DATA_DIR (its `subfolder`), the cache.

    MNIST uses $PLAYGROUND_DATA_DIR itself; the other sets (Fashion-MNIST, CIFAR-10) a subfolder of it.
    """
    env = os.environ.get("PLAYGROUND_DATA_DIR")
    candidates = (data_dir, env and Path(env) / subfolder, cache_dir(subfolder or "mnist"))
    return [Path(c) for c in candidates if c]


def find_dir(data_dir: str | os.PathLike | None = None, names=None, subfolder: str = "") -> Path | None:
    """The first of `search_dirs` holding all the files `names` (default: the four MNIST files)."""
    names = names or FILES
    for candidate in search_dirs(data_dir, subfolder):
        if all((candidate / name).is_file() for name in names):
            return candidate
    return None


def read_dir(folder: Path, name: str = "mnist", title: str = "MNIST", noun: str = "digits") -> Split:
    """The four IDX files of `folder` as a Split named `name` (Fashion-MNIST shares the format)."""
    key = f"{name}:{folder.resolve()}"
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    x_train, y_train = read_idx(folder / "train-images-idx3-ubyte.gz"), read_idx(folder / "train-labels-idx1-ubyte.gz")
    x_test, y_test = read_idx(folder / "t10k-images-idx3-ubyte.gz"), read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    split = _split(x_train, y_train, x_test, y_test, used_sample=False,
                   source=f"full {title}: {len(y_train):,} training + {len(y_test):,} test {noun}",
                   name=name, title=title)
    with _cache_lock:
        _cache[key] = split
    return split


def _split(x_train, y_train, x_test, y_test, used_sample: bool, source: str,
           name: str = "mnist", title: str = "MNIST") -> Split:
    for images, labels, which in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        _check_pair(images, labels, f"{title} {which}")

    def part(x: np.ndarray, y: np.ndarray) -> Dataset:
        images = (x.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
        images.flags.writeable = False
        labels = y.astype(np.int64)
        labels.flags.writeable = False
        return Dataset(name, images, labels, "multiclass", 10)
    return Split(part(x_train, y_train), part(x_test, y_test), used_sample=used_sample, source=source)


def _check_pair(images: np.ndarray, labels: np.ndarray, which: str) -> None:
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise MnistError(f"{which} images must be 28x28, got shape {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise MnistError(f"{which} set: {len(images)} images but labels of shape {labels.shape}")
    if len(labels) and labels.max() > 9:
        raise MnistError(f"{which} labels must be classes 0-9, found {labels.max()}")


def load_sample(reason: str = "") -> Split:
    try:
        with np.load(SAMPLE) as data:
            arrays = [data[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except (OSError, ValueError, KeyError) as e:
        raise MnistError(f"the bundled sample {SAMPLE.name} is missing or damaged ({e}); "
                         "rebuild it with scripts/build_mnist_sample.py") from None
    note = f" (full MNIST could not be loaded: {reason})" if reason else ""
    return _split(*arrays, used_sample=True,
                  source=f"bundled sample: {len(arrays[1]):,} training + {len(arrays[3]):,} test digits{note}")


def load(data_dir: str | os.PathLike | None = None, download: bool = True, progress: Progress | None = None,
         allow_sample: bool = True) -> Split:
    """The full set if it can be found or downloaded, else the bundled sample (said so)."""
    target = Path(data_dir) if data_dir else cache_dir()   # where a download goes
    try:
        return _read_or_fetch(find_dir(data_dir), target, download, progress)
    except (MnistError, OSError) as e:
        reason = str(e)
    if not allow_sample:
        raise MnistError(reason)
    log.warning("using the bundled MNIST sample: %s", reason)
    return load_sample(reason)


def _read_or_fetch(folder: Path | None, target: Path, download: bool, progress: Progress | None) -> Split:
    if folder is not None:
        try:
            return read_dir(folder)
        except MnistError:
            if not (download and folder == target):
                raise   # $PLAYGROUND_DATA_DIR is the user's own copy: report, never rewrite
            # else: a damaged earlier download, which fetch repairs
    if not download:
        raise MnistError("no MNIST files found, and downloading is off")
    fetch(target, progress)
    return read_dir(target)


# ------------------------------------------------------------------ downloading
def fetch(dest: str | os.PathLike, progress: Progress | None = None, mirrors=None,
          md5s: dict[str, str] | None = None, timeout: float = 30,
          warn: Callable[[str], None] = log.warning, check: Callable[[Path], object] | None = None) -> None:
    """Make sure all files are in `dest`: damaged ones are replaced, missing ones downloaded.

    `check(path)` raises ValueError for a damaged file (default: read_idx; CIFAR-10 passes its own).
    One lock per folder, so two sessions (or processes) downloading at once do not collide.
    """
    dest = Path(dest)
    mirrors, md5s = mirrors or MIRRORS, md5s or FILES   # read now, so tests and settings can change them
    check = check or read_idx
    dest.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dest / ".download.lock")):
        for name, md5 in md5s.items():
            path = dest / name
            if path.is_file():
                try:
                    check(path)
                    continue
                except ValueError as e:   # MnistError and the other sets' errors
                    warn(f"{e}: downloading it again")
                    path.unlink()
            _download_one(name, md5, dest, mirrors, progress, timeout, check)


download = fetch


def _download_one(name: str, md5: str, dest: Path, mirrors, progress: Progress | None, timeout: float,
                  check: Callable[[Path], object] = read_idx) -> None:
    reasons = []
    for mirror in mirrors:
        try:
            _download_to(mirror + name, dest / name, md5, progress, timeout, check)
            return
        except (OSError, ValueError, http.client.HTTPException) as e:
            reasons.append(f"{mirror}: {str(e) or type(e).__name__}")
    raise MnistError(f"could not download {name}: " + "; ".join(reasons))


def _download_to(url: str, path: Path, md5: str, progress: Progress | None, timeout: float,
                 check: Callable[[Path], object] = read_idx) -> None:
    """Stream into a temporary file beside `path`; rename only after the md5 matches."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(path.name, done, total)
            if total is not None and done != total:
                raise OSError(f"transfer interrupted after {done} of {total} bytes")
        if digest.hexdigest() != md5:
            raise ValueError(f"md5 mismatch (got {digest.hexdigest()}, expected {md5})")
        check(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
