"""Properties over configs generated from the declarations themselves (config.KNOBS).

VALID configs: every field is drawn from its own Knob (choices, low/high, max_items) over its
whole range, per-layer activations included, with the rules that join fields kept (a loss that
fits the task, one activation or one per layer, batch size within the training split, nesterov
only with SGD momentum), on the generated 2D sets only. Properties:
  - every one is accepted, field for field as given;
  - the share link (URL), the JSON form and the CLI flags give back exactly the same config;
  - a sample, small enough to train in a blink, trains on the CPU with a finite loss, outputs
    the right number of values, keeps the batch-size rule on the real training split, and a
    checkpoint round trip predicts identically;
  - on an easy set (gauss, noise 0: see EASY) the loss falls;
  - every number at either end of its declared range trains with a finite loss.
INVALID configs: one field pushed out of the range written down here, by hand, or a rule
between fields broken, is refused with the exact message.

Hypothesis runs derandomized (the same examples on every run), so a failure is reproducible.
PLAYGROUND_PROPERTY_SCALE=10 runs ten times as many examples, freshly random (a deeper search).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import urllib.parse
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, seed, settings, strategies as st

from playground import checkpoints, evaluation
from playground import config as cfg
from playground.config import ConfigError

# Written down by hand, not read from config.py: the task of each generated set, its classes,
# and the network outputs for each (task, loss).
TASK = {"xor": "binary", "quadrants": "multiclass", "prod": "regression", "circle": "binary",
        "gauss": "binary", "spiral": "binary"}
N_CLASSES = {"binary": 2, "multiclass": 4, "regression": 1}
LOSSES = {"regression": ("mse", "l1"), "binary": ("bce_with_logits", "mse", "cross_entropy", "nll"),
          "multiclass": ("cross_entropy", "nll", "mse")}


def n_out(task: str, loss: str) -> int:
    if task == "regression" or (task == "binary" and loss in ("auto", "bce_with_logits", "mse")):
        return 1
    return N_CLASSES[task]


def hand_n_train(n_points: int, test_ratio: float) -> int:
    """Points left for training: the test share rounded, at least one point on each side."""
    n_test = min(n_points - 1, max(1, round(n_points * test_ratio)))
    return n_points - n_test


SCALE = float(os.environ.get("PLAYGROUND_PROPERTY_SCALE", "1"))


def examples(n: int, shrink: bool = True, seeded: bool = False) -> dict:
    """Hypothesis settings for n examples (times SCALE). At the normal scale: derandomized (or
    seeded: see `seeded`), and a failure is shrunk to a small example, except where each example
    trains (shrink=False: that takes minutes on two cores); a deeper search (SCALE > 1) draws
    fresh examples each run and reports a failure as first found."""
    phases = list(Phase) if SCALE == 1 and shrink else [Phase.explicit, Phase.generate]
    return dict(max_examples=max(1, round(n * SCALE)), deadline=None, derandomize=SCALE == 1 and not seeded,
                database=None, suppress_health_check=[HealthCheck.too_slow], phases=phases)


def seeded(text: str):
    """A fixed seed per case at the normal scale, so that parametrized cases (whose inner test has
    the same source, hence the same derandomized examples) each draw their own."""
    return seed(zlib.crc32(text.encode())) if SCALE == 1 else (lambda test: test)


KINDS = ("int", "float", "bool", "str", "ints", "strs", "convs")


def test_the_generator_knows_every_field():
    unknown = {name: cfg.kind_of(name) for name in cfg.KNOBS if cfg.kind_of(name) not in KINDS}
    assert not unknown, f"teach valid_values() these kinds of setting: {unknown}"
    assert set(cfg.GENERATED_DATASETS) == set(TASK)


# ------------------------------------------------------------------ the generator
@functools.lru_cache(maxsize=None)       # strategies are built once: building them is what costs
def number(name: str, low=None, high=None):
    """A value of an int or float knob, anywhere in its declared range (or in [low, high] of it)."""
    k = cfg.KNOBS[name]
    lo, hi = k.low if low is None else max(low, k.low), k.high if high is None else min(high, k.high)
    open_low = k.low_open and lo == k.low
    ends = st.sampled_from([hi] if open_low else [lo, hi])          # the ends, drawn often on purpose
    if cfg.kind_of(name) == "int":
        inside = st.integers(int(lo), int(hi))
        ends = ends.map(int)
    else:
        inside = st.floats(lo, hi, exclude_min=open_low, allow_nan=False, allow_infinity=False)
    return st.one_of(inside, inside, inside, ends)


def conv_blocks(k: cfg.Knob):
    limits = getattr(cfg, "CONV_LIMITS", {"filters": (1, 512), "kernel": (1, 11), "padding": (0, 5)})
    block = st.builds(lambda f, kernel, pad, pool: f"{f}-{kernel}-{pad}-{pool}",
                      st.integers(*limits["filters"]), st.integers(*limits["kernel"]),
                      st.integers(*limits["padding"]), st.sampled_from(getattr(cfg, "POOLS", ("max",))))
    return st.lists(block, min_size=max(1, k.min_items), max_size=k.max_items).map(tuple)


@functools.lru_cache(maxsize=None)
def plain(name: str):
    """Any value of one field, from its Knob alone."""
    k, kind = cfg.KNOBS[name], cfg.kind_of(name)
    if kind in ("int", "float"):
        return number(name)
    if kind == "bool":
        return st.booleans()
    if kind == "str":
        return st.sampled_from(k.choices)
    if kind == "ints":
        return st.lists(st.integers(int(k.low), int(k.high)), min_size=k.min_items, max_size=k.max_items).map(tuple)
    if kind == "strs":
        return st.lists(st.sampled_from(k.choices), min_size=k.min_items, max_size=k.max_items,
                        unique=True).map(tuple)
    if kind == "convs":
        return conv_blocks(k)
    raise AssertionError(f"no generator for {name} ({kind})")


@st.composite
def valid_values(draw, small: bool = False, easy: bool = False, loss: tuple[str, str] | None = None) -> dict:
    """Raw values of a valid config for a generated 2D set, every field from its Knob.
    small: sizes that train in a blink (<= 300 points, <= 3 layers of <= 16) and learning rates
    that should not diverge in a few steps; every other field still over its whole range.
    easy: see EASY. loss: a (task, loss) pair; the data set is then drawn among that task's."""
    values = {name: draw(plain(name)) for name in cfg.KNOBS}
    sets = [name for name in cfg.GENERATED_DATASETS if loss is None or TASK[name] == loss[0]]
    values["dataset"] = draw(st.sampled_from(sets))
    values["model"] = "mlp"                                          # cnn is for images
    if small:
        values["device"] = "cpu"
        values["n_points"] = draw(number("n_points", high=300))
        values["hidden"] = tuple(draw(st.lists(st.integers(1, 16), max_size=3)))
        # plain SGD's steps grow with the gradient (and 1/(1 - momentum)), Adam's do not
        values["lr"] = draw(number("lr", high=0.01 if values["optimizer"] == "sgd" else 0.05))
        values["init_std"] = draw(number("init_std", high=0.5))
    if easy:
        values.update(draw(easy_values()))
    task = TASK[values["dataset"]]
    values["loss"] = loss[1] if loss else draw(st.sampled_from(("auto",) + LOSSES[task]))
    hidden = values["hidden"]
    names = EASY_ACTIVATIONS if easy else cfg.ACTIVATIONS
    one = (draw(st.sampled_from(names)),)
    per_layer = tuple(draw(st.lists(st.sampled_from(names), min_size=len(hidden), max_size=len(hidden))))
    values["activation"] = draw(st.sampled_from([one, per_layer])) if len(hidden) > 1 else one
    n_train = hand_n_train(values["n_points"], values["test_ratio"])
    values["batch_size"] = draw(st.integers(1, min(n_train, 32) if easy else n_train))
    if values["nesterov"] and not (values["optimizer"] == "sgd" and values["momentum"] > 0):
        values["nesterov"] = False
    return values


