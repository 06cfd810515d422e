"""Config -> a standalone PyTorch script that does the same run (torch, numpy and the standard library).

`script(config)` joins one small section per part of the run: header, imports, data, model,
weight init, loss, optimizer, augmentation and training loop. Each section writes only what
the config uses. The data generators, the Normalize layer and the augmentations are the app's
own source, embedded with `embed`; the rest mirrors models.py and training.py (the conv blocks
and the image sets of config.py included), so on the CPU the script repeats the app's run step
for step, given the same data files (dropout masks aside: nn.Dropout draws its own).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import math
import shlex
import sys
import textwrap
import threading
import types
from dataclasses import dataclass

from playground import config as cfg
from playground.config import Config
from playground.models import GAINS, n_outputs, pixel_stats

ACTIVATION_CODE = {"relu": "nn.ReLU()", "leaky_relu": "nn.LeakyReLU(0.01)", "tanh": "nn.Tanh()",
                   "sigmoid": "nn.Sigmoid()", "gelu": "nn.GELU()", "linear": "nn.Identity()"}
OPTIMIZER_CLASS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
FEATURE_CODE = {"x1sq": "x1 * x1", "x2sq": "x2 * x2", "x1x2": "x1 * x2",
                "sin_x1": "np.sin(x1)", "sin_x2": "np.sin(x2)"}   # as datasets.toy.add_features
EVAL_CHUNK = 8192          # images: examples per forward pass when evaluating (as evaluation.CHUNK)
HEADER_WIDTH = 96
MNIST_SOURCE = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FASHION_MNIST_SOURCE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
CIFAR10_SOURCE = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
IMAGE_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
POOL_CODE = {"max": "nn.MaxPool2d(2)", "avg": "nn.AvgPool2d(2)", "none": "", "gap": "nn.AdaptiveAvgPool2d(1)"}


@dataclass(frozen=True)
class Code:
    """One section of the script and the import lines it needs."""
    text: str
    imports: frozenset[str] = frozenset()


def script(config: Config) -> str:
    """The whole script for a config, as Python source."""
    sections = [setup(config), data(config), model(config), init(config), loss(config), optimizer(config),
                augmentation(config), training(config)]
    sections = [s for s in sections if s.text]
    needed = frozenset().union(*(s.imports for s in sections))
    parts = [header(config), imports(needed)] + [s.text.strip("\n") for s in sections]
    return "\n\n\n".join(parts) + "\n"


# ------------------------------------------------------------------ header and set-up
def header(config: Config) -> str:
    lines = ["# Neural Playground: this run as a standalone PyTorch script (needs only torch and numpy).",
             "# On the CPU it repeats the app's run step for step: the same data, initial weights,",
             f"# shuffles{', augmentations' if config.augmenting else ''} and losses"
             + (", up to the first dropout mask\n# (nn.Dropout draws its masks in its own way)." if config.dropout
                else ".")]
    if config.is_image:
        title = IMAGE_TITLES[config.dataset]
        lines.append(f"# The same data means the same {title} files in DATA_DIR (below) as the app read.")
    if config.dataset == "mnist":
        lines.append("# (Without the full MNIST the app trains on a bundled sample of it, which this script lacks.)")
    lines += ["#", "# Settings"]
    for group in cfg.GROUPS:
        items = [_setting(config, name) for name, k in cfg.KNOBS.items()
                 if k.group == group and config.applies(name)]
        lines += _wrap(items, f"#   {group.lower():<10}", "#" + " " * 13)
    lines += ["#", "# The same run in the app:"]
    flags = [f"{cfg.flag_name(name)} {shlex.quote(value)}" for name, value in cfg.to_params(config).items()]
    lines += _wrap(["python -m playground train"] + flags, "#   ", "#       ", sep=" ", cont=" \\")
    return "\n".join(lines)


def _setting(config: Config, name: str) -> str:
    value = getattr(config, name)
    text = cfg.format_value(name, value) if value != () else "none"
    if name == "loss" and value == "auto":
        text += f" ({config.resolved_loss})"
    return f"{name}={text}"


def _wrap(items: list[str], first: str, rest: str, sep: str = "  ", cont: str = "",
          width: int = HEADER_WIDTH) -> list[str]:
    """Items on lines of at most `width` characters; an item is never split."""
    lines, line = [], first + items[0]
    for item in items[1:]:
        if len(line) + len(sep) + len(item) + len(cont) > width:
            lines.append(line + cont)
            line = rest + item
        else:
            line += sep + item
    return lines + [line]


def imports(needed: frozenset[str]) -> str:
    """Standard library first, then numpy and torch; plain imports before from-imports."""
    def top(line: str) -> str:
        return line.split()[1].split(".")[0]

    def key(line: str) -> tuple:
        return line.startswith("from"), line.split()[1].lower()
    stdlib = sorted((i for i in needed if top(i) in sys.stdlib_module_names), key=key)
    others = sorted((i for i in needed if top(i) not in sys.stdlib_module_names), key=key)
    return "\n\n".join("\n".join(group) for group in (stdlib, others) if group)


def setup(config: Config) -> Code:
    """The seed, and the device as training.resolve_device picks it."""
    device = {"auto": '"cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() '
                      'else "cpu"'}.get(config.device, f'"{config.device}"')
    return Code(f"SEED = {config.seed}\ntorch.manual_seed(SEED)\ndevice = {device}", frozenset({"import torch"}))


# ------------------------------------------------------------------ embedding the app's own code
def embed(module: types.ModuleType, names: list[str], provided: tuple[str, ...] = ()) -> Code:
    """The source of `names` (top-level functions or classes of `module`) and of everything of
    the module they use (helpers, constants), in source order, with the imports they need.

    `provided` names are defined by the script itself. Anything else they use that cannot be
    embedded raises ValueError, so a change in the app's code fails the tests, not the script.
    """
    lines, tree = _parsed(module)
    defined: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                defined.update((n.id, node) for n in ast.walk(target) if isinstance(n, ast.Name))
    chosen: dict[int, ast.stmt] = {}
    needed: set[str] = set()
    copied: list[str] = []              # constants imported into the module from elsewhere
    todo, seen = list(names), set(provided) | set(dir(builtins))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        value = getattr(module, name, None)
        if name in defined:
            node = defined[name]
            chosen[node.lineno] = node
            body = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else node
            if body is not None:
                todo += sorted(_free_names(body))
        elif isinstance(value, types.ModuleType):
            needed.add(_import_line(name, value))
        elif isinstance(value, (bool, int, float, str)):
            copied.append(f"{name} = {value!r}")
        else:
            raise ValueError(f"codegen cannot embed {', '.join(names)} from {module.__name__}: "
                             f"they use {name!r}, which is neither defined there nor a constant or a module")

    def text(node: ast.stmt) -> str:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return "\n".join(lines[start - 1:node.end_lineno])
    nodes = [chosen[k] for k in sorted(chosen)]
    constants = sorted(copied) + [text(n) for n in nodes if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    blocks = ["\n".join(constants)] if constants else []
    blocks += [text(n) for n in nodes if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    return Code("\n\n\n".join(blocks), frozenset(needed))


_PARSED: dict[str, tuple[list[str], ast.Module]] = {}
_PARSE_LOCK = threading.Lock()


def _parsed(module: types.ModuleType) -> tuple[list[str], ast.Module]:
    """A module's source lines and syntax tree, parsed once per process. The lock matters: on
    Python 3.11, two threads inside ast.parse at once (two students' pages showing their code)
    can fail with "SystemError: AST constructor recursion depth mismatch"."""
    with _PARSE_LOCK:
        if module.__name__ not in _PARSED:
            source = inspect.getsource(module)
            _PARSED[module.__name__] = (source.splitlines(), ast.parse(source))
        return _PARSED[module.__name__]


def _free_names(node: ast.AST) -> set[str]:
    """Names a definition reads but does not define itself (a slight over-estimate of locals)."""
    loads, stores = set(), set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            (loads if isinstance(n.ctx, ast.Load) else stores).add(n.id)
        elif isinstance(n, ast.arg):
            stores.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not node:
            stores.add(n.name)
        elif isinstance(n, ast.alias):
            stores.add(n.asname or n.name.split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            stores.add(n.name)
    return loads - stores


def _import_line(alias: str, module: types.ModuleType) -> str:
    name = module.__name__
    if name == alias:
        return f"import {name}"
    parent, _, last = name.rpartition(".")
    return f"from {parent} import {alias}" if last == alias and parent else f"import {name} as {alias}"


# ------------------------------------------------------------------ data
def data(config: Config) -> Code:
    if config.dataset in cfg.CUSTOM_DATASETS:
        return custom_data(config)
    if config.dataset == "cifar10":
        return cifar10_data()
    return idx_data(config.dataset) if config.is_image else toy_data(config)


def custom_data(config: Config) -> Code:
    regression = config.dataset == "custom_regression"
    text = f'''# ---- data: your own points, from points.csv next to this script (the app's "Your own data"
# box downloads it). Columns x1,x2,{"target" if regression else "label"}; x1 and x2 are already rescaled into the plane.
table = np.loadtxt(Path("points.csv"), delimiter=",", skiprows=1, ndmin=2)
x_all, y_all = table[:, :2].astype(np.float32), table[:, 2].astype(np.{"float32" if regression else "int64"})
{"" if regression else "N_CLASSES = int(y_all.max()) + 1"}{features_code(config.features)}

# Shuffle with seed + 1 and hold out {config.test_ratio:g} of the points (at least one) for testing.
order = np.random.default_rng(SEED + 1).permutation(len(y_all))
n_test = max(1, min(len(y_all) - 1, round(len(y_all) * {config.test_ratio!r})))
test_idx, train_idx = order[:n_test], order[n_test:]
x_train, y_train = torch.from_numpy({"add_features(x_all[train_idx])" if config.features else "x_all[train_idx]"}), torch.from_numpy(y_all[train_idx])
x_test, y_test = torch.from_numpy({"add_features(x_all[test_idx])" if config.features else "x_all[test_idx]"}), torch.from_numpy(y_all[test_idx])'''
    return Code(text, frozenset({"from pathlib import Path", "import numpy as np", "import torch"}))


def toy_data(config: Config) -> Code:
    from datasets import toy
    generator = embed(toy, [config.dataset], provided=("Dataset",))
    n_test = cfg.n_test_points(config.n_points, config.test_ratio)
    wrap = "add_features({})" if config.features else "{}"
    x_train, x_test = wrap.format("data.x[train_idx]"), wrap.format("data.x[test_idx]")
    text = f'''# ---- data: {config.n_points} points of the {config.dataset} set, from the app's own generator (datasets/toy.py)
Dataset = namedtuple("Dataset", "name x y task n_classes")
{generator.text}
{features_code(config.features)}

data = {config.dataset}({config.n_points}, {config.noise!r}, SEED)
# Shuffle with seed + 1 and hold out the first {n_test} points for testing.
order = np.random.default_rng(SEED + 1).permutation({config.n_points})
test_idx, train_idx = order[:{n_test}], order[{n_test}:]
x_train, y_train = torch.from_numpy({x_train}), torch.from_numpy(data.y[train_idx])
x_test, y_test = torch.from_numpy({x_test}), torch.from_numpy(data.y[test_idx])'''
    return Code(text, generator.imports | {"from collections import namedtuple", "import numpy as np",
                                           "import torch"})


def features_code(features: tuple[str, ...]) -> str:
    if not features:
        return ""
    chosen = [f for f in cfg.FEATURES if f in features]
    return f'''

def add_features(x):
    """x1, x2, then the extra inputs {", ".join(chosen)}."""
    x1, x2 = x[:, :1], x[:, 1:2]
    return np.concatenate([x, {", ".join(FEATURE_CODE[f] for f in chosen)}], 1)'''


def idx_data(dataset: str) -> Code:
    """MNIST or Fashion-MNIST: the four gzipped IDX files (datasets/mnist.py reads them the same way)."""
    title = IMAGE_TITLES[dataset]
    where = {"mnist": f"into DATA_DIR, from {MNIST_SOURCE}\n# or any MNIST mirror.",
             "fashion_mnist": f"(MNIST's names and format) into DATA_DIR, from\n# {FASHION_MNIST_SOURCE}\n#"}[dataset]
    text = f'''# ---- data: {title}, from the four standard IDX files in DATA_DIR
# Download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz
# and t10k-labels-idx1-ubyte.gz {where} (The app keeps its copy in ~/.cache/neural-playground/{dataset}.)
DATA_DIR = Path("{dataset}")


def read_idx(path):
    """A gzipped IDX file: magic number (its last byte: how many dimensions), sizes, then uint8 data."""
    raw = gzip.decompress(Path(path).read_bytes())
    n_dims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(n_dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * n_dims).reshape(dims)


def images(name):
    """(n, 1, 28, 28) float32 pixels in [0, 1]."""
    return torch.from_numpy(read_idx(DATA_DIR / name).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)


def labels(name):
    return torch.from_numpy(read_idx(DATA_DIR / name).astype(np.int64))


x_train, y_train = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
x_test, y_test = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")'''
    return Code(text, frozenset({"import gzip", "from pathlib import Path", "import numpy as np", "import torch"}))


def cifar10_data() -> Code:
    """CIFAR-10 from the official binary archive, read as raw bytes (as datasets/cifar10.py; no pickles)."""
    text = f'''# ---- data: CIFAR-10, from the official binary archive cifar-10-binary.tar.gz in DATA_DIR
# Download {CIFAR10_SOURCE}
# into DATA_DIR; no need to unpack it. (The app keeps its copy in ~/.cache/neural-playground/cifar10.)
DATA_DIR = Path("cifar10")
RECORD = 1 + 3 * 32 * 32   # one label byte, then 1024 red, 1024 green and 1024 blue pixels (rows of 32)
TRAIN_BATCHES = [f"data_batch_{{i}}.bin" for i in range(1, 6)]
TEST_BATCH = "test_batch.bin"

with tarfile.open(DATA_DIR / "cifar-10-binary.tar.gz", "r:gz") as archive:
    # one pass over the members, all under cifar-10-batches-bin/
    batches = {{Path(m.name).name: archive.extractfile(m).read() for m in archive
               if m.isfile() and Path(m.name).parent.name == "cifar-10-batches-bin"}}


def read_batches(names):
    """(n, 3, 32, 32) float32 pixels in [0, 1] and (n,) int64 labels, from the archive's batches."""
    rows = np.concatenate([np.frombuffer(batches[name], np.uint8).reshape(-1, RECORD) for name in names])
    x = rows[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    return torch.from_numpy(x), torch.from_numpy(rows[:, 0].astype(np.int64))


x_train, y_train = read_batches(TRAIN_BATCHES)
x_test, y_test = read_batches([TEST_BATCH])'''
    return Code(text, frozenset({"import tarfile", "from pathlib import Path", "import numpy as np", "import torch"}))


# ------------------------------------------------------------------ model
@dataclass(frozen=True)
class Layer:
    code: str
    init_act: str = ""      # Linear/Conv2d: the activation after it (for xavier/kaiming gains)


def n_classes(config: Config) -> int | str:
    """How many classes; for your own points, the script's N_CLASSES (read from points.csv)."""
    from datasets import toy
    if config.dataset == "custom":
        return "N_CLASSES"
    return 10 if config.is_image else toy.n_classes(config.dataset)


def n_out(config: Config) -> int | str:
    return n_outputs(config.task, n_classes(config), config.resolved_loss)


def layer_rows(config: Config) -> list[list[Layer]]:
    """The layers of models.build_model, one row per line of the nn.Sequential."""
    rows: list[list[Layer]] = []
    n_in = 2 + len(config.features)
    if config.is_image:
        image = cfg.IMAGE_SHAPES[config.dataset]
        if config.normalize == "standard":
            mean, std = pixel_stats(config.dataset)
            rows.append([Layer(f"Normalize({mean!r}, {std!r})")])
        if config.model == "cnn":     # models.conv_layers: conv, activation, pooling per block
            c_in, act = image[0], config.activation[0]
            for block in map(cfg.conv_block, config.conv):
                row = [Layer(f"nn.Conv2d({c_in}, {block.channels}, {block.kernel}, padding={block.padding})", act),
                       Layer(ACTIVATION_CODE[act])]
                rows.append(row + [Layer(POOL_CODE[block.pool])] if POOL_CODE[block.pool] else row)
                c_in = block.channels
            image = cfg.conv_shapes(config.conv, image)[-1]
        n_in = math.prod(image)
        rows.append([Layer("nn.Flatten()")])
    for width, act in zip(config.hidden, config.activations):
        row = [Layer(f"nn.Linear({n_in}, {width})", act), Layer(ACTIVATION_CODE[act])]
        rows.append(row + [Layer(f"nn.Dropout({config.dropout!r})")] if config.dropout else row)
        n_in = width
    last = [Layer(f"nn.Linear({n_in}, {n_out(config)})", "linear")]
    rows.append(last + [Layer("nn.LogSoftmax(dim=1)")] if config.resolved_loss == "nll" else last)
    return rows


def _outputs_described(config: Config) -> str:
    k = n_out(config)
    if config.task == "regression":
        return "1 output (the predicted value)"
    if k == 1:
        return "1 output (a logit: class 1 where it is positive)"
    return f"{k} log-probabilities" if config.resolved_loss == "nll" else f"{k} logits (one per class)"


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def model(config: Config) -> Code:
    rows = layer_rows(config)
    if config.is_image:
        image = cfg.IMAGE_SHAPES[config.dataset]
        convs = cfg.conv_shapes(config.conv, image) if config.model == "cnn" else []
        sizes = [f"{_shape(image)} image"] + [f"conv {_shape(shape)}" for shape in convs]
    else:
        sizes = [f"{2 + len(config.features)} inputs"]
    sizes += [str(w) for w in config.hidden] + [_outputs_described(config)]
    body = textwrap.indent("\n".join(" ".join(layer.code + "," for layer in row) for row in rows), "    ")
    text = "\n".join(_wrap(sizes, "# ---- model: ", "#   ", sep=" -> ", cont=" ->", width=104)) + "\n"
    imports = {"from torch import nn"}
    if config.is_image and config.normalize == "standard":
        from playground import models
        normalize = embed(models, ["Normalize"])
        text += f"{normalize.text}\n\n\n"
        imports |= normalize.imports
    text += f"model = nn.Sequential(\n{body}\n)\nprint(model)"
    return Code(text, frozenset(imports))


def init(config: Config) -> Code:
    """models.init_weights: drawn from a freshly seeded generator, biases at zero."""
    if config.init == "default":
        return Code("")    # PyTorch's own init, drawn from the seed set above: what the app does too
    layers = [layer for row in layer_rows(config) for layer in row]
    calls = []
    for index, layer in enumerate(layers):
        if not layer.init_act:
            continue
        weight, act = f"model[{index}].weight", layer.init_act
        if config.init == "xavier":
            calls.append(f'nn.init.xavier_uniform_({weight}, gain=nn.init.calculate_gain("{GAINS[act]}"))')
        elif config.init == "kaiming":
            calls.append(f'nn.init.kaiming_uniform_({weight}, a=0.01, nonlinearity="leaky_relu")'
                         if act == "leaky_relu" else f'nn.init.kaiming_uniform_({weight}, nonlinearity="relu")')
        else:
            calls.append(f"nn.init.normal_({weight}, 0.0, {config.init_std!r})")
    what = {"xavier": "xavier uniform, scaled for the activation after each layer",
            "kaiming": "kaiming uniform", "normal": f"normal(0, {config.init_std!r})"}[config.init]
    text = f'''# ---- weight init: {what}; biases at zero
torch.manual_seed(SEED)    # the app draws the initial weights from a freshly seeded generator
{chr(10).join(calls)}
for layer in model:
    if isinstance(layer, (nn.Linear, nn.Conv2d)):
        nn.init.zeros_(layer.bias)'''
    return Code(text, frozenset({"from torch import nn", "import torch"}))


# ------------------------------------------------------------------ loss and optimizer
def loss_expression(config: Config) -> tuple[str, str]:
    """(what it is, the body of loss_fn): models.Head.loss for this config."""
    name, task, k = config.resolved_loss, config.task, n_out(config)
    if task == "regression":
        fn = "l1_loss" if name == "l1" else "mse_loss"
        return f"{name} between prediction and target", f"return F.{fn}(out.squeeze(1), y)"
    if k == 1 and name == "bce_with_logits":
        return ("binary cross-entropy on the logit",
                "return F.binary_cross_entropy_with_logits(out.squeeze(1), y.float())")
    if k == 1:
        return ("mse between the probability of class 1 and the label (as TensorFlow Playground)",
                "return F.mse_loss(torch.sigmoid(out.squeeze(1)), y.float())")
    if name == "nll":
        return "negative log-likelihood (the model ends in LogSoftmax)", "return F.nll_loss(out, y)"
    if name == "mse":
        return ("mse between the softmax probabilities and one-hot labels",
                f"return F.mse_loss(torch.softmax(out, 1), F.one_hot(y, {k}).float())")
    return "cross-entropy (softmax included)", "return F.cross_entropy(out, y)"


def loss(config: Config) -> Code:
    what, body = loss_expression(config)
    parts = [f"# ---- loss: {what}\ndef loss_fn(out, y):\n    {body}", l1_code(config), evaluate_code(config)]
    text = "\n\n\n".join(part for part in parts if part)
    return Code(text, frozenset({"import torch", "import torch.nn.functional as F"}))


def l1_code(config: Config) -> str:
    if not config.l1:
        return ""
    return f'''def l1_penalty():
    """L1 on every weight matrix (not the biases), added to the loss that is minimised."""
    weights = [layer.weight for layer in model if isinstance(layer, (nn.Linear, nn.Conv2d))]
    return {config.l1!r} * sum(w.abs().sum() for w in weights)'''


def evaluate_code(config: Config) -> str:
    forward = (f"torch.cat([model(x[i:i + {EVAL_CHUNK}]) for i in range(0, len(x), {EVAL_CHUNK})])"
               "  # in chunks, to bound memory" if config.is_image else "model(x)")
    if config.task == "regression":
        returns, doc = "return loss_fn(out, y).item()", "Mean loss over a whole set"
    else:
        predicted = "(out.squeeze(1) > 0).long()" if n_out(config) == 1 else "out.argmax(1)"
        returns = (f"predicted = {predicted}\n"
                   f"    return loss_fn(out, y).item(), (predicted == y).float().mean().item()")
        doc = "Mean loss and accuracy over a whole set"
    off = ", with dropout off" if config.dropout else ""
    return f'''def evaluate(x, y):
    """{doc}{off}."""
    model.eval()
    with torch.no_grad():
        out = {forward}
    model.train()
    {returns}'''


def optimizer(config: Config) -> Code:
    options = [f"lr={config.lr!r}"]
    if config.optimizer == "sgd" and config.momentum:
        options.append(f"momentum={config.momentum!r}")
    if config.nesterov:
        options.append("nesterov=True")
    if config.weight_decay:
        options.append(f"weight_decay={config.weight_decay!r}")
    text = (f"# ---- optimizer\nmodel.to(device)\n"
            f"optimizer = torch.optim.{OPTIMIZER_CLASS[config.optimizer]}(model.parameters(), {', '.join(options)})")
    return Code(text, frozenset({"import torch"}))


# ------------------------------------------------------------------ augmentation and training
def augmentation(config: Config) -> Code:
    if not config.augmenting:
        return Code("")
    from playground import augment
    if config.dataset == "mnist":
        code = embed(augment, ["digits"])
        what = "random shifts, rotations,\n# scaling and thicker strokes"
    else:
        code = embed(augment, ["shift_and_flip"])
        what = (f"random shifts of up to {augment.CROP_PADDING[config.dataset]} "
                "pixels\n# (a random crop of the zero-padded image) and left-right mirrors")
    text = (f"# ---- augmentation, the app's own (playground/augment.py): {what}, drawn afresh for every "
            f"training batch\n{code.text}")
    return Code(text, code.imports)


def augmented(config: Config, batch: str) -> str:
    """The call that augments a batch, as augment.images does for the config's data set."""
    if config.dataset == "mnist":
        return f"digits({batch}, gen)"
    from playground import augment
    return f"shift_and_flip({batch}, gen, {augment.CROP_PADDING[config.dataset]})"


def training(config: Config) -> Code:
    if config.drop_last:
        steps = "\nsteps = len(x_train) // batch_size   # full batches only: the last, smaller one is dropped"
        loop, seen = "range(0, steps * batch_size, batch_size)", "(steps * batch_size)"
    else:
        steps, loop, seen = "", "range(0, len(x_train), batch_size)", "len(x_train)"
    inputs = augmented(config, "x_train[idx]") if config.augmenting else "x_train[idx]"
    minimised = "(loss + l1_penalty())" if config.l1 else "loss"
    draws = "shuffles and augmentations draw" if config.augmenting else "shuffles draw"
    report = 'f"epoch {epoch:3d}  train loss {train_loss:.5f}  test loss {test_loss:.5f}'
    if config.task == "regression":
        evaluated, report = "test_loss = evaluate(x_test, y_test)", report + '"'
    else:
        evaluated = "test_loss, test_acc = evaluate(x_test, y_test)"
        report += '  "\n          f"test accuracy {test_acc:.4f}"'
    text = f'''# ---- training: all data on the device; each epoch shuffles it and takes mini-batches in turn
x_train, y_train, x_test, y_test = (t.to(device) for t in (x_train, y_train, x_test, y_test))
gen = torch.Generator(device).manual_seed(SEED)   # the {draws} from here
batch_size, epochs = {config.batch_size}, {config.epochs}{steps}
for epoch in range(1, epochs + 1):
    perm = torch.randperm(len(x_train), generator=gen, device=device)
    total = 0.0
    for start in {loop}:
        idx = perm[start:start + batch_size]
        loss = loss_fn(model({inputs}), y_train[idx])
        optimizer.zero_grad()
        {minimised}.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    train_loss = total / {seen}
    {evaluated}
    print({report})'''
    return Code(text, frozenset({"import torch"}))
