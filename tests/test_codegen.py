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
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from playground import cli, codegen
from playground import config as cfg

TIMEOUT = 120     # seconds one exported script may run (each needs ~5 s of CPU, mostly importing torch)


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
    configs += [dict(p) for p in cfg.IMAGE_PRESETS.values()]
    configs += [
        dict(cfg.MNIST_PRESETS["Small CNN (16-32 conv, Adam)"], augment=True, normalize="unit", init="xavier"),
        dict(cfg.MNIST_BASE, model="cnn", conv=("8-3-1-max", "8-3-1-max", "8-3-1-max"), hidden=(),
             loss="cross_entropy", drop_last=True, l1=0.0001, dropout=0.1, activation=("leaky_relu",), init="kaiming"),
        dict(cfg.MNIST_BASE, hidden=(32,), loss="mse", optimizer="rmsprop", augment=True),
        dict(cfg.FASHION_BASE, model="cnn", conv=("8-5-2-avg", "16-3-0-gap"), hidden=(), augment=True,
             normalize="unit", init="normal"),
        dict(cfg.CIFAR_BASE, model="cnn", conv=("8-3-1-max", "8-5-2-avg", "16-3-0-none", "8-1-0-gap"),
             hidden=(16,), augment=True, l1=0.001, loss="mse", init="kaiming", activation=("gelu",)),
        dict(cfg.CIFAR_BASE, hidden=(), normalize="unit", loss="nll", drop_last=True),
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
    fashion = code(cfg.from_dict(dict(cfg.FASHION_BASE, model="cnn", conv=("6-5-2-avg", "16-5-0-none"),
                                      augment=True)))
    for present in ('DATA_DIR = Path("fashion_mnist")', "def read_idx(", "Normalize(0.286, 0.353)",
                    "nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),",
                    "nn.Conv2d(6, 16, 5, padding=0), nn.ReLU(),\n", "nn.Linear(1600, 8)",
                    "def shift_and_flip(", "shift_and_flip(x_train[idx], gen, 2)"):
        assert present in fashion, present
    assert "def digits(" not in fashion and "tarfile" not in fashion and "MaxPool" not in fashion
    cifar = code(cfg.from_dict(dict(cfg.CIFAR_BASE, model="cnn", conv=("8-3-0-max", "16-3-1-gap"), augment=True)))
    for present in ("import tarfile", 'DATA_DIR = Path("cifar10")', "cifar-10-binary.tar.gz",
                    "np.frombuffer", "Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.2435, 0.2616))",
                    "nn.Conv2d(3, 8, 3, padding=0), nn.ReLU(), nn.MaxPool2d(2),",
                    "nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),", "nn.Linear(16, 8)",
                    "shift_and_flip(x_train[idx], gen, 4)", "8192"):
        assert present in cifar, present
    for absent in ("gzip", "read_idx", "def digits(", "pickle", "reshape(-1, 1, 28, 28)"):
        assert absent not in cifar, absent


@pytest.mark.parametrize("name", [n for n, p in cfg.IMAGE_PRESETS.items() if p.get("model") == "cnn"] + ["pools"])
def test_image_models_are_the_apps(name):
    """The script's nn.Sequential has build_model's layers, sizes and Normalize numbers."""
    import contextlib

    import torch
    from torch import nn

    from playground.models import build_model
    settings = cfg.IMAGE_PRESETS.get(name) or dict(
        cfg.CIFAR_BASE, model="cnn", conv=("4-3-1-max", "4-5-2-avg", "6-3-0-none", "8-1-0-gap"), hidden=(16,))
    config = cfg.from_dict(settings)
    namespace = {"torch": torch, "nn": nn}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(codegen.model(config).text, namespace)
    script_model = namespace["model"]
    shape = cfg.IMAGE_SHAPES[config.dataset]
    app_model = build_model(config, int(np.prod(shape)), 10)
    assert [type(m).__name__ for m in script_model] == [type(m).__name__ for m in app_model]
    # (the app's Dropout is its own, drawing from the run's generator; the script's is nn.Dropout)
    assert [repr(m).replace(", inplace=False", "") for m in script_model] == [repr(m) for m in app_model]
    assert [p.shape for p in script_model.parameters()] == [p.shape for p in app_model.parameters()]
    x = torch.rand(2, *shape, generator=torch.Generator().manual_seed(0))
    assert torch.equal(script_model[0](x), app_model[0](x))          # Normalize, per channel for CIFAR-10


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
    dict(cfg.MNIST_PRESETS["Small CNN (16-32 conv, Adam)"], augment=True, normalize="unit", conv=("4", "8", "16")),
    dict(cfg.CIFAR_BASE, model="cnn", conv=("4-5-2-avg", "8-3-0-none", "16-3-1-gap"), augment=True, epochs=1),
    dict(cfg.FASHION_BASE, hidden=(64, 32), dropout=0.1),
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
    assert "conv=" not in header and "augment" not in header    # do not apply to toy sets
    assert "DATA_DIR" not in header


@pytest.mark.parametrize("dataset", cfg.IMAGE_DATASETS)
def test_image_headers_say_what_the_same_data_needs(dataset):
    source = codegen.script(cfg.from_dict(dict(cfg.MNIST_BASE, dataset=dataset, loss="cross_entropy")))
    header = source[:source.index("\nimport")]
    assert "repeats the app's run step for step" in header
    assert "files in DATA_DIR (below) as the app read" in header
    assert ("bundled sample" in header) == (dataset == "mnist")    # only MNIST has one to fall back on
    source_url = {"mnist": codegen.MNIST_SOURCE, "fashion_mnist": codegen.FASHION_MNIST_SOURCE,
                  "cifar10": codegen.CIFAR10_SOURCE}[dataset]
    assert source_url in source and "conv=" not in header


# ------------------------------------------------------------------ running the scripts
def write_idx(folder, n_train: int = 64, n_test: int = 32) -> None:
    """A tiny MNIST (or Fashion-MNIST: the same format): the four gzipped IDX files, random images."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, array in {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
                        "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
                        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
                        "t10k-labels-idx1-ubyte.gz": rng.permutation(np.arange(n_test) % 10)}.items():
        magic = 2051 if array.ndim == 3 else 2049
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (folder / name).write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def write_cifar(folder, n_per_batch: int = 12, n_test: int = 20) -> None:
    """A tiny cifar-10-binary.tar.gz: five training batches and a test batch of random records
    (1 label byte + 3072 pixel bytes), under cifar-10-batches-bin/ as in the official archive."""
    folder.mkdir()
    rng = np.random.default_rng(1)

    def records(n: int) -> bytes:
        rows = np.concatenate([rng.integers(0, 10, (n, 1)), rng.integers(0, 256, (n, 3 * 32 * 32))], 1)
        return rows.astype(np.uint8).tobytes()
    members = {"cifar-10-batches-bin/batches.meta.txt": b"airplane\n"}
    members |= {f"cifar-10-batches-bin/data_batch_{i}.bin": records(n_per_batch) for i in range(1, 6)}
    members["cifar-10-batches-bin/test_batch.bin"] = records(n_test)
    with tarfile.open(folder / "cifar-10-binary.tar.gz", "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


WRITE_DATA = {"mnist": write_idx, "fashion_mnist": write_idx, "cifar10": write_cifar}   # into folder / dataset

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
    "mnist_cnn": dict(cfg.MNIST_PRESETS["Small CNN (16-32 conv, Adam)"], conv=("4-3-1-max", "8-3-1-max"),
                      hidden=(16,), augment=True, init="xavier", epochs=2, batch_size=16),
    "mnist_lenet": dict(cfg.MNIST_BASE, **cfg.LENET) | dict(conv=("4-5-2-max", "8-5-0-max"), hidden=(24, 12),
                                                           epochs=2, batch_size=16),
    "fashion_cnn": dict(cfg.FASHION_BASE, model="cnn", conv=("4-3-1-avg", "6-3-0-max", "8-3-1-none"), hidden=(16,),
                        augment=True, init="kaiming", activation=("leaky_relu",), epochs=2, batch_size=16),
    "cifar_cnn": dict(cfg.CIFAR_BASE, model="cnn", conv=("4-3-1-max", "6-5-2-avg", "8-3-0-none", "8-1-0-gap"),
                      hidden=(16,), augment=True, epochs=2, batch_size=16),
    "mnist_mlp": dict(cfg.MNIST_BASE, hidden=(32, 16), normalize="unit", loss="mse", momentum=0.9, l1=0.001,
                      drop_last=True, batch_size=24, epochs=2),
}
OTHERS = {
    "dropout": dict(dataset="gauss", n_points=200, epochs=5, dropout=0.2, hidden=(16,), loss="cross_entropy"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every script, run in the background in the order the tests read them, one per CPU core at
    most (all at once, a dozen torch imports starved each other on 2 cores); a test waits for its own."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    processes: list[subprocess.Popen] = []
    closing = threading.Event()

    def run(folder) -> subprocess.CompletedProcess:
        if closing.is_set():
            raise RuntimeError("the tests are over")
        process = subprocess.Popen([sys.executable, "train.py"], cwd=folder, env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        processes.append(process)
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        finally:
            process.kill()
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    started = {}
    for name, settings in {**EXACT, **OTHERS}.items():
        folder = tmp_path_factory.mktemp(name)
        config = cfg.from_dict(settings)
        if config.is_image:
            WRITE_DATA[config.dataset](folder / config.dataset)
        (folder / "train.py").write_text(codegen.script(config))
        started[name] = (folder, pool.submit(run, folder))
    yield started
    closing.set()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()


def output(runs, name: str) -> list[str]:
    """The script's epoch lines, once it exited 0."""
    done = runs[name][1].result()
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("epoch")]


