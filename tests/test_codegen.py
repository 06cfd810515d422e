"""The exported script: compiles for every kind of config, carries only what the config uses,
runs on its own, and on the CPU prints exactly the numbers the app's Trainer records."""
import ast
import gzip
import inspect
import io
import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest

from playground import cli, codegen
from playground import config as cfg

TIMEOUT = 60


# ------------------------------------------------------------------ a spread of configs
def _spread() -> list[dict]:
    configs = [dict(dataset=d) for d in cfg.GENERATED_DATASETS]
    for dataset in ("xor", "quadrants", "prod"):          # binary, multiclass, regression
        task = cfg.Config(dataset=dataset).task
        configs += [dict(dataset=dataset, loss=loss) for loss in cfg.LOSSES_FOR_TASK[task]]
    configs += [dict(optimizer=o) for o in cfg.OPTIMIZERS]
    configs += [dict(init=i, activation=("leaky_relu", "gelu")) for i in cfg.INITS]
    configs += [
        dict(dataset="prod", loss="l1", features=("x1sq", "x1x2"), init="xavier", l1=0.001),
        dict(dataset="xor", loss="cross_entropy", optimizer="sgd", momentum=0.9, nesterov=True, drop_last=True),
        dict(dataset="xor", loss="mse", optimizer="rmsprop", init="normal", init_std=0.2),
        dict(dataset="quadrants", loss="nll", optimizer="adagrad", dropout=0.2, init="kaiming"),
        dict(dataset="quadrants", loss="mse", optimizer="adamw", weight_decay=0.01, activation=("relu", "gelu")),
        dict(dataset="spiral", hidden=(), features=cfg.FEATURES, device="cpu", seed=7),
        dict(dataset="circle", hidden=(16, 8, 4), activation=("sigmoid", "linear", "relu"), noise=0.3),
    ]
    configs += [dict(p) for p in cfg.MNIST_PRESETS.values()]
    configs += [
        dict(cfg.MNIST_PRESETS["Small CNN (16-32 conv, Adam)"], augment=True, normalize="unit", init="xavier"),
        dict(cfg.MNIST_BASE, model="cnn", channels=(8, 8, 8), hidden=(), loss="cross_entropy", drop_last=True,
             l1=0.0001, dropout=0.1, activation=("leaky_relu",), init="kaiming"),
        dict(cfg.MNIST_BASE, hidden=(32,), loss="mse", optimizer="rmsprop", augment=True),
    ]
    return configs


