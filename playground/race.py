"""Races and comparisons of runs.

A race: one setting, several values, all trained at once on the same data, seed and starting
weights (ConvNetJS's trainer comparison, for any setting). Each run is a job of the job system,
so it counts against the server's job limit and queues like any other. A run's outcome is a
plain dict (`result`, `record`): settings, epoch history and final figures, which a session keeps
to compare runs (`differing`, `to_csv`, JSON)."""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from typing import Any, Callable

from playground import config as cfg
from playground.config import ConfigError
from playground.jobs import Job

LIST_SEPARATOR = ";"     # between values of a setting that is itself a list: hidden=4;8,8;16,16,16
# Race values that stand for more than one setting.
ALIASES: dict[str, dict[str, dict[str, Any]]] = {
    "optimizer": {"sgd+momentum": {"optimizer": "sgd", "momentum": 0.9},
                  "sgd+nesterov": {"optimizer": "sgd", "momentum": 0.9, "nesterov": True}},
}
MAX_RUNS = 8


@dataclass(frozen=True)
class Entrant:
    label: str             # the value as the user wrote it
    config: cfg.Config


def parse_vary(text: str) -> tuple[str, list[str]]:
    """"optimizer=sgd,adam" -> ("optimizer", ["sgd", "adam"]); list settings use ';' between values."""
    name, sep, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not values.strip():
        raise ConfigError(f'a race needs a setting and its values, like "optimizer=sgd,adam,rmsprop"; got "{text}"')
    if name not in cfg.KNOBS:
        raise ConfigError(f'unknown setting "{name}" to race; known settings: {", ".join(cfg.KNOBS)}')
    is_list = cfg.kind_of(name) in ("ints", "strs", "convs")
    items = [v.strip() for v in values.split(LIST_SEPARATOR if is_list else ",") if v.strip()]
    check_values(name, items)
    return name, items


def check_values(name: str, items: list[str]) -> None:
    """Two to MAX_RUNS values, none repeated."""
    if len(items) < 2:
        raise ConfigError(f"a race needs at least two values of {name}, got {len(items)}")
    if len(items) > MAX_RUNS:
        raise ConfigError(f"a race has at most {MAX_RUNS} runs, got {len(items)} values of {name}")
    if len(set(items)) < len(items):
        raise ConfigError(f"the values of {name} repeat: {', '.join(items)}")


def entrants(base: cfg.Config, name: str, values: list[str]) -> list[Entrant]:
    """One config per value; everything else (data, seed, so the starting weights) as in `base`."""
    out = []
    for value in values:
        changes = ALIASES.get(name, {}).get(value.lower(), {name: value})
        try:
            out.append(Entrant(value, cfg.from_dict(changes, base)))
        except ConfigError as e:
            raise ConfigError(f"race value {name}={value}: {e}") from None
    return out


def result(entrant: Entrant, name: str, job: Job) -> dict:
    """One run's outcome, as a JSON-ready dict."""
    snap = job.snapshot()
    last = snap.history[-1] if snap.history else {}
    return {"setting": name, "value": entrant.label, "status": snap.status, "message": snap.message,
            "epochs": snap.epoch, "steps": snap.steps, "train_loss": last.get("train_loss"),
            "test_loss": last.get("test_loss"), "train_acc": last.get("train_acc"),
            "test_acc": last.get("test_acc"), "seconds": last.get("seconds"),
            "config": cfg.to_dict(entrant.config), "history": list(snap.history)}


def run(runs: list[Entrant], name: str, on_result: Callable[[dict], None] | None = None,
        pool=None, data_dir: str | None = None, timeout: float = 24 * 3600, points=None) -> list[dict]:
    """Start every run at once (the job limit queues the rest), return their results in the
    order given; `on_result` hears each one as it ends."""
    jobs = [Job(e.config, data_dir=data_dir, pool=pool, points=points) for e in runs]
    try:
        for job in jobs:
            job.play()
        results: list[dict | None] = [None] * len(jobs)
        deadline = time.monotonic() + timeout
        while any(r is None for r in results):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the race did not finish in {timeout:.0f} s")
            for i, job in enumerate(jobs):
                snap = job.snapshot()
                if results[i] is None and not snap.active and snap.status != "idle":
                    results[i] = result(runs[i], name, job)
                    if on_result:
                        on_result(results[i])
            time.sleep(0.05)
        return results
    finally:
        for job in jobs:
            job.close()


def record(label: str, config: cfg.Config, snap, setting: str = "", value: str = "") -> dict:
    """A kept run from its last snapshot: what a comparison shows of it."""
    last = snap.history[-1] if snap.history else {}
    return {"label": label, "setting": setting, "value": value, "status": snap.status, "epochs": snap.epoch,
            "train_loss": last.get("train_loss"), "test_loss": last.get("test_loss"),
            "train_acc": last.get("train_acc"), "test_acc": last.get("test_acc"), "seconds": last.get("seconds"),
            "config": cfg.to_dict(config), "history": list(snap.history)}


def differing(runs: list[dict]) -> list[str]:
    """The settings that differ between the runs (in the config's order)."""
    if len(runs) < 2:
        return []
    configs = [r["config"] for r in runs]
    return [name for name in cfg.KNOBS if len({repr(c.get(name)) for c in configs}) > 1]


def summary(name: str, results: list[dict]) -> dict:
    """The ranking: by test accuracy where there is one, else by test loss."""
    done = [r for r in results if r["status"] == "finished" and r["test_loss"] is not None]
    by_acc = all(r["test_acc"] is not None for r in done)
    ranked = sorted(done, key=lambda r: (-r["test_acc"], r["test_loss"]) if by_acc else r["test_loss"])
    return {"race": name, "values": [r["value"] for r in results], "ranking": [r["value"] for r in ranked],
            "winner": ranked[0]["value"] if ranked else None, "ranked_by": "test_acc" if by_acc else "test_loss",
            "not_finished": [r["value"] for r in results if r["status"] != "finished"]}


CSV_FIELDS = ("setting", "value", "epoch", "train_loss", "test_loss", "train_acc", "test_acc", "seconds")


def to_csv(results: list[dict]) -> str:
    """Every run's epoch history, one row per run and epoch."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in results:
        for epoch in r["history"]:
            writer.writerow({"setting": r.get("setting", ""), "value": r.get("value") or r.get("label", ""), **epoch})
    return out.getvalue()