# EASY: where "the loss falls" is a fair expectation: two clean gauss blobs, 100 points to learn
# from, and no start from which a correct trainer may fairly not move in 3 epochs: no ReLU (nor
# leaky ReLU, 0.01 of one), whose units can all start dead (the app shows them: dead_units); no
# tiny normal init (a saddle: every gradient ~0); light regularisation; learning rates that neither
# crawl nor diverge with batches of one.
EASY_ACTIVATIONS = tuple(a for a in cfg.ACTIVATIONS if a not in ("relu", "leaky_relu"))
EASY_LR = {"sgd": (0.02, 0.05), "adagrad": (0.05, 0.1)}       # others (Adam, AdamW, RMSprop): 0.005 to 0.05


@st.composite
def easy_values(draw) -> dict:
    optimizer = draw(plain("optimizer"))
    low, high = EASY_LR.get(optimizer, (0.005, 0.05))
    return dict(dataset="gauss", noise=0.0, n_points=200, test_ratio=0.5, optimizer=optimizer,
                lr=draw(number("lr", low=low, high=high)),
                momentum=draw(number("momentum", low=0.5, high=0.9)) if optimizer == "sgd" else 0.0,
                hidden=tuple(draw(st.lists(st.integers(4, 16), max_size=2))),
                init_std=draw(number("init_std", low=0.5)),
                dropout=draw(number("dropout", high=0.5)), weight_decay=draw(number("weight_decay", high=1e-3)),
                l1=draw(number("l1", high=1e-4)), epochs=draw(number("epochs", low=3)))


