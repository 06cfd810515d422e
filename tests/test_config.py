"""The one declaration: validation, text forms (URL, CLI, JSON), presets."""
import argparse

import pytest
from hypothesis import given, settings, strategies as st

from playground import config as cfg
from playground.config import Config, ConfigError


def test_defaults_are_valid():
    cfg.check(Config())
    assert cfg.from_dict({}) == Config()


@pytest.mark.parametrize("values, message", [
    ({"hidden": "abc"}, 'hidden layers must be whole numbers from 1 to 1024, got "abc"'),
    ({"hidden": "8,0"}, "hidden layers must be whole numbers from 1 to 1024"),
    ({"hidden": "2000"}, "from 1 to 1024"),
    ({"hidden": ",".join(["4"] * 17)}, "at most 16"),
    ({"lr": 0}, "learning rate must be above 0 to 10, got 0"),
    ({"lr": "11"}, "learning rate must be above 0 to 10"),
    ({"lr": "nan"}, "learning rate must be a finite number"),
    ({"lr": "fast"}, 'learning rate must be a number, got "fast"'),
    ({"batch_size": 10_000, "n_points": 1000}, "batch size must be from 1 to the training set size (500)"),
    ({"epochs": 0}, "epochs must be from 1 to 10000"),
    ({"epochs": 2.5}, "epochs must be a whole number"),
    ({"dataset": "cifar"}, "dataset must be one of"),
    ({"activation": "swish"}, "activation must be chosen from"),
    ({"activation": "relu,tanh,relu"}, "one per hidden layer"),
    ({"loss": "cross_entropy", "dataset": "prod"}, 'loss "cross_entropy" does not fit the prod data'),
    ({"loss": "bce_with_logits", "dataset": "mnist"}, "does not fit the mnist data"),
    ({"model": "cnn"}, "model cnn works on image data only"),
    ({"nesterov": True}, "nesterov needs optimizer sgd with momentum above 0"),
    ({"features": "x1sq,cube"}, "extra features must be chosen from"),
    ({"wings": 2}, 'unknown setting "wings"'),
    ({"augment": "maybe"}, "augment must be true or false"),
])
def test_bad_values_name_field_value_and_rule(values, message):
    with pytest.raises(ConfigError, match=None) as info:
        cfg.from_dict(values)
    assert message in str(info.value)


def test_text_forms_parse():
    c = cfg.from_dict({"hidden": "128, 64", "activation": "relu,tanh", "features": ["sin_x2", "x1sq"],
                       "lr": "1e-3", "drop_last": "yes", "epochs": "20"})
    assert c.hidden == (128, 64) and c.activations == ("relu", "tanh")
    assert c.features == ("x1sq", "sin_x2")  # canonical order
    assert c.lr == 0.001 and c.drop_last is True and c.epochs == 20
    assert cfg.from_dict({"hidden": ""}).hidden == ()


def test_derived_properties():
    assert Config(dataset="prod").task == "regression"
    assert Config(dataset="prod").resolved_loss == "mse"
    assert Config(dataset="circle").resolved_loss == "bce_with_logits"
    assert Config(dataset="quadrants").resolved_loss == "cross_entropy"
    assert Config(hidden=(4, 4, 4), activation=("relu",)).activations == ("relu",) * 3
    assert Config(n_points=1000, test_ratio=0.3).n_train == 700


def test_url_params_round_trip_and_only_non_defaults():
    c = cfg.from_dict({"dataset": "spiral", "hidden": "8,8,8", "features": "sin_x1,sin_x2", "lr": 0.01})
    params = cfg.to_params(c)
    assert params == {"dataset": "spiral", "features": "sin_x1,sin_x2", "hidden": "8,8,8", "lr": "0.01"}
    assert cfg.from_params(params) == c
    assert cfg.from_params({"lr": ["0.1", "0.2"]}).lr == 0.2   # repeated URL keys: the last wins


def test_json_round_trip_and_bad_json():
    c = cfg.preset("Small CNN (16-32 conv, Adam)")
    assert cfg.from_json(cfg.to_json(c)) == c
    for bad in ("not json", "[1, 2]", '{"lr": -1}'):
        with pytest.raises(ConfigError):
            cfg.from_json(bad)


