"""The exported script: compiles for every kind of config, runs, and reproduces the settings."""
import gzip
import re
import subprocess
import sys

import numpy as np
import pytest

from playground import codegen
from playground import config as cfg

CONFIGS = [
    dict(dataset=d) for d in cfg.TOY_DATASETS
] + [
    dict(dataset="prod", loss="l1", features=("x1sq", "x1x2"), init="xavier", l1=0.001),
    dict(dataset="xor", loss="cross_entropy", optimizer="sgd", momentum=0.9, nesterov=True, drop_last=True),
    dict(dataset="xor", loss="mse", optimizer="rmsprop", init="normal", init_std=0.2),
    dict(dataset="quadrants", loss="nll", optimizer="adagrad", dropout=0.2, init="kaiming"),
    dict(dataset="quadrants", loss="mse", optimizer="adamw", weight_decay=0.01, activation=("relu", "gelu")),
    dict(cfg.MNIST_PRESETS["784-392-196-98-10, dropout 0.2, Adam"]),
    dict(cfg.MNIST_PRESETS["Small CNN (16-32 conv, Adam)"], augment=True, normalize="unit"),
]


@pytest.mark.parametrize("settings", CONFIGS)
def test_scripts_compile(settings):
    source = codegen.script(cfg.from_dict(settings))
    compile(source, "train.py", "exec")
    assert "import playground" not in source and "from playground" not in source


def test_header_cli_line_round_trips():
    config = cfg.from_dict(dict(dataset="spiral", hidden=(8, 8), features=("sin_x1",), lr=0.01))
    line = re.search(r"python -m playground train (.*)", codegen.script(config)).group(1)
    flags = dict(zip(line.split()[::2], line.split()[1::2]))
    assert cfg.from_dict({k[2:].replace("-", "_"): v for k, v in flags.items()}) == config


def run(source: str, folder) -> str:
    path = folder / "train.py"
    path.write_text(source)
    result = subprocess.run([sys.executable, str(path)], cwd=folder, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_toy_script_learns_xor(tmp_path):
    config = cfg.from_dict(dict(dataset="xor", n_points=400, epochs=50))
    last = run(codegen.script(config), tmp_path).strip().splitlines()[-1]
    assert float(last.split("test accuracy")[1]) > 0.8


def test_toy_regression_script_runs(tmp_path):
    config = cfg.from_dict(dict(dataset="prod", n_points=300, epochs=5, l1=0.0001, features=("x1x2",)))
    assert "test loss" in run(codegen.script(config), tmp_path)


def test_mnist_script_runs_on_idx_files(tmp_path):
    data = tmp_path / "mnist"
    data.mkdir()
    rng = np.random.default_rng(0)
    for name, array in {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (64, 28, 28)),
                        "train-labels-idx1-ubyte.gz": np.arange(64) % 10,
                        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (16, 28, 28)),
                        "t10k-labels-idx1-ubyte.gz": np.arange(16) % 10}.items():
        magic = 2051 if array.ndim == 3 else 2049
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (data / name).write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))
    config = cfg.from_dict(dict(cfg.MNIST_PRESETS["Small CNN (16-32 conv, Adam)"], epochs=1, augment=True,
                                batch_size=16))
    assert "epoch   1" in run(codegen.script(config), tmp_path)
