"""Config -> a standalone PyTorch script that does the same run (torch + numpy only)."""
from __future__ import annotations

import inspect
import textwrap

from playground import config as cfg
from playground.config import Config
from playground.models import MNIST_MEAN, MNIST_STD, n_outputs

ACTIVATION_CODE = {"relu": "nn.ReLU()", "leaky_relu": "nn.LeakyReLU(0.01)", "tanh": "nn.Tanh()",
                   "sigmoid": "nn.Sigmoid()", "gelu": "nn.GELU()", "linear": "nn.Identity()"}
OPTIMIZER_CLASS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


def script(config: Config) -> str:
    sections = [header(config), imports(config), data(config), model(config), init(config),
                loss(config), optimizer(config), training(config)]
    return "\n\n".join(s.strip("\n") for s in sections if s) + "\n"


def header(config: Config) -> str:
    flags = " ".join(f"{cfg.flag_name(n)} {v}" for n, v in cfg.to_params(config).items())
    return f'''"""Neural Playground run, as a standalone PyTorch script.

Same run from the command line:
    python -m playground train {flags}
"""'''


def imports(config: Config) -> str:
    lines = ["", "import numpy as np", "import torch",
             "import torch.nn.functional as F", "from torch import nn", "",
             f"torch.manual_seed({config.seed})", 'device = "cuda" if torch.cuda.is_available() else "cpu"']
    if config.dataset == "mnist":
        lines.insert(0, "import gzip")
        lines.insert(1, "from pathlib import Path")
    return "\n".join(line for line in lines if line is not None).lstrip("\n")


# ------------------------------------------------------------------ data
def data(config: Config) -> str:
    return mnist_data(config) if config.dataset == "mnist" else toy_data(config)


def toy_data(config: Config) -> str:
    from datasets import toy
    generator = getattr(toy, config.dataset)
    helpers = {"xor": [toy._away_from_axes, toy._binary], "quadrants": [toy._away_from_axes],
               "circle": [toy._labels, toy._binary], "gauss": [toy._labels, toy._binary],
               "spiral": [toy._labels, toy._binary], "prod": []}[config.dataset]
    sources = [inspect.getsource(f) for f in helpers + [generator]]
    sources = [s.replace("-> Dataset", "").replace("Dataset(", "_dataset(") for s in sources]
    features = _features_code(config.features)
    n_test = cfg.n_test_points(config.n_points, config.test_ratio)
    return f'''# ---- data: the {config.dataset} set, generated exactly as the app does
PADDING = {toy.PADDING}


def _dataset(name, x, y, task, n_classes):
    return x.astype(np.float32), y


{chr(10).join(sources)}
{features}
x, y = {config.dataset}({config.n_points}, {config.noise!r}, {config.seed})
order = np.random.default_rng({config.seed + 1}).permutation(len(x))
test_idx, train_idx = order[:{n_test}], order[{n_test}:]
x_train, y_train = torch.tensor(add_features(x[train_idx])), torch.tensor(y[train_idx])
x_test, y_test = torch.tensor(add_features(x[test_idx])), torch.tensor(y[test_idx])'''


def _features_code(features: tuple[str, ...]) -> str:
    if not features:
        return "\ndef add_features(x):\n    return x\n"
    exprs = {"x1sq": "x[:, :1] ** 2", "x2sq": "x[:, 1:2] ** 2", "x1x2": "x[:, :1] * x[:, 1:2]",
             "sin_x1": "np.sin(x[:, :1])", "sin_x2": "np.sin(x[:, 1:2])"}
    columns = ", ".join(exprs[f] for f in cfg.FEATURES if f in features)
    return f'''
def add_features(x):
    """Extra inputs: {', '.join(f for f in cfg.FEATURES if f in features)}."""
    return np.concatenate([x, {columns}], 1).astype(np.float32)
'''


def mnist_data(config: Config) -> str:
    return '''# ---- data: MNIST from the four standard IDX files
# Get them from http://yann.lecun.com/exdb/mnist/ (or any mirror) into DATA_DIR.
DATA_DIR = Path("mnist")


def read_idx(path):
    raw = gzip.decompress(path.read_bytes())
    n_dims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(n_dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * n_dims).reshape(dims)


def images(name):
    return torch.tensor(read_idx(DATA_DIR / name).reshape(-1, 1, 28, 28) / 255.0, dtype=torch.float32)


def labels(name):
    return torch.tensor(read_idx(DATA_DIR / name).astype(np.int64))


x_train, y_train = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
x_test, y_test = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")'''


# ------------------------------------------------------------------ model
def _n_classes(config: Config) -> int:
    from datasets import toy
    return 10 if config.dataset == "mnist" else toy.n_classes(config.dataset)


def model(config: Config) -> str:
    layers: list[str] = []
    classes = ""
    n_in = 2 + len(config.features)
    if config.dataset == "mnist":
        if config.normalize == "standard":
            classes = NORMALIZE_CLASS
            layers.append(f"Normalize({MNIST_MEAN}, {MNIST_STD}),")
        if config.model == "cnn":
            c_in = 1
            for c_out in config.channels:
                layers.append(f"nn.Conv2d({c_in}, {c_out}, 3, padding=1), "
                              f"{ACTIVATION_CODE[config.activation[0]]}, nn.MaxPool2d(2),")
                c_in = c_out
            n_in = config.channels[-1] * (28 >> len(config.channels)) ** 2
        else:
            n_in = 784
        layers.append("nn.Flatten(),")
    if config.dropout:
        classes += DROPOUT_NOTE
    for width, act in zip(config.hidden, config.activations):
        drop = f" nn.Dropout({config.dropout})," if config.dropout else ""
        layers.append(f"nn.Linear({n_in}, {width}), {ACTIVATION_CODE[act]},{drop}")
        n_in = width
    n_out = n_outputs(config.task, _n_classes(config), config.resolved_loss)
    layers.append(f"nn.Linear({n_in}, {n_out}),")
    if config.resolved_loss == "nll":
        layers.append("nn.LogSoftmax(dim=1),")
    body = textwrap.indent("\n".join(layers), "    ")
    return f"# ---- model\n{classes}model = nn.Sequential(\n{body}\n).to(device)\nprint(model)"