def canonical(name: str, value):
    """What the config holds for a raw value: features in config.FEATURES order."""
    if name == "features":
        return tuple(f for f in cfg.FEATURES if f in value)
    return value


def same(a: cfg.Config, b: cfg.Config) -> None:
    """Field for field, type included (1 and 1.0 are equal, but a float must stay a float)."""
    for name in cfg.KNOBS:
        x, y = getattr(a, name), getattr(b, name)
        assert x == y and type(x) is type(y), f"{name}: {x!r} became {y!r}"
    assert a == b


def url_round_trip(c: cfg.Config) -> cfg.Config:
    """Through a real query string, as a copied link carries it (blank values kept: hidden=)."""
    query = urllib.parse.urlencode(cfg.to_params(c))
    return cfg.from_params(urllib.parse.parse_qs(query, keep_blank_values=True))


_PARSER: list = []


def cli_round_trip(c: cfg.Config) -> cfg.Config:
    if not _PARSER:
        _PARSER.append(argparse.ArgumentParser())
        cfg.add_cli_flags(_PARSER[0])
    parser = _PARSER[0]
    argv = [f"{cfg.flag_name(name)}={text}" for name, text in cfg.to_params(c).items()]
    return cfg.from_cli(parser.parse_args(argv))


# ------------------------------------------------------------------ valid configs
PAIRS = [(task, loss) for task, losses in LOSSES.items() for loss in ("auto",) + losses]


def test_valid_configs_are_accepted_and_every_text_form_gives_them_back():
    """25 examples, each one config for each loss of each task ("auto" included): 300 in all."""
    seen = []

    @settings(**examples(25))
    @given(st.data())
    def check(data):
        drawn = []                          # kept only once the whole example is drawn and checked
        for pair in PAIRS:
            values = data.draw(valid_values(loss=pair), label=f"{pair[0]} {pair[1]}")
            c = cfg.from_dict(values)
            for name, value in values.items():
                assert getattr(c, name) == canonical(name, value), name
            same(c, url_round_trip(c))
            same(c, cfg.from_params(cfg.to_params(c)))
            assert set(json.loads(cfg.to_json(c))) == set(cfg.KNOBS)
            same(c, cfg.from_json(cfg.to_json(c)))
            same(c, cli_round_trip(c))
            drawn.append(c)
        seen.extend(drawn)
    check()
    print(f"\n[properties] {len(seen)} generated configs accepted and round-tripped")
    assert len(seen) == len(PAIRS) * examples(25)["max_examples"]
    # the whole range was visited: every set, loss and activation, both ends of the numbers
    assert {c.dataset for c in seen} == set(cfg.GENERATED_DATASETS)
    assert {c.resolved_loss for c in seen} == {loss for losses in LOSSES.values() for loss in losses}
    assert {a for c in seen for a in c.activation} == set(cfg.ACTIVATIONS)
    assert any(len(c.activation) > 1 for c in seen)
    for name in ("dropout", "noise", "lr", "momentum", "weight_decay", "l1", "test_ratio"):
        k, values = cfg.KNOBS[name], [getattr(c, name) for c in seen]
        assert min(values) <= k.low + 0.01 * (k.high - k.low) and max(values) >= k.high - 0.01 * (k.high - k.low), name


