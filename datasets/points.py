"""Your own 2D data: points from a CSV file (x1,x2,label or x1,x2,target) or clicked on the plane.

Points live in the plane the toy sets use: a file's coordinates are rescaled, each to fill [-1, 1]. Labels are classes 0..k-1; targets are
any finite numbers (regression). Every problem with a file is a PointsError that says which
line and what to do.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from datasets.base import Dataset, Split
from playground.config import MAX_TOY_POINTS, ConfigError, n_test_points

MIN_POINTS = 10            # the smallest data set a config accepts (n_points)
MAX_CLASSES = 10
MAX_FILE_BYTES = 2_000_000
DATASET_FOR_TASK = {"classes": "custom", "regression": "custom_regression"}
HEADERS = {"label": "classes", "target": "regression"}


class PointsError(ConfigError):
    """A points file (or a list of points) that cannot be used; the message says why."""


@dataclass(frozen=True, eq=False)
class Points:
    """x: float32 (n, 2) in the plane; y: int64 class labels or float32 targets."""
    x: np.ndarray
    y: np.ndarray
    task: str                  # "classes" or "regression"

    def __len__(self) -> int:
        return len(self.y)

    @property
    def dataset(self) -> str:
        """The config's dataset name for these points."""
        return DATASET_FOR_TASK[self.task]

    @property
    def n_classes(self) -> int:
        return 1 if self.task == "regression" else max(2, int(self.y.max()) + 1 if len(self.y) else 2)

    @property
    def digest(self) -> str:
        """Short fingerprint: equal points, equal digest (cache keys, "did the data change?")."""
        h = hashlib.sha1(self.task.encode())
        h.update(np.ascontiguousarray(self.x, np.float32).tobytes())
        h.update(np.ascontiguousarray(self.y).tobytes())
        return h.hexdigest()[:12]

    def to_csv(self) -> str:
        """x1,x2,label (or target), each float32 written so that it reads back exactly."""
        def exact(v) -> str:
            return np.format_float_positional(np.float32(v), unique=True, trim="-")
        fmt = exact if self.task == "regression" else (lambda v: str(int(v)))
        rows = [f"x1,x2,{'target' if self.task == 'regression' else 'label'}"]
        rows += [f"{exact(a)},{exact(b)},{fmt(v)}" for (a, b), v in zip(self.x, self.y)]
        return "\n".join(rows) + "\n"


def empty(task: str = "classes") -> Points:
    return Points(np.zeros((0, 2), np.float32), np.zeros(0, np.int64 if task == "classes" else np.float32), task)


def add(points: Points, x1: float, x2: float, value: float) -> Points:
    """The points with one more, at (x1, x2) in the plane, of class (or target) `value`."""
    if len(points) >= MAX_TOY_POINTS:
        raise PointsError(f"there are already {MAX_TOY_POINTS:,} points, the most allowed")
    if not (np.isfinite(x1) and np.isfinite(x2) and np.isfinite(value)):
        raise PointsError("a point needs finite coordinates and a finite value")
    if points.task == "classes" and not (float(value).is_integer() and 0 <= value < MAX_CLASSES):
        raise PointsError(f"a class is a whole number from 0 to {MAX_CLASSES - 1}, got {value:g}")
    x = np.concatenate([points.x, np.array([[x1, x2]], np.float32)])
    y = np.concatenate([points.y, np.array([value], points.y.dtype)])
    return Points(x, y, points.task)


