"""Your own 2D data: CSV files good and bad (each with its message), clicked points, the split,
training on them through a job and the CLI, and the exported script reading them back."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import datasets
from datasets import points as pts
from playground import cli, codegen
from playground import config as cfg
from playground.training import Trainer

RING = "\n".join(f"{np.cos(a) * r:.3f},{np.sin(a) * r:.3f},{int(r > 2)}"
                 for a, r in zip(np.linspace(0, 6.28, 60), np.tile([1.0, 3.0], 30)))


def test_a_good_file_with_a_header_is_read_and_rescaled_per_axis():
    points = pts.parse_csv(b"x1,x2,label\n10,100,0\n20,300,1\n30,200,1\n" + b"15,150,0\n" * 7)
    assert points.task == "classes" and points.dataset == "custom" and len(points) == 10
    # x1 10..30 -> -1..1 (centre 20, half 10); x2 100..300 -> -1..1 (centre 200, half 100)
    np.testing.assert_allclose(points.x[:4], [[-1, -1], [0, 1], [1, 0], [-0.5, -0.5]])
    assert points.y.tolist() == [0, 1, 1] + [0] * 7 and points.y.dtype == np.int64 and points.n_classes == 2


def test_without_a_header_whole_numbers_are_labels_and_others_targets():
    labels = pts.parse_csv(RING)
    assert labels.task == "classes" and labels.n_classes == 2
    targets = pts.parse_csv("\n".join(f"{i},{i % 3},{i * 0.5}" for i in range(12)))
    assert targets.task == "regression" and targets.dataset == "custom_regression"
    assert targets.y.dtype == np.float32 and targets.y[3] == 1.5
    forced = pts.parse_csv("x1,x2,target\n" + "\n".join(f"{i},{i % 3},{i}" for i in range(12)))
    assert forced.task == "regression"                               # the header decides
    assert pts.parse_csv("\ufeffx1,x2,label\r\n" + RING.replace("\n", "\r\n")).task == "classes"  # BOM, CRLF


@pytest.mark.parametrize("text, words", [
    ("", "the file is empty"),
    ("x1,x2,label\n", "a header but no points"),
    ("a,b,c\n1,2,0\n", "line 1: the header should be x1,x2,label"),
    ("1,2\n3,4\n", "line 1 is missing a column: it has 2"),
    ("1,2,0\n3,4,1,9\n", "line 2 has extra columns: it has 4"),
    ("1,2,0\n3,four,1\n", "line 2: x2 is 'four', which is not a number"),
    ("1,2,0\nnan,4,1\n", "line 2: x1 is nan; every value must be a finite number"),
    ("1,2,0\n3,inf,1\n", "line 2: x2 is inf"),
    ("x1,x2,label\n1,2,0\n3,4,1.5\n", "line 3: the label 1.5 is not a class number"),
    ("x1,x2,label\n1,2,0\n3,4,-1\n", "line 3: the label -1 is not a class number"),
    ("\n".join(f"{i},{i},0" for i in range(12)), "every point has label 0: a classifier needs at least two"),
    ("\n".join(f"{i},{i},{2 * (i % 2)}" for i in range(12)), "no point has label 1"),
    ("\n".join(f"{i},{i},{i}" for i in range(12)), "label 11 is too big"),
    ("1,2,0\n3,4,1\n", "there are 2 points; at least 10"),
    ("\n".join("5,5," + str(i % 2) for i in range(12)), "all points are at the same place"),
    ("\n".join(f"{i},{i},{i % 2}" for i in range(cfg.MAX_TOY_POINTS + 1)), "at most 20,000 are allowed"),
])
def test_each_kind_of_bad_file_is_refused_with_its_message(text, words):
    with pytest.raises(pts.PointsError) as caught:
        pts.parse_csv(text.encode())
    assert words in str(caught.value)


def test_a_binary_or_huge_file_is_refused_before_parsing():
    with pytest.raises(pts.PointsError, match="not a text"):
        pts.parse_csv(b"\xff\xfe\x00garbage")
    with pytest.raises(pts.PointsError, match="at most 2 MB"):
        pts.parse_csv(b"1,2,0\n" * 400_000)


def test_clicked_points_add_up_and_round_trip_through_csv_exactly():
    points = pts.empty("classes")
    for i in range(12):
        points = pts.add(points, 0.1 * i - 0.6, 0.3 * (-1) ** i, i % 3)
    assert len(points) == 12 and points.n_classes == 3 and points.x.dtype == np.float32
    back = pts.parse_csv(points.to_csv())
    assert back.task == "classes" and back.y.tolist() == points.y.tolist()
    with pytest.raises(pts.PointsError, match="whole number from 0 to 9"):
        pts.add(points, 0, 0, 10)
    with pytest.raises(pts.PointsError, match="finite"):
        pts.add(points, float("nan"), 0, 1)
    full = pts.parse_csv(RING)
    assert pts.parse_csv(full.to_csv()).digest == full.digest         # already in the plane: unchanged


def test_the_split_holds_out_test_ratio_with_the_seed():
    points = pts.parse_csv(RING)
    config = cfg.from_dict(dict(dataset="custom", n_points=len(points), test_ratio=0.25, seed=3, features=("x1sq",)))
    split = datasets.load(config, points=points)
    order = np.random.default_rng(4).permutation(60)                 # seed + 1, as the toy sets
    test, train = order[:15], order[15:]
    np.testing.assert_array_equal(split.test.x[:, :2], points.x[test])
    np.testing.assert_array_equal(split.train.y, points.y[train])
    np.testing.assert_allclose(split.train.x[:, 2], points.x[train, 0] ** 2, rtol=1e-6)
    assert split.task == "multiclass" and split.n_classes == 2 and "your points: 60" in split.source
    with pytest.raises(pts.PointsError, match="needs your points"):
        datasets.load(config)
    with pytest.raises(pts.PointsError, match="for dataset custom, not custom_regression"):
        datasets.load(config.replace(dataset="custom_regression"), points=points)


def test_a_network_learns_uploaded_rings_and_a_job_in_a_worker_trains_on_them():
    from playground.jobs import Job
    from playground.workers import WorkerPool
    points = pts.parse_csv(RING)
    config = cfg.from_dict(dict(dataset="custom", n_points=60, hidden=(8,), epochs=60, batch_size=10, seed=1,
                                device="cpu", lr=0.05))
    solo = Trainer(config, points=points)
    solo.run()
    assert solo.history[-1].train_acc == 1.0                          # inner ring against outer ring
    pool = WorkerPool(1, processes=True)
    try:
        job = Job(config, pool=pool, points=points)
        job.play()
        assert job.wait(60) and job.snapshot().status == "finished", job.snapshot().message
        assert [r["test_loss"] for r in job.snapshot().history] == [r.test_loss for r in solo.history]
        job.close()
    finally:
        pool.close()


def test_cli_train_with_data(tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,label\n" + RING)
    assert cli.main(["train", "--data", str(path), "--epochs", "3", "--quiet", "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["dataset"] == "custom" and result["data_source"].startswith("your points: 60")
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n")
    assert cli.main(["train", "--data", str(bad), "--quiet"]) == cli.EXIT_INVALID
    assert "bad.csv: line 1 is missing a column" in capsys.readouterr().err
    assert cli.main(["train", "--data", str(path), "--dataset", "xor", "--quiet"]) == cli.EXIT_INVALID
    assert cli.main(["train", "--dataset", "custom", "--quiet"]) == cli.EXIT_INVALID
    assert "needs your points" in capsys.readouterr().err


@pytest.mark.parametrize("dataset", ["custom", "custom_regression"])
def test_the_exported_script_reads_points_csv_and_repeats_the_run(tmp_path, dataset):
    rng = np.random.default_rng(0)
    xy = rng.uniform(-1, 1, (40, 2))
    y = (xy[:, 0] > xy[:, 1]).astype(int) + (xy[:, 0] > 0.5) if dataset == "custom" else xy[:, 0] * xy[:, 1]
    points = pts.parse_csv(("x1,x2,label\n" if dataset == "custom" else "x1,x2,target\n")
                           + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(xy, y)))
    config = cfg.from_dict(dict(dataset=dataset, n_points=40, epochs=3, batch_size=8, device="cpu",
                                features=("x1x2",), seed=5))
    app = Trainer(config, points=points)
    app.run()
    (tmp_path / "points.csv").write_text(points.to_csv())
    (tmp_path / "train.py").write_text(codegen.script(config))
    out = subprocess.run([sys.executable, "train.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("epoch")]
    script_losses = [float(line.split("test loss")[1].split()[0]) for line in lines]
    assert script_losses == pytest.approx([r.test_loss for r in app.history], rel=1e-4)
    assert torch.get_num_threads() >= 1