@pytest.mark.parametrize("values", [
    dict(lr=0.012345), dict(lr=1 / 3), dict(lr=0.1 + 0.2), dict(lr=5e-324), dict(lr=9.999999999),
    dict(noise=0.123456789), dict(test_ratio=0.3333333333333333), dict(dropout=0.8999999),
    dict(init="normal", init_std=0.00012345), dict(weight_decay=1e-7, l1=2.5e-5),
    dict(optimizer="sgd", momentum=0.98765, nesterov=True),
])
def test_share_link_keeps_every_digit(values):
    """A copied link must give back the very same numbers (4 significant digits would turn a
    learning rate of 0.012345 into 0.01234)."""
    c = cfg.from_dict(values)
    back = url_round_trip(c)
    same(c, back)
    for name, value in values.items():
        if isinstance(value, float):
            assert float(cfg.to_params(c)[name]) == value


def check_trained(trainer) -> None:
    """Properties of a run after a few steps."""
    config, split = trainer.config, trainer.split
    task = TASK[config.dataset]
    assert trainer.status != "diverged", trainer.message
    trainer.read_step_loss()
    losses = [v for _, v in trainer.step_losses] + [x for r in trainer.history for x in (r.train_loss, r.test_loss)]
    test_loss, test_acc = trainer.evaluate("test")
    assert losses and all(math.isfinite(v) for v in losses + [test_loss])
    assert (test_acc is None) == (task == "regression")
    # the data: the split the batch-size rule talks about
    assert len(split.train) + len(split.test) == config.n_points
    assert len(split.train) == hand_n_train(config.n_points, config.test_ratio)
    assert split.n_classes == N_CLASSES[task]
    assert split.n_inputs == 2 + len(config.features)
    # outputs: one number per example for regression and one-logit losses, else one per class
    out = evaluation.outputs(trainer.model, trainer.x_test)
    assert out.shape == (len(split.test), n_out(task, config.loss))
    proba = evaluation.predict_proba(trainer.model, trainer.head, trainer.x_test)
    if task == "regression":
        assert proba.shape == (len(split.test),)
    else:
        assert proba.shape == (len(split.test), N_CLASSES[task])
        assert np.allclose(proba.sum(1), 1, atol=1e-5) and (proba >= 0).all()


def check_checkpoint(trainer) -> None:
    """Saved and loaded: the same config and the very same predictions."""
    from datasets.toy import add_features
    config, split = trainer.config, trainer.split
    raw = checkpoints.to_bytes(config, trainer.model, split.n_inputs, split.n_classes)
    loaded = checkpoints.load(raw)
    same(config, loaded.config)
    points = np.random.default_rng(config.seed % 1000).uniform(-1.25, 1.25, (17, 2)).astype(np.float32)
    expected = evaluation.predict_proba(trainer.model, trainer.head, add_features(torch.from_numpy(points),
                                                                                  config.features))
    assert np.array_equal(loaded.proba(points), expected)


TRAINED_PER_LOSS = 3


