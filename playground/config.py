"""Every knob of a run, declared once.

Each field of `Config` carries a `Knob` (group, help, allowed values or range).
Validation, CLI flags, URL parameters, JSON, the sidebar and the code export
are all generated from these declarations.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

GENERATED_DATASETS = ("xor", "quadrants", "prod", "circle", "gauss", "spiral")
CUSTOM_DATASETS = ("custom", "custom_regression")   # your own points (datasets/points.py)
TOY_DATASETS = GENERATED_DATASETS + CUSTOM_DATASETS  # the 2D sets
DATASETS = TOY_DATASETS + ("mnist",)
FEATURES = ("x1sq", "x2sq", "x1x2", "sin_x1", "sin_x2")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu", "linear")
LOSSES = ("auto", "mse", "l1", "bce_with_logits", "cross_entropy", "nll")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
INITS = ("default", "xavier", "kaiming", "normal")
DEVICES = ("auto", "cpu", "cuda", "mps")

# What each task accepts; "auto" picks the first.
LOSSES_FOR_TASK = {
    "regression": ("mse", "l1"),
    "binary": ("bce_with_logits", "mse", "cross_entropy", "nll"),
    "multiclass": ("cross_entropy", "nll", "mse"),
}
TASK_OF = {"prod": "regression", "quadrants": "multiclass", "mnist": "multiclass",
           "custom": "multiclass", "custom_regression": "regression"}

MAX_HIDDEN_LAYERS = 16
MAX_LAYER_SIZE = 1024
MAX_TOY_POINTS = 20_000
MAX_IMAGE_SIDE = 4096  # pixels of an uploaded or drawn image, per side


class ConfigError(ValueError):
    """A setting a user gave is not allowed; the message says which and why."""


@dataclass(frozen=True)
class Knob:
    group: str                      # "Data", "Network" or "Training"
    help: str
    choices: tuple | None = None    # allowed values (each item, for tuples)
    low: float | None = None
    high: float | None = None
    low_open: bool = False          # low itself not allowed
    max_items: int | None = None    # tuples: most items
    min_items: int = 0
    label: str = ""
    live: bool = False              # may change while a run is paused or running
    only_for: str = ""              # "toy", "generated", "mnist", "cnn", "sgd", "normal": when it matters
    flag: str = ""                  # CLI flag, if not --name-with-dashes
    step: float | None = None       # UI slider/number step


def knob(default: Any, **meta: Any) -> Any:
    return field(default=default, metadata={"knob": Knob(**meta)})


@dataclass(frozen=True)
class Config:
    # --- Data
    dataset: str = knob("xor", group="Data", choices=DATASETS,
                        help="Which data to learn: a 2D toy set, your own 2D points (custom: classes, "
                             "custom_regression: targets; a CSV file or points you click) or MNIST "
                             "handwritten digits.")
    n_points: int = knob(1000, group="Data", low=10, high=MAX_TOY_POINTS, only_for="generated",
                         label="points", help="How many 2D points to generate (train + test).")
    noise: float = knob(0.0, group="Data", low=0.0, high=1.0, only_for="generated", step=0.05,
                        help="How much random noise is added to the 2D points (0 = clean).")
    test_ratio: float = knob(0.5, group="Data", low=0.1, high=0.9, only_for="toy", step=0.05,
                             label="test ratio", help="Share of the points held out for testing.")
    features: tuple = knob((), group="Data", choices=FEATURES, max_items=len(FEATURES), only_for="toy",
                           label="extra features",
                           help="Extra inputs computed from x1, x2 (as in TensorFlow Playground): "
                                "x1², x2², x1·x2, sin x1, sin x2.")
    normalize: str = knob("standard", group="Data", choices=("unit", "standard"), only_for="mnist",
                          help="Pixel scaling: 'unit' maps to [0, 1]; 'standard' also subtracts "
                               "the MNIST mean 0.1307 and divides by the std 0.3081.")
    augment: bool = knob(False, group="Data", only_for="mnist",
                         help="Randomly shift, rotate, scale and thicken training digits so the "
                              "net also reads hand-drawn digits.")
    # --- Network
    model: str = knob("mlp", group="Network", choices=("mlp", "cnn"),
                      help="mlp: fully connected layers. cnn: a small convolutional net (MNIST only).")
    hidden: tuple = knob((8, 8), group="Network", low=1, high=MAX_LAYER_SIZE, max_items=MAX_HIDDEN_LAYERS,
                         label="hidden layers",
                         help="Neurons in each hidden layer, comma-separated, e.g. 8,8. "
                              "Empty means no hidden layer (a linear model).")
    channels: tuple = knob((16, 32), group="Network", low=1, high=256, min_items=1, max_items=4,
                           only_for="cnn", help="Filters in each conv layer of the CNN, e.g. 16,32.")
    activation: tuple = knob(("tanh",), group="Network", choices=ACTIVATIONS, min_items=1,
                             max_items=MAX_HIDDEN_LAYERS,
                             help="Non-linearity after each hidden layer: one name for all "
                                  "layers, or one per layer (comma-separated).")
    dropout: float = knob(0.0, group="Network", low=0.0, high=0.9, step=0.05,
                          help="Chance of zeroing each hidden neuron during training.")
    init: str = knob("default", group="Network", choices=INITS, label="weight init",
                     help="How weights start: PyTorch's default, xavier, kaiming or normal(0, std). "
                          "Biases start at zero except with 'default'.")
    init_std: float = knob(0.1, group="Network", low=1e-4, high=1.0, only_for="normal",
                           label="init std", help="Standard deviation for the 'normal' init.")
    # --- Training
    loss: str = knob("auto", group="Training", choices=LOSSES,
                     help="What is minimised. auto: mse for regression, bce_with_logits for two "
                          "classes, cross_entropy for more.")
    optimizer: str = knob("adam", group="Training", choices=OPTIMIZERS, live=True,
                          help="The update rule for the weights.")
    lr: float = knob(0.03, group="Training", low=0.0, low_open=True, high=10.0, live=True,
                     label="learning rate", help="Step size of each update.")
    momentum: float = knob(0.0, group="Training", low=0.0, high=0.99, live=True, only_for="sgd",
                           help="SGD momentum (0 = plain SGD).")
    nesterov: bool = knob(False, group="Training", live=True, only_for="sgd",
                          help="Use Nesterov momentum (needs momentum > 0).")
    weight_decay: float = knob(0.0, group="Training", low=0.0, high=1.0, live=True,
                               label="L2 (weight decay)", help="L2 regularisation strength.")
    l1: float = knob(0.0, group="Training", low=0.0, high=1.0, live=True,
                     label="L1", help="L1 regularisation strength (pushes weights to exactly 0).")
    batch_size: int = knob(10, group="Training", low=1, high=60_000, label="batch size",
                           help="Examples per update step.")
    epochs: int = knob(200, group="Training", low=1, high=10_000,
                       help="Passes over the training data.")
    drop_last: bool = knob(False, group="Training", label="drop last batch",
                           help="Skip the final smaller batch of each epoch.")
    seed: int = knob(0, group="Training", low=0, high=2**31 - 1,
                     help="Random seed: the same seed gives the same data and run (on CPU).")
    device: str = knob("auto", group="Training", choices=DEVICES,
                       help="Where to train. auto: the GPU if there is one, else the CPU.")

    # ---------------------------------------------------------------- derived
    @property
    def task(self) -> str:
        return TASK_OF.get(self.dataset, "binary")

    @property
    def is_toy(self) -> bool:
        return self.dataset in TOY_DATASETS

    @property
    def resolved_loss(self) -> str:
        return LOSSES_FOR_TASK[self.task][0] if self.loss == "auto" else self.loss

    @property
    def activations(self) -> tuple[str, ...]:
        """One activation name per hidden layer."""
        if len(self.activation) == 1:
            return self.activation * len(self.hidden)
        return self.activation

    @property
    def n_train(self) -> int:
        if self.dataset == "mnist":
            return 60_000
        return self.n_points - n_test_points(self.n_points, self.test_ratio)

    def replace(self, **changes: Any) -> "Config":
        return from_dict({**to_dict(self), **changes})

    def applies(self, name: str) -> bool:
        """Whether a field matters for this config (the UI hides the rest)."""
        when = KNOBS[name].only_for
        return {
            "": True,
            "toy": self.is_toy,
            "generated": self.dataset in GENERATED_DATASETS,
            "mnist": self.dataset == "mnist",
            "cnn": self.model == "cnn",
            "sgd": self.optimizer == "sgd",
            "normal": self.init == "normal",
        }[when]


KNOBS: dict[str, Knob] = {f.name: f.metadata["knob"] for f in dataclasses.fields(Config)}
FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Config)}
DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(Config)}
GROUPS = ("Data", "Network", "Training")
# Changing one of these keeps the trained weights; anything else needs a reset.
LIVE_FIELDS = frozenset(n for n, k in KNOBS.items() if k.live)


def n_test_points(n_points: int, test_ratio: float) -> int:
    return max(1, min(n_points - 1, round(n_points * test_ratio)))


def label(name: str) -> str:
    return KNOBS[name].label or name.replace("_", " ")


def kind_of(name: str) -> str:
    """'int', 'float', 'str', 'bool', 'ints' (tuple of int) or 'strs' (tuple of str)."""
    default = DEFAULTS[name]
    if isinstance(default, tuple):
        return "strs" if KNOBS[name].choices else "ints"
    return type(default).__name__


# ------------------------------------------------------------------ parsing
def _describe_range(k: Knob) -> str:
    lo = "above" if k.low_open else "from"
    return f"{lo} {_num(k.low)} to {_num(k.high)}"


def _num(x: float | None) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _parse_int(name: str, raw: Any, what: str) -> int:
    if isinstance(raw, bool):
        raise ConfigError(f"{what} must be a whole number, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if text.lstrip("+-").isdigit() and len(text) < 20:
            return int(text)
    raise ConfigError(f"{what} must be a whole number, got {_show(raw)}")


def _parse_float(name: str, raw: Any, what: str) -> float:
    if isinstance(raw, bool):
        raise ConfigError(f"{what} must be a number, got {raw!r}")
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{what} must be a number, got {_show(raw)}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number, got {_show(raw)}")
    return value


def _parse_bool(name: str, raw: Any, what: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{what} must be true or false, got {_show(raw)}")


def _show(raw: Any) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f'"{text}"'


def _items(raw: Any) -> list:
    if isinstance(raw, str):
        return [p.strip() for p in raw.split(",") if p.strip()]
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return [raw]


def parse_value(name: str, raw: Any) -> Any:
    """Turn a raw value (from JSON, a URL, the CLI or a widget) into a valid field value."""
    if name not in KNOBS:
        raise ConfigError(f'unknown setting "{name}"; known settings: {", ".join(KNOBS)}')
    k, kind, what = KNOBS[name], kind_of(name), label(name)
    if kind == "int":
        value = _parse_int(name, raw, what)
    elif kind == "float":
        value = _parse_float(name, raw, what)
    elif kind == "bool":
        return _parse_bool(name, raw, what)
    elif kind == "str":
        value = str(raw).strip().lower() if isinstance(raw, str) else raw
        if value not in k.choices:
            raise ConfigError(f"{what} must be one of {', '.join(k.choices)}; got {_show(raw)}")
        return value
    elif kind == "ints":
        return _parse_ints(name, raw)
    else:
        return _parse_strs(name, raw)
    _check_range(k, value, what)
    return value


def _check_range(k: Knob, value: float, what: str) -> None:
    too_low = value <= k.low if k.low_open else value < k.low
    if too_low or value > k.high:
        raise ConfigError(f"{what} must be {_describe_range(k)}, got {_num(value)}")


def _parse_ints(name: str, raw: Any) -> tuple[int, ...]:
    k, what = KNOBS[name], label(name)
    items = _items(raw)
    rule = f"{what} must be whole numbers from {_num(k.low)} to {_num(k.high)}"
    try:
        values = tuple(_parse_int(name, item, what) for item in items)
    except ConfigError:
        raise ConfigError(f"{rule}, got {_show(raw)}") from None
    if any(not k.low <= v <= k.high for v in values):
        raise ConfigError(f"{rule}, got {_show(raw)}")
    _check_count(k, values, what)
    return values


def _parse_strs(name: str, raw: Any) -> tuple[str, ...]:
    k, what = KNOBS[name], label(name)
    values = tuple(str(item).strip().lower() for item in _items(raw))
    bad = [v for v in values if v not in k.choices]
    if bad:
        raise ConfigError(f"{what} must be chosen from {', '.join(k.choices)}; got {_show(bad[0])}")
    _check_count(k, values, what)
    if name == "features":
        values = tuple(sorted(set(values), key=k.choices.index))
    return values


def _check_count(k: Knob, values: tuple, what: str) -> None:
    if len(values) > k.max_items:
        raise ConfigError(f"{what}: at most {k.max_items} allowed, got {len(values)}")
    if len(values) < k.min_items:
        raise ConfigError(f"{what}: give at least {k.min_items}")


# ---------------------------------------------------------- whole configs
def from_dict(values: Mapping[str, Any], base: Config | None = None) -> Config:
    """Validate raw values (any source) on top of `base` (default: the defaults)."""
    parsed = {name: parse_value(name, raw) for name, raw in values.items()}
    merged = {**(to_dict(base) if base else DEFAULTS), **parsed}
    config = Config(**merged)
    check(config)
    return config


def check(c: Config) -> None:
    """Rules that involve more than one field."""
    task = c.task
    if c.loss != "auto" and c.loss not in LOSSES_FOR_TASK[task]:
        allowed = ", ".join(LOSSES_FOR_TASK[task])
        raise ConfigError(f'loss "{c.loss}" does not fit the {c.dataset} data ({task}); '
                          f"use one of: auto, {allowed}")
    if len(c.activation) not in (1, len(c.hidden)) or (len(c.activation) > 1 and not c.hidden):
        raise ConfigError(f"activation: give one name, or one per hidden layer "
                          f"({len(c.hidden)}), got {len(c.activation)}")
    if c.model == "cnn" and c.dataset != "mnist":
        raise ConfigError("model cnn works on image data only: choose dataset mnist or model mlp")
    if c.batch_size > c.n_train:
        raise ConfigError(f"batch size must be from 1 to the training set size ({c.n_train}), "
                          f"got {c.batch_size}")
    if c.nesterov and (c.optimizer != "sgd" or c.momentum <= 0):
        raise ConfigError("nesterov needs optimizer sgd with momentum above 0")
    if c.dataset == "mnist" and c.features:
        raise ConfigError("extra features are for the 2D datasets, not mnist")


def to_dict(c: Config) -> dict[str, Any]:
    return {f: getattr(c, f) for f in FIELDS}


def to_json(c: Config) -> str:
    return json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in to_dict(c).items()})


def from_json(text: str) -> Config:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError) as e:
        raise ConfigError(f"a config must be a JSON object: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError("a config must be a JSON object of settings")
    return from_dict(data)


# ------------------------------------------------------------- text forms
def format_value(name: str, value: Any) -> str:
    """The text form used by URLs and CLI flags: tuples as comma lists."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)  # repr: shortest exact form


