"""The bundled digit reader: a small CNN trained for drawn digits, shipped with the app.

Made by scripts/train_digit_reader.py; loaded with the same safe loader as uploads.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from playground import checkpoints
from playground.checkpoints import Predictor

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "datasets" / "digit_reader.pt"
RECORD = ROOT / "datasets" / "digit_reader.json"      # the training script's recipe and results
NOT_SURE_BELOW = 0.6      # a reading less confident than this is shown as "not sure"
NAME = "the bundled digit reader"


class ReaderMissingError(FileNotFoundError):
    """The bundled weights file is not there."""


@functools.lru_cache(maxsize=1)
def load() -> Predictor:
    """The bundled reader (loaded once per process; read-only, safe to share)."""
    if not WEIGHTS.is_file():
        raise ReaderMissingError(f"the bundled digit reader {WEIGHTS.name} is missing: "
                                 "run scripts/train_digit_reader.py to make it")
    predictor = checkpoints.load(WEIGHTS)
    predictor.proba(np.zeros((28, 28), np.float32))     # warm up: the first pass sets up the kernels
    return predictor


def record() -> dict:
    """What the training script recorded (recipe, accuracies, time, machine); {} if none."""
    try:
        return json.loads(RECORD.read_text())
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class Reading:
    """One model's reading of one 28x28 digit."""
    probabilities: np.ndarray

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def sure(self) -> bool:
        return self.confidence >= NOT_SURE_BELOW


def read(predictor: Predictor, image: np.ndarray) -> Reading:
    return Reading(predictor.proba(image)[0])
