"""python -m playground bench: the Trainer against a loop written the way the tutorials do.

Each case runs both ways in one process, on the same device, data and seed.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import datasets
from playground import config as cfg
from playground import evaluation
from playground.models import build_model, head_for
from playground.training import OPTIMIZERS, Trainer, device_label, resolve_device

CASES: dict[str, dict] = {
    # seed 000: 784-100-10, ReLU, log_softmax + NLL, SGD lr 0.01, batch 64, 10 epochs
    "mnist000": dict(cfg.MNIST_PRESETS["784-100-10, SGD (tutorial)"], seed=0, normalize="standard"),
    "mnist_adam": dict(cfg.MNIST_BASE, hidden=(256, 128), optimizer="adam", lr=0.001, epochs=5),
    # seed 002: 2,500 training points, 2-6-k ReLU, Adam lr 0.01, batch 32, 200 epochs
    "xor002": dict(dataset="xor", n_points=5000, test_ratio=0.5, hidden=(6,), activation=("relu",),
                   optimizer="adam", lr=0.01, batch_size=32, epochs=200, seed=2),
    "quadrants002": dict(dataset="quadrants", n_points=5000, test_ratio=0.5, hidden=(6,),
                         activation=("relu",), optimizer="adam", lr=0.01, batch_size=32, epochs=200, seed=2),
    "prod": dict(dataset="prod", n_points=5000, test_ratio=0.5, hidden=(6,), activation=("tanh",),
                 optimizer="adam", lr=0.01, batch_size=32, epochs=200, seed=2),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {', '.join(CASES)}")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (the median is reported)")
    parser.add_argument("--data-dir", help="folder with the four MNIST IDX files")
    parser.add_argument("--no-reference", action="store_true", help="skip the tutorial-style loop")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")


def main(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise cfg.ConfigError(f"unknown bench case {unknown[0]!r}; choose from {', '.join(CASES)}")
    if not 1 <= args.repeat <= 20:
        raise cfg.ConfigError(f"--repeat must be from 1 to 20, got {args.repeat}")
    device = resolve_device(args.device)
    report = {"device": device_label(device), "torch": torch.__version__,
              "threads": torch.get_num_threads(), "cases": {}}
    for name in names:
        config = cfg.from_dict(dict(CASES[name], device=device.type))
        split = datasets.load(config, args.data_dir)
        if split.used_sample:
            print(f"warning: {name}: {split.source}", file=sys.stderr)
        result = run_case(config, split, args.repeat, not args.no_reference)
        result["used_sample"] = split.used_sample
        report["cases"][name] = result
        print(format_case(name, result), file=sys.stderr, flush=True)
    report["extras"] = extras(device, args.data_dir)
    print(format_extras(report["extras"]), file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    return 0


# ------------------------------------------------------------------ one case
def run_case(config: cfg.Config, split, repeat: int, with_reference: bool) -> dict:
    ours = [time_trainer(config, split) for _ in range(repeat)]
    result = {"config": cfg.to_params(config), "trainer": _median_run(ours)}
    if with_reference:
        ref = [time_reference(config, split) for _ in range(repeat)]
        result["reference"] = _median_run(ref)
        result["speedup"] = round(result["reference"]["seconds"] / result["trainer"]["seconds"], 2)
    return result


def _median_run(runs: list[dict]) -> dict:
    best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**best, "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
            "all_seconds": [round(r["seconds"], 3) for r in runs]}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_trainer(config: cfg.Config, split) -> dict:
    trainer = Trainer(config, split)
    _sync(trainer.device)
    start = time.perf_counter()
    trainer.run()
    _sync(trainer.device)
    seconds = time.perf_counter() - start   # includes each epoch's evaluation, as the tutorials do
    last = trainer.history[-1]
    return {"seconds": seconds, "steps": trainer.steps, "steps_per_second": round(trainer.steps / seconds),
            "test_accuracy": last.test_acc, "test_loss": last.test_loss,
            "fast_path": getattr(trainer, "fast_path", "eager")}


def time_reference(config: cfg.Config, split) -> dict:
    """The tutorial way: DataLoader batches moved to the device, loss.item() every step."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    head = head_for(config, split.n_classes)
    model = build_model(config, split.n_inputs, split.n_classes).to(device)
    optimizer = _plain_optimizer(config, model)
    x, y = torch.as_tensor(split.train.x), torch.as_tensor(split.train.y)
    loader = DataLoader(TensorDataset(x, y), batch_size=config.batch_size, shuffle=True,
                        drop_last=config.drop_last)
    x_test = torch.as_tensor(split.test.x).to(device)
    y_test = torch.as_tensor(split.test.y).to(device)
    steps, running = 0, 0.0
    _sync(device)
    start = time.perf_counter()
    for _ in range(config.epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = head.loss(model(xb), head.targets(yb))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item()
            steps += 1
        test_loss, test_acc = evaluation.loss_and_accuracy(model, head, x_test, head.targets(y_test), y_test)
    _sync(device)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": steps, "steps_per_second": round(steps / seconds),
            "test_accuracy": test_acc, "test_loss": test_loss}


def _plain_optimizer(config: cfg.Config, model: torch.nn.Module) -> torch.optim.Optimizer:
    kind = OPTIMIZERS[config.optimizer]   # the plain, unfused version, as the tutorials use it
    options = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        options.update(momentum=config.momentum, nesterov=config.nesterov)
    return kind(model.parameters(), **options)