def test_cli_flags_generated_for_every_field():
    parser = argparse.ArgumentParser()
    cfg.add_cli_flags(parser)
    flags = {a.dest for a in parser._actions}
    assert set(cfg.KNOBS) <= flags
    args = parser.parse_args(["--hidden", "16,8", "--batch-size", "32", "--drop-last", "true"])
    c = cfg.from_cli(args)
    assert (c.hidden, c.batch_size, c.drop_last) == ((16, 8), 32, True)


def test_presets_are_valid():
    for name in {**cfg.TOY_PRESETS, **cfg.MNIST_PRESETS}:
        cfg.preset(name)
    with pytest.raises(ConfigError):
        cfg.preset("nope")


def test_live_fields_do_not_need_reset():
    c = Config()
    assert not cfg.needs_reset(c, c.replace(lr=0.1, optimizer="sgd", momentum=0.9, l1=0.001, epochs=50))
    assert cfg.needs_reset(c, c.replace(hidden=(4,)))
    assert cfg.needs_reset(c, c.replace(noise=0.2))


# Every field, arbitrary raw values (what a URL, an upload or the CLI can send): the outcome is a
# Config or a ConfigError, nothing else.
RAW = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                st.text(max_size=30), st.lists(st.one_of(st.integers(-5, 2000), st.text(max_size=8)), max_size=20))
FIELD_VALUES = st.dictionaries(st.sampled_from(sorted(cfg.KNOBS) + ["bogus"]), RAW, max_size=6)


@settings(max_examples=500, deadline=None)
@given(FIELD_VALUES)
def test_any_raw_input_gives_a_config_or_a_config_error(values):
    try:
        c = cfg.from_dict(values)
    except ConfigError as e:
        assert str(e)
        return
    cfg.check(c)
    assert cfg.from_params(cfg.to_params(c)) == c
    assert cfg.from_json(cfg.to_json(c)) == c


# Any config the UI, a URL or the CLI can produce either trains or is refused with a ConfigError.
TRAINABLE = st.fixed_dictionaries({"epochs": st.integers(0, 2)}, optional={   # epochs always: 200 by default
    "dataset": st.sampled_from(cfg.TOY_DATASETS + ("cifar", "")),
    "n_points": st.integers(0, 300),
    "noise": st.floats(-0.5, 1.5),
    "test_ratio": st.floats(0.0, 1.0),
    "features": st.lists(st.sampled_from(cfg.FEATURES + ("cube",)), max_size=3),
    "hidden": st.lists(st.integers(0, 12), max_size=3),
    "activation": st.lists(st.sampled_from(cfg.ACTIVATIONS + ("swish",)), min_size=1, max_size=3),
    "dropout": st.floats(0, 1),
    "init": st.sampled_from(cfg.INITS),
    "init_std": st.floats(0, 2),
    "loss": st.sampled_from(cfg.LOSSES),
    "optimizer": st.sampled_from(cfg.OPTIMIZERS),
    "lr": st.floats(-1, 12),
    "momentum": st.floats(0, 1),
    "nesterov": st.booleans(),
    "weight_decay": st.floats(0, 1),
    "l1": st.floats(0, 0.1),
    "batch_size": st.integers(0, 200),
    "drop_last": st.booleans(),
    "model": st.sampled_from(("mlp", "cnn")),
})


@settings(max_examples=30, deadline=None)
@given(TRAINABLE)
def test_any_config_trains_or_is_refused(values):
    from playground.training import Trainer
    try:
        config = cfg.from_dict({"device": "cpu", **values})
        trainer = Trainer(config)        # the custom sets without points are refused here
    except ConfigError:
        return
    assert trainer.run() in ("finished", "diverged")
    assert trainer.summary()["status"] in ("ok", "diverged")


def test_unicode_digits_are_refused_not_a_crash():
    # "²".isdigit() is True but int("²") fails: found by hypothesis (the conv layers' parser)
    for name, raw in (("epochs", "²"), ("hidden", "²"), ("conv", "²"), ("batch_size", "١٢")):
        with pytest.raises(ConfigError):
            cfg.from_dict({name: raw})
