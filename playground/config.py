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
IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10")
DATASETS = TOY_DATASETS + IMAGE_DATASETS
# (channels, height, width) of each image set; what a pixel's mean and std are, per channel
IMAGE_SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
PIXEL_STATS = {"mnist": ((0.1307,), (0.3081,)), "fashion_mnist": ((0.2860,), (0.3530,)),
               "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))}
POOLS = ("max", "avg", "none", "gap")     # 2x2 max, 2x2 average, none, global average (to 1x1)
MAX_CONV_BLOCKS = 6
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
TASK_OF = {"prod": "regression", "quadrants": "multiclass", "custom": "multiclass", "custom_regression": "regression",
           **{name: "multiclass" for name in IMAGE_DATASETS}}

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
    only_for: str = ""              # "toy", "generated", "image", "cnn", "sgd", "normal": when it matters
    flag: str = ""                  # CLI flag, if not --name-with-dashes
    step: float | None = None       # UI slider/number step
    kind: str = ""                  # overrides the kind the default's type gives (conv blocks: "convs")


def knob(default: Any, **meta: Any) -> Any:
    # runs only while this module is imported, before mutmut can switch a mutant on (TESTING.md)
    return field(default=default, metadata={"knob": Knob(**meta)})  # pragma: no mutate


@dataclass(frozen=True)
class Config:
    # --- Data
    dataset: str = knob("xor", group="Data", choices=DATASETS,
                        help="Which data to learn: a 2D toy set, your own 2D points (custom: classes, "
                             "custom_regression: targets; a CSV file or points you click), or images: MNIST "
                             "handwritten digits, Fashion-MNIST clothes, CIFAR-10 colour photos.")
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
    normalize: str = knob("standard", group="Data", choices=("unit", "standard"), only_for="image",
                          help="Pixel scaling: 'unit' maps to [0, 1]; 'standard' also subtracts the data "
                               "set's mean pixel and divides by its std (MNIST 0.1307 and 0.3081).")
    augment: bool = knob(False, group="Data", only_for="image",
                         help="Random changes to each training image, on the device: digits (MNIST) are "
                              "shifted, rotated, scaled and thickened, so the net also reads hand-drawn "
                              "digits; Fashion-MNIST and CIFAR-10 images are shifted (a random crop of the "
                              "padded image) and mirrored left-right.")
    # --- Network
    model: str = knob("mlp", group="Network", choices=("mlp", "cnn"),
                      help="mlp: fully connected layers. cnn: conv layers (see conv layers), then the "
                           "hidden layers (images only).")
    hidden: tuple = knob((8, 8), group="Network", low=1, high=MAX_LAYER_SIZE, max_items=MAX_HIDDEN_LAYERS,
                         label="hidden layers",
                         help="Neurons in each hidden layer, comma-separated, e.g. 8,8. "
                              "Empty means no hidden layer (a linear model).")
    conv: tuple = knob(("16-3-1-max", "32-3-1-max"), group="Network", min_items=1, max_items=MAX_CONV_BLOCKS,
                       only_for="cnn", label="conv layers", kind="convs",
                       help="The CNN's conv layers, comma-separated, each filters-kernel-padding-pooling: "
                            "e.g. 16-3-1-max is 16 filters of 3x3, 1 pixel of zero padding, then 2x2 max "
                            "pooling (pooling: max, avg, none, or gap: average over the whole map). "
                            "Short forms: 16 = 16-3-1-max, 16-5 = 16-5-1-max.")
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
    def augmenting(self) -> bool:
        """Whether training images are augmented (`augment` is a setting for images only)."""
        return self.augment and self.is_image

    @property
    def is_image(self) -> bool:
        return self.dataset in IMAGE_DATASETS

    @property
    def n_train(self) -> int:
        if self.is_image:
            return 50_000 if self.dataset == "cifar10" else 60_000
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
            "image": self.is_image,
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
    """'int', 'float', 'str', 'bool', 'ints' (tuple of int), 'strs' (tuple of str) or 'convs'."""
    if KNOBS[name].kind:
        return KNOBS[name].kind
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
        digits = text.lstrip("+-")
        if digits.isascii() and digits.isdigit() and len(text) < 20:     # "²" is a digit to isdigit()
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
    elif kind == "convs":
        return _parse_convs(name, raw)
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


@dataclass(frozen=True)
class ConvBlock:
    """One conv layer: `channels` filters of kernel x kernel, zero `padding`, then `pool`."""
    channels: int
    kernel: int = 3
    padding: int = 1
    pool: str = "max"

    def __str__(self) -> str:
        return f"{self.channels}-{self.kernel}-{self.padding}-{self.pool}"


CONV_LIMITS = {"filters": (1, 512), "kernel": (1, 11), "padding": (0, 5)}


def conv_block(text: str) -> ConvBlock:
    """'16-3-1-max' (or a short form: '16', '16-5', '16-5-2') -> ConvBlock; ConfigError if bad."""
    parts = [p.strip().lower() for p in str(text).split("-")]
    rule = ("each conv layer is filters-kernel-padding-pooling, e.g. 16-3-1-max (pooling: "
            f"{', '.join(POOLS)})")
    if not 1 <= len(parts) <= 4 or not all(p.isascii() and p.isdigit() for p in parts[:3]):   # not "²"
        raise ConfigError(f"conv layers: {rule}; got {_show(text)}")
    numbers = [int(p) for p in parts[:3]]
    for (what, (low, high)), value in zip(CONV_LIMITS.items(), numbers):
        if not low <= value <= high:
            raise ConfigError(f"conv layers: {what} must be from {low} to {high}, got {value} in {_show(text)}")
    pool = parts[3] if len(parts) == 4 else "max"
    if pool not in POOLS:
        raise ConfigError(f"conv layers: pooling must be one of {', '.join(POOLS)}; got {_show(pool)}")
    return ConvBlock(*numbers, pool=pool)


def _parse_convs(name: str, raw: Any) -> tuple[str, ...]:
    k, what = KNOBS[name], label(name)
    values = tuple(str(conv_block(item)) for item in _items(raw))
    _check_count(k, values, what)
    return values


def conv_shapes(conv: Iterable[str], image: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    """(channels, height, width) after each conv layer (its pooling included), from `image`;
    ConfigError naming the first layer that shrinks the image below one pixel."""
    channels, height, width = image
    shapes = []
    for i, block in enumerate(map(conv_block, conv), 1):
        given = (height, width)
        height, width = (height + 2 * block.padding - block.kernel + 1, width + 2 * block.padding - block.kernel + 1)
        if min(height, width) < 1:
            raise ConfigError(f"conv layer {i} ({block}): its {block.kernel}x{block.kernel} kernel does not fit "
                              f"the {given[0]}x{given[1]}-pixel maps it gets; use fewer layers, a smaller kernel "
                              f"or more padding")
        if block.pool in ("max", "avg"):
            if min(height, width) < 2:
                raise ConfigError(f"conv layer {i} ({block}): its maps are {height}x{width} pixels, too small to "
                                  f"pool 2x2; use pooling none, or fewer layers")
            height, width = height // 2, width // 2
        elif block.pool == "gap":
            height = width = 1
        channels = block.channels
        shapes.append((channels, height, width))
    return shapes


def _check_count(k: Knob, values: tuple, what: str) -> None:
    if len(values) > k.max_items:
        raise ConfigError(f"{what}: at most {k.max_items} allowed, got {len(values)}")
    if len(values) < k.min_items:
        raise ConfigError(f"{what}: give at least {k.min_items}")


# ---------------------------------------------------------- whole configs
def from_dict(values: Mapping[str, Any], base: Config | None = None) -> Config:
    """Validate raw values (any source) on top of `base` (default: the defaults)."""
    values = _renamed(values)
    parsed = {name: parse_value(name, raw) for name, raw in values.items()}
    merged = {**(to_dict(base) if base else DEFAULTS), **parsed}
    config = Config(**merged)
    check(config)
    return config


def _renamed(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """Settings saved under an older name: `channels` (filters per 3x3 conv, 2x2 max pool each,
    as saved models and links before conv layers had kernels) is now `conv`."""
    if "channels" not in values:
        return values
    values = dict(values)
    channels = values.pop("channels")
    if "conv" not in values:
        values["conv"] = [f"{c}-3-1-max" for c in _items(channels)]
    return values


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
    if c.model == "cnn" and not c.is_image:
        raise ConfigError("model cnn works on image data only: choose an image dataset (mnist, fashion_mnist, "
                          "cifar10) or model mlp")
    if c.model == "cnn":
        conv_shapes(c.conv, IMAGE_SHAPES[c.dataset])
    if c.batch_size > c.n_train:
        raise ConfigError(f"batch size must be from 1 to the training set size ({c.n_train}), "
                          f"got {c.batch_size}")
    if c.nesterov and (c.optimizer != "sgd" or c.momentum <= 0):
        raise ConfigError("nesterov needs optimizer sgd with momentum above 0")
    if c.is_image and c.features:
        raise ConfigError(f"extra features are for the 2D datasets, not {c.dataset}")


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
LENET: dict[str, Any] = dict(model="cnn", conv=("6-5-2-max", "16-5-0-max"), hidden=(120, 84), optimizer="adam",
                             lr=0.001, epochs=3)
MNIST_PRESETS: dict[str, dict[str, Any]] = {
    "784-100-10, SGD (tutorial)": dict(MNIST_BASE, hidden=(100,)),
    "784-128-64-10, SGD + momentum": dict(MNIST_BASE, hidden=(128, 64), momentum=0.9, epochs=5),
    "784-392-196-98-10, dropout 0.2, Adam": dict(MNIST_BASE, hidden=(392, 196, 98), dropout=0.2,
                                                 optimizer="adam", lr=0.001),
    "Small CNN (16-32 conv, Adam)": dict(MNIST_BASE, model="cnn", conv=("16-3-1-max", "32-3-1-max"), hidden=(64,),
                                         optimizer="adam", lr=0.001, epochs=3),
    "LeNet-style CNN (6-16 conv 5x5, 120-84, Adam)": dict(MNIST_BASE, **LENET),
    "Draw-ready 784-256-128-10 (Adam + augmentation)": dict(MNIST_BASE, hidden=(256, 128), optimizer="adam",
                                                            lr=0.001, batch_size=128, augment=True, epochs=6),
}
DRAW_PRESET = "Draw-ready 784-256-128-10 (Adam + augmentation)"
# The harder image sets: an MLP and a CNN for each, to race against each other.
FASHION_BASE: dict[str, Any] = dict(MNIST_BASE, dataset="fashion_mnist", optimizer="adam", lr=0.001)
CIFAR_BASE: dict[str, Any] = dict(MNIST_BASE, dataset="cifar10", optimizer="adam", lr=0.001, loss="cross_entropy")
IMAGE_PRESETS: dict[str, dict[str, Any]] = {
    **MNIST_PRESETS,
    "Fashion-MNIST MLP 784-100-10 (Adam)": dict(FASHION_BASE, hidden=(100,)),
    "Fashion-MNIST LeNet-style CNN (Adam)": dict(FASHION_BASE, **LENET),
    "CIFAR-10 MLP 3072-256-128-10 (Adam)": dict(CIFAR_BASE, hidden=(256, 128)),
    # The seed tutorial's CNN: four 3x3 convolutions 3-64-128-128-64 without padding, ReLU, adaptive
    # average pooling, then 64-32-10 with dropout; Adam; 10 epochs (61.2% test accuracy there).
    "CIFAR-10 CNN (tutorial: 64-128-128-64 conv, 64-32-10)": dict(
        CIFAR_BASE, model="cnn", conv=("64-3-0-none", "128-3-0-none", "128-3-0-none", "64-3-0-gap"), hidden=(32,),
        dropout=0.5),
}


def preset(name: str) -> Config:
    overrides = {**TOY_PRESETS, **IMAGE_PRESETS}.get(name)
    if overrides is None:
        raise ConfigError(f'no preset called "{name}"')
    return from_dict(overrides)