@pytest.mark.parametrize("task, loss", [(task, loss) for task, losses in LOSSES.items() for loss in losses])
def test_a_sample_of_valid_configs_trains(task, loss):
    """TRAINED_PER_LOSS configs for each loss of each task (27 in all), every other field drawn."""
    from playground.training import Trainer
    trained = []

    @settings(**examples(TRAINED_PER_LOSS, shrink=False, seeded=True))
    @seeded(f"{task} {loss}")
    @given(valid_values(small=True, loss=(task, loss)))
    def check(values):
        config = cfg.from_dict(values)
        trainer = Trainer(config, device="cpu", fast_path="eager")
        trainer.step(6)
        check_trained(trainer)
        check_checkpoint(trainer)
        # the batch-size rule, on the real training split: all of it is one batch, one more is not
        n_train = len(trainer.split.train)
        assert config.replace(batch_size=n_train).batch_size == n_train
        with pytest.raises(ConfigError) as refused:
            config.replace(batch_size=n_train + 1)
        assert str(refused.value) == (f"batch size must be from 1 to the training set size ({n_train}), "
                                      f"got {n_train + 1}")
        same(config, url_round_trip(config))
        same(config, cfg.from_json(cfg.to_json(config)))
        trained.append(config)
    check()
    print(f"\n[properties] {task} {loss}: {len(trained)} valid configs trained "
          f"({', '.join(sorted({c.dataset for c in trained}))})")
    assert len(trained) == examples(TRAINED_PER_LOSS)["max_examples"]


def test_on_an_easy_set_the_loss_falls():
    """gauss without noise: two clean blobs. With a fair learning rate and light regularisation,
    whatever the network, activation, init, loss or optimizer, three epochs lower the loss on the
    training points."""
    from playground.training import Trainer
    trained = []

    @settings(**examples(15, shrink=False))
    @given(valid_values(small=True, easy=True))
    def check(values):
        config = cfg.from_dict(values)
        trainer = Trainer(config, device="cpu", fast_path="eager")
        before, _ = trainer.evaluate("train")
        trainer.run(epochs=3)
        check_trained(trainer)
        after, _ = trainer.evaluate("train")
        assert after < before, f"loss on the training points {before:.4f} -> {after:.4f}"
        trained.append((before, after))
    check()
    print(f"\n[properties] {len(trained)} easy-set configs trained; every loss fell")
    assert len(trained) == examples(15)["max_examples"]


# Every number of a config at either end of its declared range, on a small tame run. The learning
# rate's top (10) may legitimately diverge: then the run must say so, with its weights kept finite.
EDGE_BASE = dict(dataset="gauss", n_points=100, hidden=(8,), optimizer="adam", lr=0.01, batch_size=10,
                 device="cpu", epochs=3)
NEEDS = {"sgd": dict(optimizer="sgd"), "normal": dict(init="normal")}
EDGES = [(name, end) for name, k in cfg.KNOBS.items() if cfg.kind_of(name) in ("int", "float")
         for end in ("low", "high")]


@pytest.mark.parametrize("name, end", EDGES)
def test_every_number_at_either_end_of_its_range_trains(name, end):
    from playground.training import Trainer
    k = cfg.KNOBS[name]
    value = getattr(k, end)
    if end == "low" and k.low_open:
        value = k.low + 1e-6
    values = {**EDGE_BASE, **NEEDS.get(k.only_for, {}), name: value}
    n_train = hand_n_train(values["n_points"], values.get("test_ratio", 0.5))
    if name == "batch_size" and end == "high":
        values[name] = n_train                                          # the top this config allows
    else:
        values["batch_size"] = min(values["batch_size"], n_train)
    config = cfg.from_dict(values)
    trainer = Trainer(config, device="cpu", fast_path="eager")
    trainer.step(8)
    if name == "lr" and end == "high" and trainer.status == "diverged":
        assert "learning rate" in trainer.message
        assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
        return
    check_trained(trainer)


def test_hidden_layers_at_their_limits_train():
    from playground.training import Trainer
    widest = cfg.from_dict({**EDGE_BASE, "hidden": (cfg.KNOBS["hidden"].high,)})
    deepest = cfg.from_dict({**EDGE_BASE, "hidden": (3,) * cfg.KNOBS["hidden"].max_items, "activation": "relu"})
    linear = cfg.from_dict({**EDGE_BASE, "hidden": ()})
    for config in (widest, deepest, linear):
        trainer = Trainer(config, device="cpu", fast_path="eager")
        trainer.step(5)
        check_trained(trainer)