@pytest.mark.parametrize("settings", _spread(), ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_scripts_compile_and_stand_alone(settings):
    source = codegen.script(cfg.from_dict(settings))
    compile(source, "train.py", "exec")
    modules = {a.name.split(".")[0] for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import)
               for a in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert modules <= {"numpy", "torch"} | set(sys.stdlib_module_names), modules
    assert max(len(line) for line in source.splitlines()) <= 110
    assert lint(source) == [], lint(source)


def lint(source: str) -> list[str]:
    """pyflakes' complaints: unused imports or variables, undefined names (none when it is missing)."""
    try:
        from pyflakes.api import check
        from pyflakes.reporter import Reporter
    except ImportError:
        return []
    out = io.StringIO()
    check(source, "train.py", Reporter(out, out))
    return out.getvalue().splitlines()


def code(config: cfg.Config) -> str:
    """The script without its header comment (which lists every setting)."""
    source = codegen.script(config)
    return source[source.index("\nimport"):]


def test_only_what_the_config_uses():
    plain = code(cfg.Config())
    for absent in ("Dropout", "l1_penalty", "digits(", "Normalize", "momentum", "add_features", "nn.init",
                   "gzip", "steps =", "weight_decay", "LogSoftmax", "math", "8192"):
        assert absent not in plain, absent
    full = code(cfg.from_dict(dict(dataset="xor", dropout=0.3, l1=0.01, optimizer="sgd", momentum=0.5,
                                             features=("sin_x1",), init="xavier", drop_last=True, loss="nll")))
    for present in ("nn.Dropout(0.3)", "l1_penalty()", "momentum=0.5", "add_features(", "xavier_uniform_",
                    "steps = len(x_train) // batch_size", "nn.LogSoftmax(dim=1)", "F.nll_loss"):
        assert present in full, present
    mnist = code(cfg.from_dict(dict(cfg.MNIST_BASE, model="cnn", augment=True)))
    for present in ("class Normalize", "nn.Conv2d(1, 16, 3, padding=1)", "def digits(", "import gzip",
                    "import math", "MAX_ROTATION = math.radians(10)"):
        assert present in mnist, present
    assert "namedtuple" not in mnist and "def xor" not in mnist


def test_data_comes_from_the_apps_own_generators():
    from datasets import toy
    for name in cfg.GENERATED_DATASETS:
        source = codegen.script(cfg.Config(dataset=name))
        assert inspect.getsource(getattr(toy, name)) in source
        others = set(cfg.GENERATED_DATASETS) - {name}
        assert not any(f"\ndef {other}(" in source for other in others)


def test_embed_refuses_what_it_cannot_carry():
    from datasets import toy
    with pytest.raises(ValueError, match="cannot embed make_split from datasets.toy"):
        codegen.embed(toy, ["make_split"], provided=("Dataset", "Split"))


# ------------------------------------------------------------------ the command line in the header
def cli_line(source: str) -> list[str]:
    """The `python -m playground train ...` command of the header, as argv after `train`."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if "python -m playground train" in line)
    text = ""
    for line in lines[start:]:
        text += line.lstrip("#").strip().removesuffix("\\") + " "
        if not line.endswith("\\"):
            break
    words = shlex.split(text)
    assert words[:4] == ["python", "-m", "playground", "train"]
    return words[4:]


@pytest.mark.parametrize("settings", [
    {},
    dict(dataset="spiral", hidden=(8, 8), features=("sin_x1",), lr=0.01),
    dict(dataset="quadrants", hidden=(), features=cfg.FEATURES, noise=0.35, test_ratio=0.3, loss="nll",
         optimizer="sgd", momentum=0.9, nesterov=True, l1=1e-05, weight_decay=0.001, drop_last=True, seed=123,
         init="normal", init_std=0.05, dropout=0.25, activation=("relu",), device="cpu", epochs=7),
    dict(dataset="xor", hidden=(16, 8, 4, 2), activation=("tanh", "relu", "gelu", "sigmoid")),
    dict(cfg.MNIST_PRESETS["Small CNN (16-32 conv, Adam)"], augment=True, normalize="unit", channels=(4, 8, 16)),
])
def test_header_cli_line_round_trips(settings):
    config = cfg.from_dict(settings)
    argv = cli_line(codegen.script(config))
    names = {cfg.flag_name(n): n for n in cfg.KNOBS}
    assert cfg.from_dict({names[flag]: value for flag, value in zip(argv[::2], argv[1::2])}) == config
    assert cfg.from_cli(cli.build_parser().parse_args(["train", *argv])) == config


def test_header_lists_the_settings():
    config = cfg.from_dict(dict(dataset="gauss", noise=0.4, hidden=(5, 3), optimizer="sgd", momentum=0.8))
    source = codegen.script(config)
    header = source[:source.index("\nimport")]
    for item in ("dataset=gauss", "noise=0.4", "hidden=5,3", "momentum=0.8", "loss=auto (bce_with_logits)"):
        assert item in header, item
    assert "channels" not in header and "augment" not in header    # do not apply to toy sets


# ------------------------------------------------------------------ running the scripts
def write_idx(folder, n_train: int = 64, n_test: int = 32) -> None:
    """A tiny MNIST: the four gzipped IDX files, random digits."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, array in {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
                        "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
                        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
                        "t10k-labels-idx1-ubyte.gz": rng.permutation(np.arange(n_test) % 10)}.items():
        magic = 2051 if array.ndim == 3 else 2049
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (folder / name).write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


