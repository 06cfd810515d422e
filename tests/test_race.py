"""Races: one setting, several values, trained at once as jobs on the same data, seed and weights."""
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground import config as cfg
from playground import race
from playground.config import ConfigError
from playground.training import Trainer
from playground.workers import WorkerPool

ROOT = Path(__file__).resolve().parents[1]
BASE = cfg.from_dict(dict(dataset="spiral", n_points=300, hidden=(8,), batch_size=16, epochs=4, seed=5, device="cpu"))


def solo_final(config: cfg.Config) -> tuple[float, float]:
    trainer = Trainer(config)
    trainer.run()
    return trainer.history[-1].train_loss, trainer.history[-1].test_loss


def test_parse_vary_reads_scalar_and_list_settings():
    assert race.parse_vary("optimizer=sgd,adam, rmsprop") == ("optimizer", ["sgd", "adam", "rmsprop"])
    assert race.parse_vary("learning-rate=0.1,0.01".replace("learning-rate", "lr")) == ("lr", ["0.1", "0.01"])
    assert race.parse_vary("hidden=4;8,8;16,16,16") == ("hidden", ["4", "8,8", "16,16,16"])
    assert race.parse_vary("conv=16-3-1-max,32-3-1-max;6-5-2,16-5-0") == ("conv", ["16-3-1-max,32-3-1-max", "6-5-2,16-5-0"])


@pytest.mark.parametrize("text, words", [
    ("optimizer", "a setting and its values"),
    ("speed=1,2", 'unknown setting "speed"'),
    ("lr=0.1", "at least two values"),
    ("lr=0.1,0.1", "repeat"),
    ("lr=" + ",".join(str(i / 100) for i in range(1, 11)), "at most 8 runs"),
])
def test_parse_vary_explains_what_is_wrong(text, words):
    with pytest.raises(ConfigError, match=words):
        race.parse_vary(text)


def test_entrants_change_one_setting_and_keep_data_seed_and_weights():
    runs = race.entrants(BASE, "optimizer", ["sgd", "sgd+momentum", "adam"])
    assert [r.config.optimizer for r in runs] == ["sgd", "sgd", "adam"]
    assert runs[1].config.momentum == 0.9 and runs[0].config.momentum == BASE.momentum
    assert {(r.config.seed, r.config.dataset, r.config.n_points, r.config.hidden) for r in runs} == {(5, "spiral", 300, (8,))}
    first, second = (Trainer(r.config) for r in runs[:2])    # same starting weights
    for p, q in zip(first.model.parameters(), second.model.parameters()):
        assert (p == q).all()
    with pytest.raises(ConfigError, match="race value lr=-1: learning rate must be"):
        race.entrants(BASE, "lr", ["0.1", "-1"])


def test_a_race_runs_each_value_as_a_job_within_the_job_limit(most_running):
    values = ["sgd", "adam", "rmsprop"]
    runs = race.entrants(BASE, "optimizer", values)
    expected = [solo_final(r.config) for r in runs]
    pool, heard = WorkerPool(2, processes=False), []
    try:
        with most_running(pool) as most:
            results = race.run(runs, "optimizer", on_result=heard.append, pool=pool)
    finally:
        pool.close()
    assert most[0] == 2                                   # two at once, the third queued
    assert [r["value"] for r in results] == values and sorted(r["value"] for r in heard) == sorted(values)
    for r, (train_loss, test_loss) in zip(results, expected):
        assert r["status"] == "finished" and r["epochs"] == 4
        assert r["train_loss"] == pytest.approx(train_loss, abs=1e-6) and r["test_loss"] == pytest.approx(test_loss, abs=1e-6)
    rows = list(csv.DictReader(io.StringIO(race.to_csv(results))))
    assert len(rows) == 12 and rows[0]["value"] == "sgd" and rows[-1]["epoch"] == "4"
    assert float(rows[3]["test_loss"]) == pytest.approx(expected[0][1], abs=1e-6)


def test_the_summary_ranks_by_accuracy_or_by_loss():
    def r(value, acc, loss, status="finished"):
        return {"value": value, "test_acc": acc, "test_loss": loss, "status": status}
    s = race.summary("lr", [r("0.1", 0.8, 0.5), r("0.01", 0.9, 0.6), r("1", None, None, "diverged")])
    assert s["ranking"] == ["0.01", "0.1"] and s["winner"] == "0.01" and s["not_finished"] == ["1"]
    s = race.summary("hidden", [r("4", None, 0.2), r("8", None, 0.1)])
    assert s["ranked_by"] == "test_loss" and s["ranking"] == ["8", "4"]


@pytest.mark.slow
def test_the_cli_races_three_optimizers_in_worker_processes(tmp_path):
    env = {**os.environ, "PLAYGROUND_MAX_JOBS": "2"}
    out = subprocess.run([sys.executable, "-m", "playground", "race", "--vary", "optimizer=sgd,adam,rmsprop",
                          "--dataset", "spiral", "--n-points", "300", "--hidden", "8", "--batch-size", "16",
                          "--epochs", "4", "--seed", "5", "--device", "cpu", "--json", "--csv", str(tmp_path / "r.csv")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    runs, summary = lines[:-1], lines[-1]
    assert sorted(r["value"] for r in runs) == ["adam", "rmsprop", "sgd"]
    for r in runs:
        train_loss, test_loss = solo_final(cfg.from_dict({"optimizer": r["value"]}, BASE))
        assert r["status"] == "finished" and r["test_loss"] == pytest.approx(test_loss, abs=1e-6)
    assert summary["race"] == "optimizer" and summary["winner"] in ("sgd", "adam", "rmsprop")
    assert summary["ranking"][0] == summary["winner"] and len((tmp_path / "r.csv").read_text().splitlines()) == 13
