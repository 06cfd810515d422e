"""python -m playground: JSON shape, exit codes, one-line errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playground.cli import main

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_KEYS = {"dataset", "task", "device", "epochs", "status", "final_train_loss", "final_test_loss",
                "train_accuracy", "test_accuracy", "seconds", "steps_per_second", "used_sample"}


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_json_last_line(capsys):
    code, out, err = run_cli(capsys, "train", "--dataset", "xor", "--hidden", "6", "--activation", "relu",
                             "--optimizer", "adam", "--lr", "0.01", "--batch-size", "32", "--epochs", "5",
                             "--n-points", "400", "--seed", "0", "--device", "cpu", "--json")
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert SUMMARY_KEYS <= set(summary)
    assert summary["status"] == "ok" and summary["epochs"] == 5 and summary["used_sample"] is False
    assert 0 <= summary["test_accuracy"] <= 1 and "epoch    5/5" in err


def test_regression_reports_null_accuracy(capsys):
    code, out, _ = run_cli(capsys, "train", "--dataset", "prod", "--epochs", "2", "--json", "--quiet")
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and summary["test_accuracy"] is None and summary["task"] == "regression"


@pytest.mark.parametrize("args, words", [
    (["train", "--hidden", "abc"], 'hidden layers must be whole numbers from 1 to 1024, got "abc"'),
    (["train", "--lr", "-1"], "learning rate must be above 0"),
    (["train", "--dataset", "prod", "--loss", "cross_entropy"], "does not fit"),
    (["train", "--wings", "2"], "unrecognized arguments: --wings 2"),
    (["fly"], "invalid choice"),
    (["train", "--config", "/nonexistent/settings.json"], "No such file"),
    (["predict", "--model", "/nonexistent.pt", "x.png"], "no checkpoint file"),
])
def test_invalid_input_is_one_line_exit_2(capsys, args, words):
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err


def test_diverged_run_exits_3(capsys):
    code, out, _ = run_cli(capsys, "train", "--dataset", "prod", "--hidden", "64,64", "--activation", "relu",
                           "--optimizer", "sgd", "--lr", "10", "--epochs", "50", "--json", "--quiet")
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 3 and summary["status"] == "diverged" and "smaller" in summary["message"]


def test_config_file_and_flags(capsys, tmp_path):
    settings = tmp_path / "run.json"
    settings.write_text(json.dumps({"dataset": "circle", "hidden": [4], "epochs": 2}))
    code, out, _ = run_cli(capsys, "train", "--config", str(settings), "--epochs", "3", "--json", "--quiet")
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and summary["dataset"] == "circle" and summary["epochs"] == 3


def test_save_then_predict_digits(capsys, tmp_path):
    model = tmp_path / "digits.pt"
    code, out, err = run_cli(capsys, "train", "--dataset", "mnist", "--hidden", "64", "--epochs", "2",
                             "--batch-size", "64", "--optimizer", "adam", "--lr", "0.002", "--json", "--quiet",
                             "--save", str(model), "--data-dir", str(tmp_path / "no-mnist-here"))
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and model.exists()
    data = np.load(ROOT / "datasets" / "mnist_sample.npz")
    paths = []
    for i in range(5):
        digit = 255 - np.kron(data["x_test"][i], np.ones((8, 8), np.uint8))   # black on white, 224 px
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(digit).save(paths[-1])
    junk = tmp_path / "notes.png"
    junk.write_text("not an image")
    code, out, err = run_cli(capsys, "predict", "--model", str(model), *map(str, paths), str(junk))
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 2 and len(lines) == 5 and "notes.png" in err
    assert all(0 <= r["digit"] <= 9 and len(r["probabilities"]) == 10 for r in lines)
    correct = sum(r["digit"] == int(y) for r, y in zip(lines, data["y_test"][:5]))
    assert correct >= 3 or summary["used_sample"] is False


def test_predict_rejects_a_toy_model_and_a_bad_checkpoint(capsys, tmp_path):
    model = tmp_path / "xor.pt"
    run_cli(capsys, "train", "--epochs", "1", "--quiet", "--save", str(model))
    code, _, err = run_cli(capsys, "predict", "--model", str(model), "x.png")
    assert code == 2 and "not on digits" in err
    fake = tmp_path / "fake.pt"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    code, _, err = run_cli(capsys, "predict", "--model", str(fake), "x.png")
    assert code == 2 and "not a Neural Playground checkpoint" in err


def test_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "playground", "train", "--epochs", "1", "--json", "--quiet"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "ok"


def test_bench_reports_both_ways_and_the_extras(capsys, monkeypatch):
    from playground import bench
    monkeypatch.setitem(bench.CASES, "quadrants002", {**bench.CASES["quadrants002"], "epochs": 40})   # quick
    code, out, err = run_cli(capsys, "bench", "--cases", "quadrants002", "--device", "cpu", "--json")
    report = json.loads(out.strip().splitlines()[-1])
    case = report["cases"]["quadrants002"]
    assert code == 0 and report["device"] == "cpu" and report["torch"]
    assert case["trainer"]["steps"] == case["reference"]["steps"] == 40 * 79
    assert case["speedup"] > 0 and case["trainer"]["fast_path"] == "eager"
    extras = report["extras"]
    assert extras["surface_200x200_ms"] > 0 and extras["draw_to_prediction_ms"]["worst_p95"] > 0
    assert extras["draw_to_prediction_ms"]["reader"]["p95"] > 0
    assert "overhead_percent" in extras["live_overhead"] and "quadrants002" in err
    code, _, err = run_cli(capsys, "bench", "--cases", "imagenet")
    assert code == 2 and "unknown bench case" in err


def test_predict_without_a_model_uses_the_bundled_reader(capsys, tmp_path):
    data = np.load(ROOT / "datasets" / "mnist_sample.npz")
    paths = []
    for i in range(0, 1000, 100):                              # one digit of each class
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(255 - np.kron(data["x_test"][i], np.ones((8, 8), np.uint8))).save(paths[-1])
    code, out, err = run_cli(capsys, "predict", *map(str, paths))
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 0 and err == "" and [r["image"] for r in lines] == list(map(str, paths))
    assert all(len(r["probabilities"]) == 10 and r["confidence"] == max(r["probabilities"]) for r in lines)
    correct = sum(r["digit"] == int(data["y_test"][i]) for r, i in zip(lines, range(0, 1000, 100)))
    assert correct >= 9, lines