def to_params(c: Config) -> dict[str, str]:
    """URL query parameters: only the settings that differ from the defaults."""
    return {n: format_value(n, v) for n, v in to_dict(c).items() if v != DEFAULTS[n]}


def from_params(params: Mapping[str, Any], base: Config | None = None) -> Config:
    """Settings from URL query parameters; unknown parameters are an error."""
    return from_dict({k: (v[-1] if isinstance(v, list) else v) for k, v in params.items()}, base)


def flag_name(name: str) -> str:
    return KNOBS[name].flag or "--" + name.replace("_", "-")


def add_cli_flags(parser: Any) -> None:
    """One argparse flag per field; values stay raw text until `from_cli`."""
    for group in GROUPS:
        section = parser.add_argument_group(group.lower())
        for name, k in KNOBS.items():
            if k.group != group:
                continue
            extra = f" [choices: {', '.join(k.choices)}]" if k.choices else ""
            section.add_argument(flag_name(name), dest=name, default=None, metavar=kind_of(name).upper(),
                                 help=f"{k.help}{extra} (default: {format_value(name, DEFAULTS[name])})")


def from_cli(namespace: Any, base: Config | None = None) -> Config:
    given = {n: getattr(namespace, n) for n in KNOBS if getattr(namespace, n, None) is not None}
    return from_dict(given, base)