# Compared number for number with the Trainer (no dropout: nn.Dropout draws its masks differently).
EXACT = {
    "xor": dict(dataset="xor", n_points=400, epochs=50, optimizer="adam", lr=0.03, hidden=(8, 8)),
    "quadrants": dict(dataset="quadrants", n_points=200, epochs=3, l1=0.01, features=("x1sq", "sin_x2"),
                      init="kaiming", activation=("leaky_relu", "relu"), hidden=(8, 4), drop_last=True,
                      batch_size=16, optimizer="sgd", momentum=0.9, nesterov=True),
    "prod": dict(dataset="prod", n_points=200, epochs=3, noise=0.2, init="xavier", optimizer="rmsprop",
                 loss="l1", lr=0.01, activation=("gelu",)),
    "circle": dict(dataset="circle", n_points=200, epochs=3, init="normal", init_std=0.3, optimizer="adagrad",
                   loss="mse", weight_decay=0.01, activation=("sigmoid",)),
    "spiral": dict(dataset="spiral", n_points=200, epochs=3, hidden=(), features=cfg.FEATURES, loss="nll",
                   optimizer="adamw", weight_decay=0.01, noise=0.3, seed=5, test_ratio=0.3),
    "mnist_cnn": dict(cfg.MNIST_PRESETS["Small CNN (16-32 conv, Adam)"], channels=(4, 8), hidden=(16,),
                      augment=True, init="xavier", epochs=2, batch_size=16),
    "mnist_mlp": dict(cfg.MNIST_BASE, hidden=(32, 16), normalize="unit", loss="mse", momentum=0.9, l1=0.001,
                      drop_last=True, batch_size=24, epochs=2),
}
OTHERS = {
    "dropout": dict(dataset="gauss", n_points=200, epochs=5, dropout=0.2, hidden=(16,), loss="cross_entropy"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every script started at once (one thread each); a test waits for its own."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    started = {}
    for name, settings in {**EXACT, **OTHERS}.items():
        folder = tmp_path_factory.mktemp(name)
        if name.startswith("mnist"):
            write_idx(folder / "mnist")
        (folder / "train.py").write_text(codegen.script(cfg.from_dict(settings)))
        started[name] = (folder, subprocess.Popen([sys.executable, "train.py"], cwd=folder, env=env, text=True,
                                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    yield started
    for _, process in started.values():
        process.kill()


_outputs: dict[str, str] = {}


def output(runs, name: str) -> list[str]:
    """The script's epoch lines, once it exited 0."""
    if name not in _outputs:
        process = runs[name][1]
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, stderr
        _outputs[name] = stdout
    return [line for line in _outputs[name].splitlines() if line.startswith("epoch")]


def record_line(record) -> str:
    line = f"epoch {record.epoch:3d}  train loss {record.train_loss:.5f}  test loss {record.test_loss:.5f}"
    return line if record.test_acc is None else line + f"  test accuracy {record.test_acc:.4f}"


@pytest.mark.parametrize("name", EXACT)
def test_script_repeats_the_apps_run(runs, name):
    from playground.training import Trainer
    config = cfg.from_dict(EXACT[name])
    folder = runs[name][0]
    trainer = Trainer(config, data_dir=str(folder / "mnist") if config.dataset == "mnist" else None,
                      device="cpu", fast_path="eager")
    assert trainer.run() == "finished"
    assert output(runs, name) == [record_line(r) for r in trainer.history]


def test_toy_script_learns_xor(runs):
    lines = output(runs, "xor")
    assert len(lines) == 50
    assert float(lines[-1].split("test accuracy")[1]) > 0.8


def test_dropout_script_runs(runs):
    lines = output(runs, "dropout")
    assert len(lines) == 5
    numbers = [float(x) for x in re.findall(r"\d+\.\d+", lines[-1])]
    assert all(np.isfinite(numbers)) and 0 <= numbers[-1] <= 1
