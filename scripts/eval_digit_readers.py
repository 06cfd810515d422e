"""Measure the bundled digit reader and every MNIST preset on MNIST test and the drawn-digit sets.

    .venv/bin/python scripts/eval_digit_readers.py --data-dir ../shared/mnist

Trains each MNIST preset on the full set (its own settings, seed 0, CPU; cached as .pt files
under --cache-dir), then prints one markdown row per model: MNIST test accuracy, accuracy on
each drawn set (datasets/drawn_digits.npz, scripts/build_drawn_sets.py), and how often
letters and scribbles get "not sure" (confidence below playground.reader.NOT_SURE_BELOW).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playground import checkpoints, reader  # noqa: E402
from playground import config as cfg  # noqa: E402
from playground.checkpoints import Predictor  # noqa: E402

SETS = ROOT / "datasets" / "drawn_digits.npz"


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    from datasets import mnist
    split = mnist.load(args.data_dir, download=False)
    sets = load_sets()
    models = {"Digit reader (bundled)": reader.load()}
    for name in cfg.MNIST_PRESETS:
        models[name] = trained_preset(name, split, Path(args.cache_dir))
    rows = {name: measure(predictor, split, sets) for name, predictor in models.items()}
    print_table(rows, split.used_sample)
    print(json.dumps(rows))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "mnist"))
    parser.add_argument("--cache-dir", default="/tmp/playground-presets")
    return parser.parse_args()


def load_sets() -> dict[str, np.ndarray]:
    with np.load(SETS) as data:
        return {k: data[k].astype(np.float32) / 255 if k.endswith("_x") else data[k] for k in data.files}


def trained_preset(name: str, split, cache: Path) -> Predictor:
    path = cache / (name.split(" ")[0].replace("/", "-") + f"-{len(split.train)}.pt")
    if path.is_file():
        return checkpoints.load(path)
    from playground.training import Trainer
    config = cfg.preset(name).replace(device="cpu")
    trainer = Trainer(config, split)
    trainer.run()
    cache.mkdir(parents=True, exist_ok=True)
    checkpoints.save(path, config, trainer.model, split.n_inputs, split.n_classes)
    print(f"trained {name}: {trainer.summary()['test_accuracy']}", file=sys.stderr, flush=True)
    return checkpoints.load(path)


def proba(predictor: Predictor, x: np.ndarray) -> np.ndarray:
    return np.concatenate([predictor.proba(x[i:i + 1000]) for i in range(0, len(x), 1000)])


def measure(predictor: Predictor, split, sets: dict[str, np.ndarray]) -> dict[str, float]:
    def acc(x, y) -> float:
        return round(float((proba(predictor, x).argmax(1) == y).mean()), 4)

    def unsure(x) -> float:
        return round(float((proba(predictor, x).max(1) < reader.NOT_SURE_BELOW).mean()), 4)
    row = {"mnist_test": acc(split.test.x[:, 0], split.test.y)}
    for pen_name, pen in (("thin", 12), ("canvas", 20), ("thick", 30)):
        keep = sets["redrawn_pen"] == pen
        row[f"redrawn_{pen_name}"] = acc(sets["redrawn_x"][keep], sets["redrawn_y"][keep])
    row["redrawn"] = acc(sets["redrawn_x"], sets["redrawn_y"])
    row["fonts"] = acc(sets["fonts_x"], sets["fonts_y"])
    row["mouse"] = acc(sets["mouse_x"], sets["mouse_y"])
    row["letters_not_sure"] = unsure(sets["letters_x"])
    row["scribbles_not_sure"] = unsure(sets["scribbles_x"])
    row["digits_not_sure"] = unsure(np.concatenate([sets["redrawn_x"], sets["fonts_x"], sets["mouse_x"]]))
    return row


def print_table(rows: dict[str, dict[str, float]], used_sample: bool) -> None:
    print(f"MNIST test: {'the bundled sample (1,000 digits)' if used_sample else 'the full 10,000'}")
    print("| model | MNIST test | redrawn strokes (thin / canvas / thick) | fonts | mouse paths "
          "| letters: not sure | scribbles: not sure | digits: not sure |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['mnist_test']:.2%} | {r['redrawn']:.1%} ({r['redrawn_thin']:.1%} / "
              f"{r['redrawn_canvas']:.1%} / {r['redrawn_thick']:.1%}) | {r['fonts']:.1%} | {r['mouse']:.1%} "
              f"| {r['letters_not_sure']:.1%} | {r['scribbles_not_sure']:.1%} | {r['digits_not_sure']:.1%} |")


if __name__ == "__main__":
    main()
