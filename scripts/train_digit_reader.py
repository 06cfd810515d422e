"""Train the bundled digit reader (datasets/digit_reader.pt) from the four MNIST files.

The bundled file is made in two stages (the second goes on from the first's weights, with a
lower learning rate and 30% of the digits left undistorted, which lifts MNIST test accuracy):

    .venv/bin/python scripts/train_digit_reader.py --data-dir ../shared/mnist
    .venv/bin/python scripts/train_digit_reader.py --data-dir ../shared/mnist \
        --start-from datasets/digit_reader.pt --epochs 3 --lr 0.0005 --clean-share 0.3

Deterministic: one seed, one generator for the data order, augmentation and dropout, a fixed
number of CPU threads. Prints its recipe, each epoch and the results; writes the weights
(the app's checkpoint format, weights only) and datasets/digit_reader.json (recipe, results,
machine).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playground import checkpoints, reader, reader_augment  # noqa: E402
from playground import config as cfg  # noqa: E402
from playground.models import Dropout, build_model  # noqa: E402

SETTINGS = dict(cfg.MNIST_BASE, model="cnn", conv=("24-3-1-max", "48-3-1-max", "96-3-1-max"), hidden=(192,), dropout=0.3,
                optimizer="adam", lr=0.002, batch_size=128, epochs=10, augment=True, seed=0)
SCRIBBLE_WEIGHT = 0.5        # loss weight of "be unsure of scribbles" (uniform target)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    config = cfg.from_dict({**SETTINGS, "epochs": args.epochs, "lr": args.lr or SETTINGS["lr"]})
    recipe = reader_augment.Recipe(clean_share=args.clean_share)
    print_recipe(config, recipe, args)
    train_x, train_y, test_x, test_y, sample = load_data(args.data_dir)
    start = time.perf_counter()
    start_from = checkpoints.load(args.start_from).model.state_dict() if args.start_from else None
    model = train(config, recipe, (train_x, train_y, test_x, test_y), args.device, start_from)
    seconds = time.perf_counter() - start
    predictor = checkpoints.Predictor.from_model(config, model, 784, 10)
    results = {
        "mnist_test_accuracy": accuracy(predictor, test_x, test_y),
        "sample_test_accuracy": accuracy(predictor, *sample),
        "train_seconds": round(seconds, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    predictor.save(args.output)
    write_record(args, config, recipe, results)
    print(json.dumps(results))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "mnist"))
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--threads", type=int, default=1)   # shared cores: 2 threads spin
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lr", type=float, help=f"Adam's starting learning rate (default {SETTINGS['lr']})")
    parser.add_argument("--clean-share", type=float, default=0.0, help="share of digits left undistorted")
    parser.add_argument("--start-from", type=Path, help="go on from these weights (a second, milder stage)")
    parser.add_argument("--output", type=Path, default=reader.WEIGHTS)
    parser.add_argument("--record", type=Path, default=reader.RECORD)
    args = parser.parse_args()
    args.device = torch.device(args.device)
    return args


def print_recipe(config: cfg.Config, recipe: reader_augment.Recipe, args: argparse.Namespace) -> None:
    print(f"network: CNN conv {', '.join(config.conv)} (filters-kernel-padding-pooling, ReLU), dense {config.hidden}, "
          f"dropout {config.dropout}; Adam lr {config.lr} with a cosine decay, batch {config.batch_size}, "
          f"{config.epochs} epochs, seed {config.seed}, {args.threads} CPU threads, device {args.device}")
    print(f"augmentation: {dataclasses.asdict(recipe)}; scribbles taught as 'not a digit' "
          f"(uniform target, loss weight {SCRIBBLE_WEIGHT})", flush=True)


def load_data(data_dir: str):
    from datasets import mnist
    split = mnist.load(data_dir, download=False)
    if split.used_sample:
        sys.exit(f"error: the four MNIST files are not in {data_dir}; give --data-dir")
    with np.load(mnist.SAMPLE) as data:
        sample = (data["x_test"].astype(np.float32)[:, None] / 255, data["y_test"].astype(np.int64))
    return (split.train.x, split.train.y, split.test.x, split.test.y, sample)


def train(config, recipe, data, device: torch.device, start_from: dict | None = None) -> torch.nn.Module:
    train_x, train_y, test_x, test_y = data
    gen = torch.Generator(device=device).manual_seed(config.seed + (start_from is not None))
    model = build_model(config, 784, 10, torch.Generator().manual_seed(config.seed))
    if start_from is not None:
        model.load_state_dict(start_from)
    model = model.to(device)
    for layer in model.modules():
        if isinstance(layer, Dropout):
            layer.generator = gen
    x = torch.as_tensor(train_x, device=device)
    y = torch.as_tensor(train_y, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps = config.epochs * math.ceil(len(y) / config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        loss_sum = one_epoch(model, optimizer, schedule, x, y, gen, config, recipe)
        model.eval()
        acc = accuracy(checkpoints.Predictor.from_model(config, model, 784, 10), test_x, test_y)
        print(f"epoch {epoch:>2}/{config.epochs}  loss {loss_sum:.4f}  MNIST test {acc:.4f}  "
              f"{time.perf_counter() - t0:.0f}s", flush=True)
    return model


def one_epoch(model, optimizer, schedule, x, y, gen, config, recipe) -> float:
    order = torch.randperm(len(y), generator=gen, device=x.device)
    n_scribbles = max(1, round(config.batch_size * recipe.scribble_share))
    total = torch.zeros((), device=x.device)
    batches = 0
    for start in range(0, len(y), config.batch_size):
        index = order[start:start + config.batch_size]
        xb = reader_augment.augment(x[index], y[index], gen, recipe)
        junk = reader_augment.scribbles(n_scribbles, gen, x.device)
        out = model(torch.cat([xb, junk]))
        loss = F.nll_loss(out[:len(index)], y[index]) - SCRIBBLE_WEIGHT * out[len(index):].mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        total += loss.detach()
        batches += 1
    return float(total) / batches


@torch.no_grad()
def accuracy(predictor: checkpoints.Predictor, x: np.ndarray, y: np.ndarray) -> float:
    right = sum(int((predictor.proba(x[i:i + 2000]).argmax(1) == y[i:i + 2000]).sum())
                for i in range(0, len(y), 2000))
    return round(right / len(y), 4)


def write_record(args, config, recipe, results: dict) -> None:
    earlier = json.loads(args.record.read_text()) if args.start_from and args.record.is_file() else None
    record = {
        "config": json.loads(cfg.to_json(config)),
        "recipe": dataclasses.asdict(recipe),
        "scribble_weight": SCRIBBLE_WEIGHT,
        "command": "scripts/train_digit_reader.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.processor() or platform.machine()}, {args.threads} threads, "
                   f"torch {torch.__version__}, {args.device}",
        **results,
    }
    if earlier:
        record["first_stage"] = earlier
    args.record.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
