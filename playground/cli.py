"""python -m playground train | race | predict | export-code | bench"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from playground import config as cfg
from playground.config import ConfigError

EXIT_INVALID, EXIT_DIVERGED = 2, 3


class UsageError(Exception):
    """Bad command-line input: reported on one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(message)


def build_parser() -> Parser:
    parser = Parser(prog="python -m playground", description="Neural Playground from the command line.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    train = commands.add_parser("train", help="train a network and print its results")
    cfg.add_cli_flags(train)
    train.add_argument("--config", dest="config_file", help="a JSON file of settings (flags override it)")
    train.add_argument("--json", action="store_true", help="end with one JSON line of results")
    train.add_argument("--save", help="save the trained model to this file (.pt)")
    train.add_argument("--data-dir", help="folder with the four MNIST IDX files")
    train.add_argument("--data", metavar="POINTS.CSV", help=DATA_HELP)
    train.add_argument("--quiet", action="store_true", help="no progress lines")

    race = commands.add_parser("race", help="train several values of one setting at once, same data and seed")
    race.add_argument("--vary", required=True, metavar="SETTING=V1,V2,...",
                      help="the setting and its values, e.g. optimizer=sgd,sgd+momentum,adam,rmsprop or lr=0.3,0.03; "
                           "for list settings separate the values with ';', e.g. hidden='4;8,8;16,16,16'")
    cfg.add_cli_flags(race)
    race.add_argument("--config", dest="config_file", help="a JSON file of settings (flags override it)")
    race.add_argument("--json", action="store_true", help="one JSON line per run as it ends, then a summary line")
    race.add_argument("--csv", help="write every run's epoch history to this CSV file")
    race.add_argument("--data-dir", help="folder with the four MNIST IDX files")
    race.add_argument("--data", metavar="POINTS.CSV", help=DATA_HELP)

    predict = commands.add_parser("predict", help="read digits from images with a saved model")
    predict.add_argument("--model", help="a model saved with train --save (default: the bundled digit reader)")
    predict.add_argument("images", nargs="+", help="image files (PNG, JPG...) of handwritten digits")

    export = commands.add_parser("export-code", help="print a standalone PyTorch script for a config")
    cfg.add_cli_flags(export)
    export.add_argument("--config", dest="config_file", help="a JSON file of settings (flags override it)")
    export.add_argument("--output", "-o", help="write the script to this file instead of stdout")

    bench = commands.add_parser("bench", help="time the trainer against a tutorial-style reference loop")
    from playground import bench as bench_module
    bench_module.add_arguments(bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, ValueError, OSError) as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _one_line(e: Exception) -> str:
    name = "" if isinstance(e, (UsageError, OSError)) else f"{type(e).__name__}: "
    text = " ".join(str(e).split())
    return f"{name}{text}" if text else type(e).__name__


def config_from_args(args: argparse.Namespace) -> cfg.Config:
    base = None
    if getattr(args, "config_file", None):
        base = cfg.from_json(Path(args.config_file).read_text())
    return cfg.from_cli(args, base)


DATA_HELP = ("your own 2D points: a CSV file of x1,x2,label (classes 0..k-1) or x1,x2,target "
             "(regression), header optional; sets the dataset to custom or custom_regression")


def points_from_args(args: argparse.Namespace, config: cfg.Config):
    """(config, points): with --data, the file's points and a config set to use them."""
    if not getattr(args, "data", None):
        return config, None
    from datasets import points as pts
    try:
        points = pts.parse_csv(Path(args.data).read_bytes())
    except pts.PointsError as e:
        raise UsageError(f"{args.data}: {e}") from None
    if getattr(args, "dataset", None) not in (None, points.dataset):
        raise UsageError(f"--data gives {points.dataset} points; leave out --dataset {args.dataset}")
    return config.replace(dataset=points.dataset, n_points=len(points)), points


# ------------------------------------------------------------------ train
def cmd_train(args: argparse.Namespace) -> int:
    config, points = points_from_args(args, config_from_args(args))
    from playground.training import Trainer
    import datasets

    progress = None if args.quiet else _download_progress
    split = datasets.load(config, args.data_dir, progress=progress, points=points)
    if split.used_sample:
        print(f"note: {split.source}", file=sys.stderr)
    trainer = Trainer(config, split)
    signal.signal(signal.SIGTERM, lambda *_: trainer.stop())
    reporter = None if args.quiet else EpochPrinter(config.epochs)
    trainer.run(on_epoch=reporter)
    summary = trainer.summary()
    if args.save and trainer.status != "diverged":
        from playground import checkpoints
        checkpoints.save(args.save, config, trainer.model, split.n_inputs, split.n_classes)
        summary["saved"] = args.save
    _print_summary(summary, args.json)
    return EXIT_DIVERGED if trainer.status == "diverged" else 0


class EpochPrinter:
    """A progress line per epoch, at most a few per second (the last one always)."""

    def __init__(self, epochs: int, every: float = 0.5):
        self.epochs, self.every, self.last = epochs, every, 0.0

    def __call__(self, trainer) -> None:
        now = time.monotonic()
        if now - self.last < self.every and trainer.epoch < self.epochs:
            return
        self.last = now
        r = trainer.history[-1]
        acc = "" if r.test_acc is None else f"  train acc {r.train_acc:.4f}  test acc {r.test_acc:.4f}"
        print(f"epoch {r.epoch:>4}/{self.epochs}  train loss {r.train_loss:.5f}  "
              f"test loss {r.test_loss:.5f}{acc}  {r.seconds:.1f}s", file=sys.stderr, flush=True)


def _download_progress(name: str, done: int, total: int | None) -> None:
    size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
    end = "\n" if total and done >= total else ""
    print(f"\rdownloading {name}: {size}", end=end, file=sys.stderr, flush=True)


def _print_summary(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary))
        return
    for key, value in summary.items():
        if value not in (None, ""):
            print(f"{key:>18}: {value}")