def record_line(record) -> str:
    line = f"epoch {record.epoch:3d}  train loss {record.train_loss:.5f}  test loss {record.test_loss:.5f}"
    return line if record.test_acc is None else line + f"  test accuracy {record.test_acc:.4f}"


@pytest.mark.parametrize("name", EXACT)
def test_script_repeats_the_apps_run(runs, name):
    from playground.training import Trainer
    config = cfg.from_dict(EXACT[name])
    folder = runs[name][0]
    trainer = Trainer(config, data_dir=str(folder / config.dataset) if config.is_image else None,
                      device="cpu", fast_path="eager")
    if config.is_image:     # the fixture files, not a bundled sample or a copy found elsewhere
        assert not trainer.split.used_sample and len(trainer.split.train) == {"cifar10": 60}.get(config.dataset, 64)
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


def test_many_pages_showing_their_code_at_once_parse_one_at_a_time(monkeypatch):
    # Streamlit runs each student's page in a thread of one process. On Python 3.11 two threads in
    # ast.parse at once can fail with "SystemError: AST constructor recursion depth mismatch"
    # (it broke a page in the classroom test). So the app's sources are parsed one at a time, once.
    configs = [cfg.from_dict({"dataset": d}) for d in ("xor", "spiral", "custom", "mnist")]
    expected = [codegen.script(c) for c in configs]
    real_parse, inside, most, parsed = ast.parse, [0], [0], []

    def slow_parse(source, *args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.02)                      # wide enough for another thread to come in
        try:
            parsed.append(source)
            return real_parse(source, *args, **kwargs)
        finally:
            inside[0] -= 1
    monkeypatch.setattr(codegen.ast, "parse", slow_parse)
    monkeypatch.setattr(codegen, "_PARSED", {}, raising=False)
    with ThreadPoolExecutor(8) as pool:
        scripts = list(pool.map(lambda i: codegen.script(configs[i % len(configs)]), range(16)))
    assert scripts == expected * 4
    assert most[0] == 1 and len(parsed) == len(set(parsed))
