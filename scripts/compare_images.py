"""An MLP against a CNN on an image set, on this machine: test accuracy and seconds per preset.

    python scripts/compare_images.py --dataset mnist --data-dir ../shared/mnist
    python scripts/compare_images.py --dataset mnist --sample          # the bundled 6,000-digit sample
    python scripts/compare_images.py --dataset cifar10 --data-dir DIR --device cuda

Prints one line per preset and, with --json, a JSON line each (for BENCHMARKS.md).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets                                   # noqa: E402
from playground import config as cfg              # noqa: E402
from playground.training import Trainer           # noqa: E402

PRESETS = {
    "mnist": ["784-100-10, SGD (tutorial)", "LeNet-style CNN (6-16 conv 5x5, 120-84, Adam)",
              "Small CNN (16-32 conv, Adam)"],
    "fashion_mnist": ["Fashion-MNIST MLP 784-100-10 (Adam)", "Fashion-MNIST LeNet-style CNN (Adam)"],
    "cifar10": ["CIFAR-10 MLP 3072-256-128-10 (Adam)", "CIFAR-10 CNN (tutorial: 64-128-128-64 conv, 64-32-10)"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=list(PRESETS), default="mnist")
    parser.add_argument("--data-dir", help="the set's folder (default: the app's cache)")
    parser.add_argument("--sample", action="store_true", help="MNIST: the bundled sample, not the full set")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, help="instead of each preset's own")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = cfg.from_dict(dict(dataset=args.dataset, device=args.device))
    if args.sample:
        from datasets import mnist
        split = mnist.load_sample("asked for (--sample)")
    else:
        split = datasets.load(base, args.data_dir, download=False)
    print(f"data: {split.source}; {len(split.train)} train, {len(split.test)} test", flush=True)
    for name in PRESETS[args.dataset]:
        config = cfg.preset(name).replace(device=args.device, **({"epochs": args.epochs} if args.epochs else {}))
        trainer = Trainer(config, split)
        start = time.perf_counter()
        trainer.run()
        seconds = time.perf_counter() - start
        last = trainer.history[-1]
        row = {"preset": name, "dataset": args.dataset, "data": split.source.split(":")[0], "device": str(trainer.device),
               "epochs": config.epochs, "seconds": round(seconds, 1), "test_acc": round(last.test_acc, 4),
               "parameters": sum(p.numel() for p in trainer.model.parameters()), "fast_path": trainer.fast_path}
        print(json.dumps(row) if args.json else
              f"{name:<58} {config.epochs:>3} epochs {seconds:7.1f} s  test acc {last.test_acc:.4f}  "
              f"({row['parameters']:,} parameters, {trainer.device})", flush=True)


if __name__ == "__main__":
    main()