# ------------------------------------------------------------------ extras
def extras(device: torch.device, data_dir: str | None) -> dict:
    return {
        "surface_200x200_ms": surface_ms(device),
        "draw_to_prediction_ms": draw_latency_ms(data_dir),
        "live_overhead": live_overhead(device),
        "peak_gpu_mb_toy": peak_gpu_mb(device),
    }


def surface_ms(device: torch.device, repeat: int = 20) -> float:
    from datasets.toy import DOMAIN
    config = cfg.from_dict(dict(dataset="spiral", hidden=(8, 8, 8), features=("sin_x1", "sin_x2"),
                                device=device.type))
    trainer = Trainer(config)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        evaluation.surface(trainer.model, trainer.head, config.features, DOMAIN, 200, trainer.device)
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def draw_latency_ms(data_dir: str | None, n: int = 200) -> dict:
    """Canvas RGBA (280x280) -> digits.to_mnist -> forward pass, on one CPU thread, for each
    MLP preset and the bundled digit reader."""
    from playground import reader
    from playground.checkpoints import Predictor
    split = datasets.load(cfg.from_dict(dict(cfg.MNIST_BASE)), data_dir)
    picks = np.random.default_rng(0).choice(len(split.test), n, replace=False)
    canvases = [_canvas_from_digit(split.test.x[i, 0]) for i in picks]
    results = {}
    for name, settings in cfg.MNIST_PRESETS.items():
        config = cfg.from_dict(settings)
        if config.model == "mlp":
            results[name] = _latency(Predictor.from_model(config, build_model(config, 784, 10), 784, 10), canvases)
    worst = max(results.values(), key=lambda r: r["p95"])
    return {"worst_p50": worst["p50"], "worst_p95": worst["p95"], "by_preset": results,
            "reader": _latency(reader.load(), canvases)}


def _latency(predictor, canvases: list[np.ndarray]) -> dict:
    from playground import digits
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        times = []
        for canvas in canvases:
            start = time.perf_counter()
            predictor.proba(digits.to_mnist(canvas))
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    ms = 1000 * np.array(times)
    return {"p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2)}


def _canvas_from_digit(image28: np.ndarray, side: int = 280) -> np.ndarray:
    big = np.kron(image28, np.ones((side // 28, side // 28), np.float32))
    canvas = np.zeros((side, side, 4), np.uint8)
    canvas[..., :3] = (big * 255).astype(np.uint8)[..., None]
    canvas[..., 3] = 255
    return canvas


def live_overhead(device: torch.device) -> dict:
    """Steps per second of a 2D run alone vs as a Job in a worker process publishing snapshots
    (surface, weights, neuron maps) to a reader polling like a page. The page's own cost in
    the browser is measured by scripts/measure_live_view.py."""
    from playground.jobs import Job
    from playground.workers import WorkerPool
    config = cfg.from_dict(dict(CASES["xor002"], epochs=40, device=device.type))
    split = datasets.load(config)
    trainer = Trainer(config, split)
    start = time.perf_counter()
    trainer.run()
    alone = trainer.steps / (time.perf_counter() - start)
    pool = WorkerPool(1, processes=True)
    job = Job(config, pool=pool)
    stop = threading.Event()

    def reader() -> None:   # what a page does: read the snapshot twice a second
        while not stop.is_set():
            job.snapshot()
            time.sleep(0.5)
    threading.Thread(target=reader, daemon=True).start()
    job.play()
    job.wait()
    snap = job.snapshot()
    live = snap.steps / snap.latest["seconds"]     # wall time in the worker, publishing included
    stop.set()
    job.close()
    pool.close()
    return {"alone_steps_per_s": round(alone), "live_steps_per_s": round(live),
            "overhead_percent": round(100 * (1 - live / alone), 1)}


def peak_gpu_mb(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    torch.cuda.reset_peak_memory_stats(device)
    config = cfg.from_dict(dict(CASES["xor002"], epochs=5, device="cuda"))
    Trainer(config).run()
    return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)


# ------------------------------------------------------------------ printing
def _acc(run: dict) -> str:
    acc = run.get("test_accuracy")
    return f"acc {acc:.4f}" if acc is not None else f"mse {run['test_loss']:.5f}"


def format_case(name: str, result: dict) -> str:
    ours = result["trainer"]
    line = (f"{name:>13}: trainer {ours['seconds']:7.2f}s {_acc(ours)} "
            f"({ours['steps_per_second']:,} steps/s, {ours['fast_path']})")
    if "reference" in result:
        ref = result["reference"]
        line += f" | reference {ref['seconds']:7.2f}s {_acc(ref)} | x{result['speedup']}"
    return line + (" [bundled sample]" if result.get("used_sample") else "")


def format_extras(extras: dict) -> str:
    draw, live = extras["draw_to_prediction_ms"], extras["live_overhead"]
    peak = extras["peak_gpu_mb_toy"]
    return (f"surface 200x200: {extras['surface_200x200_ms']} ms | draw->prediction (slowest MLP preset) "
            f"p50 {draw['worst_p50']} ms, p95 {draw['worst_p95']} ms; digit reader p50 {draw['reader']['p50']} ms, "
            f"p95 {draw['reader']['p95']} ms | live UI overhead {live['overhead_percent']}% "
            f"({live['alone_steps_per_s']:,} -> {live['live_steps_per_s']:,} steps/s)"
            + (f" | peak GPU memory (toy) {peak} MB" if peak is not None else ""))