# ------------------------------------------------------------------ reading a file
def parse_csv(data: bytes | str) -> Points:
    """Points from CSV text: `x1,x2,label` or `x1,x2,target`, the header optional."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise PointsError(f"the file is {len(data) / 1e6:.1f} MB; at most {MAX_FILE_BYTES / 1e6:.0f} MB "
                              f"({MAX_TOY_POINTS:,} points) are allowed")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PointsError("the file is not a text (CSV) file in UTF-8") from None
    data = data.removeprefix("\ufeff")       # a byte-order mark, as spreadsheet programs write
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(data)), 1) if any(c.strip() for c in row)]
    if not rows:
        raise PointsError("the file is empty: write one point per line, as x1,x2,label")
    task, rows = _header(rows)
    if not rows:
        raise PointsError("the file has a header but no points")
    if len(rows) > MAX_TOY_POINTS:
        raise PointsError(f"the file has {len(rows):,} points; at most {MAX_TOY_POINTS:,} are allowed")
    values = np.array([_numbers(n, row) for n, row in rows], np.float64)
    task = task or ("classes" if np.all(values[:, 2] == np.round(values[:, 2])) else "regression")
    if task == "classes":
        y = _labels(values[:, 2], [n for n, _ in rows])
    else:
        y = values[:, 2].astype(np.float32)
    return _checked(Points(rescale(values[:, :2]), y, task))


def _header(rows: list) -> tuple[str | None, list]:
    """The task a header names (None: no header), and the rows after it."""
    n, first = rows[0]
    try:
        [float(c) for c in first]
        return None, rows
    except ValueError:
        pass
    names = [c.strip().lower() for c in first]
    if len(names) == 3 and names[:2] == ["x1", "x2"] and names[2] in HEADERS:
        return HEADERS[names[2]], rows[1:]
    raise PointsError(f"line {n}: the header should be x1,x2,label (classes) or x1,x2,target "
                      f"(regression); got {','.join(first)[:60]}")


def _numbers(n: int, row: list[str]) -> list[float]:
    if len(row) != 3:
        what = "is missing a column" if len(row) < 3 else "has extra columns"
        raise PointsError(f"line {n} {what}: it has {len(row)}, and each point needs three: x1, x2 and "
                          f"a label (or target)")
    out = []
    for name, cell in zip(("x1", "x2", "the label/target"), row):
        try:
            value = float(cell)
        except ValueError:
            raise PointsError(f"line {n}: {name} is {cell.strip()[:20]!r}, which is not a number") from None
        if not np.isfinite(value):
            raise PointsError(f"line {n}: {name} is {cell.strip()}; every value must be a finite number")
        out.append(value)
    return out


def _labels(values: np.ndarray, lines: list[int]) -> np.ndarray:
    bad = np.flatnonzero((values != np.round(values)) | (values < 0))
    if bad.size:
        raise PointsError(f"line {lines[bad[0]]}: the label {values[bad[0]]:g} is not a class number; "
                          f"classes are 0, 1, 2 ... (use the header x1,x2,target for regression)")
    labels = values.astype(np.int64)
    present = np.unique(labels)
    if present.size < 2:
        raise PointsError(f"every point has label {present[0]}: a classifier needs at least two classes")
    if present[-1] >= MAX_CLASSES:
        raise PointsError(f"label {present[-1]} is too big: at most {MAX_CLASSES} classes, 0 to {MAX_CLASSES - 1}")
    missing = sorted(set(range(present[-1] + 1)) - set(present.tolist()))
    if missing:
        raise PointsError(f"labels must be 0 to k-1 with none skipped: no point has label {missing[0]} "
                          f"(found {', '.join(map(str, present.tolist()))})")
    return labels


def rescale(xy: np.ndarray) -> np.ndarray:
    """Each coordinate moved and scaled to fill [-1, 1] (as inputs are normalised before training:
    heights in cm beside weights in tonnes would otherwise squash the picture flat)."""
    xy = np.asarray(xy, np.float64)
    low, high = xy.min(0), xy.max(0)
    half = (high - low) / 2
    if not half.any():
        raise PointsError("all points are at the same place: they need to spread out")
    return ((xy - (low + high) / 2) / np.where(half > 0, half, 1)).astype(np.float32)


def _checked(points: Points) -> Points:
    if len(points) < MIN_POINTS:
        raise PointsError(f"there are {len(points)} points; at least {MIN_POINTS} are needed "
                          f"(some train the network, the rest test it)")
    return points


# ------------------------------------------------------------------ a train/test split
def make_split(points: Points, test_ratio: float, seed: int, features: Iterable[str] = ()) -> Split:
    """Shuffle the points with the seed and hold out n_test_points for testing (like the toy sets)."""
    from datasets.toy import add_features
    _checked(points)
    features = tuple(features)
    n = len(points)
    order = np.random.default_rng(seed + 1).permutation(n)
    n_test = n_test_points(n, test_ratio)
    task = "regression" if points.task == "regression" else "multiclass"

    def part(idx: np.ndarray) -> Dataset:
        return Dataset(points.dataset, add_features(points.x[idx], features).astype(np.float32), points.y[idx],
                       task, points.n_classes)
    what = "targets" if points.task == "regression" else f"{points.n_classes} classes"
    return Split(part(order[n_test:]), part(order[:n_test]), source=f"your points: {n}, {what}")
