"""The seed tutorials' toy runs and the app's default presets over seeds 0-9, as a markdown table.

    .venv/bin/python scripts/seed_anchors.py            (about 3 minutes on 2 CPU cores)
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playground import config as cfg  # noqa: E402
from playground.training import Trainer  # noqa: E402

TUTORIAL = dict(n_points=5000, test_ratio=0.5, hidden=(6,), activation=("relu",), optimizer="adam",
                lr=0.01, batch_size=32, epochs=200)
RUNS = {
    "tutorial 2-6-k ReLU": {d: dict(TUTORIAL, dataset=d) for d in ("xor", "quadrants", "prod")},
    "tutorial 2-8-k ReLU": {d: dict(TUTORIAL, dataset=d, hidden=(8,)) for d in ("xor", "quadrants", "prod")},
    "app default (8-8 tanh)": {d: dict(dataset=d) for d in ("xor", "quadrants", "prod")},
}
SEEDS = range(10)


def measure(settings: dict) -> list[float]:
    results = []
    for seed in SEEDS:
        trainer = Trainer(cfg.from_dict(dict(settings, seed=seed, device="cpu")))
        trainer.run()
        last = trainer.history[-1]
        results.append(last.test_loss if last.test_acc is None else last.test_acc)
    return results


def main() -> None:
    print("| run | dataset | median | worst | seeds reaching the goal | seconds per run |")
    print("|---|---|---|---|---|---|")
    for name, by_dataset in RUNS.items():
        for dataset, settings in by_dataset.items():
            start = time.perf_counter()
            values = measure(settings)
            seconds = (time.perf_counter() - start) / len(values)
            if dataset == "prod":
                cells = f"MSE {statistics.median(values):.5f} | MSE {max(values):.5f} | " \
                        f"{sum(v <= 0.002 for v in values)}/10 at MSE <= 0.002"
            else:
                cells = f"{statistics.median(values):.4f} | {min(values):.4f} | " \
                        f"{sum(v >= 0.98 for v in values)}/10 at >= 0.98"
            print(f"| {name} | {dataset} | {cells} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