# ------------------------------------------------------------------ race
def cmd_race(args: argparse.Namespace) -> int:
    """Each run is a job of the job system in worker processes (PLAYGROUND_MAX_JOBS at once)."""
    from playground import race, workers

    name, values = race.parse_vary(args.vary)
    config, points = points_from_args(args, config_from_args(args))
    runs = race.entrants(config, name, values)

    def report(result: dict) -> None:
        if args.json:
            print(json.dumps({k: v for k, v in result.items() if k != "history"}), flush=True)
        else:
            print(_race_line(result), flush=True)

    pool = workers.WorkerPool(workers.default_max_jobs(), processes=True)
    try:
        results = race.run(runs, name, on_result=report, pool=pool, data_dir=args.data_dir, points=points)
    finally:
        pool.close()
    if args.csv:
        Path(args.csv).write_text(race.to_csv(results))
    summary = race.summary(name, results)
    print(json.dumps(summary) if args.json else
          f"winner: {name}={summary['winner']} (ranked by {summary['ranked_by']}: {', '.join(summary['ranking'])})")
    return EXIT_DIVERGED if summary["not_finished"] else 0


def _race_line(r: dict) -> str:
    acc = "" if r["test_acc"] is None else f"  test acc {r['test_acc']:.4f}"
    loss = "–" if r["test_loss"] is None else f"{r['test_loss']:.5f}"
    return f"{r['setting']}={r['value']:<14} {r['status']:<9} epochs {r['epochs']:>4}  test loss {loss}{acc}"


# ------------------------------------------------------------------ predict
def cmd_predict(args: argparse.Namespace) -> int:
    from playground import checkpoints, digits, reader

    predictor = checkpoints.load(args.model) if args.model else reader.load()
    if predictor.config.dataset != "mnist":
        raise UsageError(f"{args.model} was trained on {predictor.config.dataset}, not on digits (mnist)")
    failed = 0
    for name in args.images:
        try:
            image = digits.to_mnist(digits.load_image(name))
        except (ValueError, OSError) as e:
            print(f"error: {name}: {_one_line(e)}", file=sys.stderr)
            failed += 1
            continue
        probs = predictor.proba(image)[0]
        digit = int(probs.argmax())
        print(json.dumps({"image": name, "digit": digit, "confidence": round(float(probs[digit]), 4),
                          "probabilities": [round(float(p), 4) for p in probs]}))
    return EXIT_INVALID if failed else 0


# ------------------------------------------------------------------ export-code
def cmd_export(args: argparse.Namespace) -> int:
    from playground import codegen

    script = codegen.script(config_from_args(args))
    if args.output:
        Path(args.output).write_text(script)
    else:
        print(script, end="")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from playground import bench
    return bench.main(args)


COMMANDS = {"train": cmd_train, "race": cmd_race, "predict": cmd_predict, "export-code": cmd_export, "bench": cmd_bench}