# ------------------------------------------------------------------ invalid configs
# The declared ranges, written down by hand: (label, text of the range, low, high, low open).
RANGES = {
    "n_points": ("points", "from 10 to 20000", 10, 20000, False),
    "noise": ("noise", "from 0 to 1", 0.0, 1.0, False),
    "test_ratio": ("test ratio", "from 0.1 to 0.9", 0.1, 0.9, False),
    "dropout": ("dropout", "from 0 to 0.9", 0.0, 0.9, False),
    "init_std": ("init std", "from 0.0001 to 1", 1e-4, 1.0, False),
    "lr": ("learning rate", "above 0 to 10", 0.0, 10.0, True),
    "momentum": ("momentum", "from 0 to 0.99", 0.0, 0.99, False),
    "weight_decay": ("L2 (weight decay)", "from 0 to 1", 0.0, 1.0, False),
    "l1": ("L1", "from 0 to 1", 0.0, 1.0, False),
    "batch_size": ("batch size", "from 1 to 60000", 1, 60000, False),
    "epochs": ("epochs", "from 1 to 10000", 1, 10000, False),
    "seed": ("seed", "from 0 to 2147483647", 0, 2**31 - 1, False),
}


def test_the_declared_ranges_are_the_ones_written_down():
    declared = {name for name in cfg.KNOBS if cfg.kind_of(name) in ("int", "float")}
    assert declared == set(RANGES), "a new number setting: write its range down in RANGES"
    for name, (label, _, low, high, low_open) in RANGES.items():
        k = cfg.KNOBS[name]
        assert (cfg.label(name), k.low, k.high, k.low_open) == (label, low, high, low_open), name


def shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def out_of_range(name: str) -> list:
    """Values just outside the written-down range, and its ends (which must be allowed)."""
    _, _, low, high, low_open = RANGES[name]
    step = 1 if isinstance(low, int) else 0.5
    return [low if low_open else low - step, high + step]


@pytest.mark.parametrize("name", sorted(RANGES))
def test_numbers_outside_their_range_are_refused_with_the_exact_message(name):
    label, rule, low, high, low_open = RANGES[name]
    for value in out_of_range(name):
        with pytest.raises(ConfigError) as refused:
            cfg.from_dict({name: value})
        assert str(refused.value) == f"{label} must be {rule}, got {shown(value)}"
    if name != "batch_size":                              # batch size: also capped by the training split
        assert getattr(cfg.from_dict({name: high}), name) == high
        if not low_open:
            assert getattr(cfg.from_dict({name: low, "batch_size": 1}), name) == low


def test_one_broken_field_in_a_valid_config_gives_its_exact_message():
    broken = []

    @settings(**examples(40))
    @given(valid_values())
    def check(values):
        for name, (label, rule, *_) in RANGES.items():
            for value in out_of_range(name):
                with pytest.raises(ConfigError) as refused:
                    cfg.from_dict({**values, name: value})
                assert str(refused.value) == f"{label} must be {rule}, got {shown(value)}"
                broken.append(name)
    check()
    print(f"\n[properties] {len(broken)} invalid configs (40 valid ones, each number broken at either end) "
          f"refused with the exact message")
    assert len(broken) == 2 * len(RANGES) * examples(40)["max_examples"]