NORMALIZE_CLASS = '''class Normalize(nn.Module):
    """Pixel scaling inside the model, so it reads plain [0, 1] images."""

    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x):
        return (x - self.mean) / self.std


'''
DROPOUT_NOTE = "# nn.Dropout zeroes random neurons while training (model.train()) only.\n"


def init(config: Config) -> str:
    if config.init == "default":
        return ""
    act = config.activations[0] if config.hidden else "linear"
    gain = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid",
            "gelu": "relu", "linear": "linear"}[act]
    weight = {"xavier": f'nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain("{gain}"))',
              "kaiming": 'nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")',
              "normal": f"nn.init.normal_(layer.weight, 0.0, {config.init_std!r})"}[config.init]
    return f'''# ---- weight init: {config.init}, biases at zero
for layer in model.modules():
    if isinstance(layer, (nn.Linear, nn.Conv2d)):
        {weight}
        nn.init.zeros_(layer.bias)'''


# ------------------------------------------------------------------ loss and optimizer
def loss(config: Config) -> str:
    name, task = config.resolved_loss, config.task
    n_out = n_outputs(task, _n_classes(config), name)
    if n_out == 1 and task == "binary":
        body = ("return F.binary_cross_entropy_with_logits(out.squeeze(1), y.float())" if name == "bce_with_logits"
                else "return F.mse_loss(torch.sigmoid(out.squeeze(1)), y.float())")
    elif task == "regression":
        fn = "l1_loss" if name == "l1" else "mse_loss"
        body = f"return F.{fn}(out.squeeze(1), y)"
    elif name == "nll":
        body = "return F.nll_loss(out, y)  # the model ends in LogSoftmax"
    elif name == "mse":
        body = f"return F.mse_loss(torch.softmax(out, 1), F.one_hot(y, {n_out}).float())"
    else:
        body = "return F.cross_entropy(out, y)"
    predict = ("return out.squeeze(1)" if task == "regression" else
               "return (out.squeeze(1) > 0).long()" if n_out == 1 else "return out.argmax(1)")
    l1 = ""
    if config.l1:
        l1 = (f"\n\n\ndef l1_penalty():\n    return {config.l1!r} * sum(m.weight.abs().sum() for m in model.modules()"
              f"\n                             if isinstance(m, (nn.Linear, nn.Conv2d)))")
    return f'''# ---- loss ({name})
def loss_fn(out, y):
    {body}


def predict(out):
    {predict}{l1}'''


def optimizer(config: Config) -> str:
    options = [f"lr={config.lr!r}"]
    if config.optimizer == "sgd" and config.momentum:
        options.append(f"momentum={config.momentum!r}")
    if config.nesterov:
        options.append("nesterov=True")
    if config.weight_decay:
        options.append(f"weight_decay={config.weight_decay!r}")
    return f"optimizer = torch.optim.{OPTIMIZER_CLASS[config.optimizer]}(model.parameters(), {', '.join(options)})"


# ------------------------------------------------------------------ training
def training(config: Config) -> str:
    penalty = " + l1_penalty()" if config.l1 else ""
    augment = augment_code() if config.augment else ""
    batch_x = "digits(x_train[idx], None)" if config.augment else "x_train[idx]"
    stop = "len(perm) - batch_size + 1" if config.drop_last else "len(perm)"
    accuracy = "" if config.task == "regression" else \
        '\n        accuracy = (predict(out) == y_test).float().mean().item()'
    report = ("f\"epoch {epoch:3d}  train loss {total / seen:.5f}  test loss {test_loss:.5f}\""
              if config.task == "regression" else
              "f\"epoch {epoch:3d}  train loss {total / seen:.5f}  test loss {test_loss:.5f}  "
              "test accuracy {accuracy:.4f}\"")
    return f'''{augment}# ---- training: all data on the device, shuffled each epoch
x_train, y_train, x_test, y_test = x_train.to(device), y_train.to(device), x_test.to(device), y_test.to(device)
batch_size = {config.batch_size}
for epoch in range(1, {config.epochs} + 1):
    model.train()
    perm = torch.randperm(len(x_train), device=device)
    total, seen = 0.0, 0
    for start in range(0, {stop}, batch_size):
        idx = perm[start:start + batch_size]
        loss = loss_fn(model({batch_x}), y_train[idx])
        optimizer.zero_grad()
        (loss{penalty}).backward()
        optimizer.step()
        total += loss.item() * len(idx)
        seen += len(idx)
    model.eval()
    with torch.no_grad():
        out = model(x_test)
        test_loss = loss_fn(out, y_test).item(){accuracy}
    print({report})'''


def augment_code() -> str:
    """The app's own augmentation function, embedded with its settings."""
    from playground import augment
    settings = "\n".join(f"{name} = {getattr(augment, name)!r}"
                         for name in ("MAX_ROTATION", "MAX_SCALE", "MAX_SHIFT", "THICKEN_P"))
    sources = "\n\n".join(inspect.getsource(f) for f in (augment._uniform, augment.digits))
    return (f"# ---- augmentation: random shifts, rotations, scaling and thicker strokes\n"
            f"{settings}\n\n\n{sources}\n\n")