def diff(old: Config, new: Config) -> set[str]:
    return {n for n in FIELDS if getattr(old, n) != getattr(new, n)}


def needs_reset(old: Config, new: Config) -> bool:
    """Whether going from old to new changes the data or the architecture."""
    return bool(diff(old, new) - LIVE_FIELDS - {"epochs"})


def describe(fields: Iterable[str]) -> str:
    return ", ".join(label(f) for f in fields)


# ------------------------------------------------------------- presets
# Named starting points: overrides on top of the defaults above.
TOY_PRESETS: dict[str, dict[str, Any]] = {
    "Playground default (8-8 tanh, Adam)": {},
    "Tutorial 2-6-k ReLU (Adam, 200 epochs)": dict(hidden=(6,), activation=("relu",), optimizer="adam",
                                                   lr=0.01, batch_size=32, n_points=5000, test_ratio=0.5),
    "Spiral (deep tanh + sin features)": dict(dataset="spiral", hidden=(8, 8, 8), features=("sin_x1", "sin_x2"),
                                              lr=0.01, epochs=500),
}
MNIST_BASE: dict[str, Any] = dict(dataset="mnist", activation=("relu",), loss="nll", batch_size=64,
                                  normalize="standard", optimizer="sgd", lr=0.01, epochs=10)
MNIST_PRESETS: dict[str, dict[str, Any]] = {
    "784-100-10, SGD (tutorial)": dict(MNIST_BASE, hidden=(100,)),
    "784-128-64-10, SGD + momentum": dict(MNIST_BASE, hidden=(128, 64), momentum=0.9, epochs=5),
    "784-392-196-98-10, dropout 0.2, Adam": dict(MNIST_BASE, hidden=(392, 196, 98), dropout=0.2,
                                                 optimizer="adam", lr=0.001),
    "Small CNN (16-32 conv, Adam)": dict(MNIST_BASE, model="cnn", channels=(16, 32), hidden=(64,),
                                         optimizer="adam", lr=0.001, epochs=3),
    "Draw-ready 784-256-128-10 (Adam + augmentation)": dict(MNIST_BASE, hidden=(256, 128), optimizer="adam",
                                                            lr=0.001, batch_size=128, augment=True, epochs=6),
}
DRAW_PRESET = "Draw-ready 784-256-128-10 (Adam + augmentation)"


def preset(name: str) -> Config:
    overrides = {**TOY_PRESETS, **MNIST_PRESETS}.get(name)
    if overrides is None:
        raise ConfigError(f'no preset called "{name}"')
    return from_dict(overrides)
