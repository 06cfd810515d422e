"""The bundled digit reader: the committed file, its recorded accuracy, its augmentation."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from playground import checkpoints, reader, reader_augment

ROOT = Path(__file__).resolve().parents[1]
FULL_MNIST = Path(os.environ.get("PLAYGROUND_FULL_MNIST", ROOT.parent / "shared" / "mnist"))


def test_the_bundled_file_is_small_and_loads_with_the_safe_loader():
    assert reader.WEIGHTS.stat().st_size <= 2 * 1024 * 1024
    raw = reader.WEIGHTS.read_bytes()
    predictor = checkpoints.load(raw)                          # the loader uploads go through
    assert predictor.config.dataset == "mnist" and predictor.config.model == "cnn"
    assert predictor.n_inputs == 784 and predictor.n_classes == 10
    assert torch.load(reader.WEIGHTS, weights_only=True)["format"] == checkpoints.FORMAT


def test_it_matches_its_recorded_accuracy_on_the_bundled_sample():
    record = reader.record()
    with np.load(ROOT / "datasets" / "mnist_sample.npz") as data:
        x, y = data["x_test"].astype(np.float32) / 255, data["y_test"]
    acc = float((reader.load().proba(x).argmax(1) == y).mean())
    assert abs(acc - record["sample_test_accuracy"]) <= 0.01, (acc, record["sample_test_accuracy"])
    assert acc >= 0.97


@pytest.mark.skipif(not (FULL_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason=f"the full MNIST set is not in {FULL_MNIST} (set PLAYGROUND_FULL_MNIST to its folder)")
def test_it_matches_its_recorded_accuracy_on_the_full_test_set():
    from datasets import mnist
    split = mnist.load(FULL_MNIST, download=False)
    proba = np.concatenate([reader.load().proba(split.test.x[i:i + 2000]) for i in range(0, 10_000, 2000)])
    acc = float((proba.argmax(1) == split.test.y).mean())
    assert abs(acc - reader.record()["mnist_test_accuracy"]) <= 0.002


def test_readings_say_when_they_are_not_sure():
    sure = reader.Reading(np.array([0.05, 0.9] + [0.05 / 8] * 8))
    unsure = reader.Reading(np.array([0.5, 0.4] + [0.1 / 8] * 8))
    assert sure.digit == 1 and sure.sure and sure.confidence == pytest.approx(0.9)
    assert unsure.digit == 0 and not unsure.sure


def test_the_reader_is_unsure_of_a_scribble_and_sure_of_a_digit():
    from playground import digits, drawn_sets
    zigzag = [np.array([[60, 60], [220, 80], [70, 140], [210, 150], [60, 220], [200, 230], [140, 60]], float)]
    assert not reader.read(reader.load(), drawn_sets.to_mnist_strokes(zigzag)).sure
    one = [np.array([[140, 40], [140, 240]], float)]
    reading = reader.read(reader.load(), digits.to_mnist(drawn_sets.draw_paths(one)))
    assert reading.digit == 1 and reading.sure


def test_augmentation_is_reproducible_and_keeps_images_in_range():
    x = torch.zeros(4, 1, 28, 28)
    x[:, 0, 4:24, 13:15] = 1.0                                 # four upright 1s
    y = torch.tensor([1, 1, 3, 3])
    first = reader_augment.augment(x, y, torch.Generator().manual_seed(0))
    again = reader_augment.augment(x, y, torch.Generator().manual_seed(0))
    assert torch.equal(first, again) and first.shape == x.shape
    assert first.min() >= 0 and first.max() <= 1 + 1e-6


def test_styles_give_ones_a_flag_and_leave_other_digits_alone():
    x = torch.zeros(2, 1, 28, 28)
    x[:, 0, 4:24, 13:15] = 1.0
    recipe = reader_augment.Recipe(style_share=1.0)
    styled = reader_augment.styles(x, torch.tensor([1, 3]), torch.Generator().manual_seed(0), recipe)
    assert torch.equal(styled[1], x[1])                         # a 3 is left as it was
    added = (styled[0] - x[0])[0]
    assert added.sum() > 3 and added[4:12, :13].sum() > 1       # ink to the left of the top: the flag