INVALID = [
    ({"lr": 0}, "learning rate must be above 0 to 10, got 0"),
    ({"lr": "-0.5"}, "learning rate must be above 0 to 10, got -0.5"),
    ({"lr": "nan"}, 'learning rate must be a finite number, got "nan"'),
    ({"lr": "inf"}, 'learning rate must be a finite number, got "inf"'),
    ({"lr": "fast"}, 'learning rate must be a number, got "fast"'),
    ({"dropout": 1.0}, "dropout must be from 0 to 0.9, got 1"),
    ({"dropout": "0.95"}, "dropout must be from 0 to 0.9, got 0.95"),
    ({"epochs": 2.5}, 'epochs must be a whole number, got "2.5"'),
    ({"batch_size": True}, "batch size must be a whole number, got True"),
    ({"nesterov": "maybe"}, 'nesterov must be true or false, got "maybe"'),
    ({"hidden": "8,x"}, 'hidden layers must be whole numbers from 1 to 1024, got "8,x"'),
    ({"hidden": ",".join(["4"] * 17)}, "hidden layers: at most 16 allowed, got 17"),
    ({"activation": ""}, "activation: give at least 1"),
    ({"features": "x1sq,cube"},
     'extra features must be chosen from x1sq, x2sq, x1x2, sin_x1, sin_x2; got "cube"'),
    ({"optimizer": "lbfgs"}, 'optimizer must be one of sgd, adam, adamw, rmsprop, adagrad; got "lbfgs"'),
    # rules between fields
    ({"dataset": "prod", "loss": "cross_entropy"},
     'loss "cross_entropy" does not fit the prod data (regression); use one of: auto, mse, l1'),
    ({"dataset": "gauss", "loss": "l1"},
     'loss "l1" does not fit the gauss data (binary); use one of: auto, bce_with_logits, mse, cross_entropy, nll'),
    ({"dataset": "quadrants", "loss": "bce_with_logits"},
     'loss "bce_with_logits" does not fit the quadrants data (multiclass); use one of: auto, cross_entropy, nll, mse'),
    ({"hidden": "8,8", "activation": "relu,tanh,relu"}, "activation: give one name, or one per hidden layer (2), got 3"),
    ({"hidden": "", "activation": "relu,tanh"}, "activation: give one name, or one per hidden layer (0), got 2"),
    # the batch is checked against the training split (500 of 1000 points here), not all the points
    ({"n_points": 1000, "test_ratio": 0.5, "batch_size": 501},
     "batch size must be from 1 to the training set size (500), got 501"),
    ({"n_points": 1000, "test_ratio": 0.5, "batch_size": 1000},
     "batch size must be from 1 to the training set size (500), got 1000"),
    ({"n_points": 10, "test_ratio": 0.9, "batch_size": 2},
     "batch size must be from 1 to the training set size (1), got 2"),
    ({"n_points": 200, "test_ratio": 0.25, "batch_size": 151},
     "batch size must be from 1 to the training set size (150), got 151"),
    ({"nesterov": True}, "nesterov needs optimizer sgd with momentum above 0"),
    ({"optimizer": "adam", "momentum": 0.5, "nesterov": True}, "nesterov needs optimizer sgd with momentum above 0"),
]


@pytest.mark.parametrize("values, message", INVALID)
def test_invalid_configs_give_the_exact_message(values, message):
    with pytest.raises(ConfigError) as refused:
        cfg.from_dict(values)
    assert str(refused.value) == message


@pytest.mark.parametrize("values, starts", [
    ({"model": "cnn"}, "model cnn works on image data only"),
    ({"dataset": "cifar"}, "dataset must be one of xor, quadrants, prod, circle, gauss, spiral, "),
    ({"wings": 2}, 'unknown setting "wings"; known settings: dataset, '),
])
def test_invalid_configs_whose_message_lists_a_growing_set(values, starts):
    with pytest.raises(ConfigError) as refused:
        cfg.from_dict(values)
    assert str(refused.value).startswith(starts)


def test_the_batch_may_be_the_whole_training_split_but_no_more():
    assert cfg.from_dict({"n_points": 1000, "test_ratio": 0.5, "batch_size": 500}).batch_size == 500
    assert cfg.from_dict({"n_points": 200, "test_ratio": 0.25, "batch_size": 150}).batch_size == 150


# ------------------------------------------------------------------ product bugs these properties found
def test_augment_on_2d_points_trains_or_is_refused():
    """Found here: augment (an image setting, hidden on the 2D page) crashed 2D training; it is
    now ignored there, as every setting that does not apply is."""
    from playground.training import Trainer
    try:
        config = cfg.from_dict({**EDGE_BASE, "dataset": "xor", "augment": True})
    except ConfigError as refused:
        assert "augment" in str(refused)
        return
    trainer = Trainer(config, device="cpu", fast_path="eager")
    trainer.step(3)
    check_trained(trainer)
