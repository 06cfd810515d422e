"""The About page through AppTest: every control explained, the maths of each loss and optimizer."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import close_jobs

from playground import config as cfg
from playground.ui import about

APP = str(Path(__file__).resolve().parents[2] / "app.py")
ABOUT = "playground/ui/about.py"




def open_about(at: AppTest) -> AppTest:
    at.switch_page(ABOUT)
    return at.run()


def latex(at: AppTest) -> str:
    return " ".join(item.value for item in at.latex)


def test_about_renders_without_exception(at):
    open_about(at)
    assert not at.exception
    assert at.title[0].value == "About Neural Playground"
    assert len(at.latex) >= 3


def test_every_control_is_explained_once_grouped(at):
    open_about(at)
    assert [s.value for s in at.subheader] == list(cfg.GROUPS)
    tables = [table.value for table in at.table]
    assert len(tables) == len(cfg.GROUPS)
    assert sum(len(t) for t in tables) == len(cfg.KNOBS)
    helps = {h for t in tables for h in t["what it does"]}
    assert helps == {k.help for k in cfg.KNOBS.values()}
    learning_rate = tables[2][tables[2]["setting"] == "learning rate"].iloc[0]
    assert learning_rate["allowed"] == "above 0 to 10" and learning_rate["default"] == "0.03"
    assert learning_rate["live"] == "live" and learning_rate["used for"] == "always"


def test_every_loss_and_optimizer_has_maths():
    names = set(cfg.LOSSES) - {"auto"}
    assert set(about.LOSSES) == names == set(about.LOSS_WORDS)
    assert set(about.OPTIMIZERS) == set(cfg.OPTIMIZERS) == set(about.OPTIMIZER_WORDS)


@pytest.mark.parametrize("loss", sorted(set(cfg.LOSSES) - {"auto"}))
def test_each_loss_renders(at, loss):
    open_about(at)
    at.selectbox(key="about:loss").select(loss).run()
    assert not at.exception
    assert about.LOSSES[loss] in latex(at)
    assert about.REGULARISATION in latex(at)          # L1 / L2 shown with every loss


@pytest.mark.parametrize("optimizer", cfg.OPTIMIZERS)
def test_each_optimizer_renders(at, optimizer):
    open_about(at)
    at.selectbox(key="about:opt").select(optimizer).run()
    assert not at.exception
    assert all(line in latex(at) for line in about.OPTIMIZERS[optimizer])


def test_sgd_shows_momentum_and_nesterov(at):
    open_about(at)
    at.selectbox(key="about:opt").select("sgd").run()
    assert r"\mu v_{t-1}" in latex(at) and "Nesterov" in latex(at)


def test_defaults_to_the_2d_page_settings(at):
    at.sidebar.selectbox(key="2d:dataset").select("prod").run()      # regression: auto loss is mse
    at.sidebar.selectbox(key="2d:optimizer").select("rmsprop").run()
    open_about(at)
    assert not at.exception
    assert at.selectbox(key="about:loss").value == "mse"
    assert at.selectbox(key="about:opt").value == "rmsprop"


def test_without_a_run_it_shows_the_defaults():
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page(ABOUT)
    at.run()
    assert not at.exception
    assert at.selectbox(key="about:loss").value == cfg.Config().resolved_loss
    assert at.selectbox(key="about:opt").value == cfg.DEFAULTS["optimizer"]
    close_jobs(at)
