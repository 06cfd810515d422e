"""A class on one GPU: N MNIST and toy jobs through the job system's worker processes, against
the same jobs run one after another in this process. Prints one JSON line.
Usage: python scripts/gpu_class.py MNIST_DIR [--jobs 8] [--slots 4]"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from playground import config as cfg          # noqa: E402
from playground.jobs import Job               # noqa: E402
from playground.training import Trainer       # noqa: E402
from playground.workers import WorkerPool     # noqa: E402


def class_configs(n: int, device: str) -> list[cfg.Config]:
    mnist = dict(cfg.MNIST_PRESETS["784-100-10, SGD (tutorial)"], epochs=3, device=device)
    toy = dict(dataset="spiral", n_points=2000, hidden=(8, 8), optimizer="adam", lr=0.01, batch_size=16,
               epochs=40, dropout=0.1, device=device)
    return [cfg.from_dict(dict(mnist if i % 2 == 0 else toy, seed=i)) for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    os.environ["PLAYGROUND_DATA_DIR"] = args.data_dir
    configs = class_configs(args.jobs, args.device)
    start, solo = time.perf_counter(), []
    for c in configs:
        trainer = Trainer(c)
        trainer.run()
        solo.append(trainer.history[-1].test_loss)
    solo_s = time.perf_counter() - start
    pool = WorkerPool(args.slots, processes=True)
    deadline = time.monotonic() + 60
    while len(pool.pids()) < args.slots and time.monotonic() < deadline:   # workers up, as on a server
        time.sleep(0.1)
    jobs = [Job(c, pool=pool) for c in configs]
    start = time.perf_counter()
    for job in jobs:
        job.play()
    for job in jobs:
        job.wait(600)
    class_s = time.perf_counter() - start
    snaps = [j.snapshot() for j in jobs]
    diffs = [abs(s.history[-1]["test_loss"] - want) for s, want in zip(snaps, solo)]
    print(json.dumps({"jobs": args.jobs, "slots": args.slots, "solo_one_after_another_s": round(solo_s, 2),
                      "class_s": round(class_s, 2), "finished": sum(s.status == "finished" for s in snaps),
                      "max_test_loss_diff_vs_solo": max(diffs), "devices": sorted({s.device for s in snaps})}))
    pool.close()


if __name__ == "__main__":
    main()
