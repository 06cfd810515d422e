"""The MNIST page alone through AppTest, offline on the bundled sample."""
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import close_jobs

TIMEOUT = 60


def mnist_script():
    from playground.ui import mnist_page
    mnist_page.render()


@pytest.fixture
def page(offline):
    apps = []

    def make(**state) -> AppTest:
        at = AppTest.from_function(mnist_script, default_timeout=TIMEOUT)
        for key, value in state.items():
            at.session_state[key] = value
        apps.append(at)
        return at.run()
    yield make
    for at in apps:       # no training thread outlives its test
        close_jobs(at)




def job(at: AppTest):
    return at.session_state["job:mnist"]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def poll_until(at: AppTest, check, timeout: float = TIMEOUT) -> None:
    """AppTest does not fire run_every timers: each at.run() is one poll."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if check(at):
            return
        time.sleep(0.1)
    raise AssertionError("the page never showed the change")


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def small_run(at: AppTest, epochs: int = 2) -> None:
    at.sidebar.text_input(key="mnist:hidden").input("32").run()
    at.sidebar.number_input(key="mnist:epochs").set_value(epochs).run()
    assert not at.exception


def train_to_the_end(at: AppTest, epochs: int = 2) -> None:
    small_run(at, epochs)
    at.button(key="mnist:play").click().run()
    poll_until(at, lambda a: metric(a, "Epoch") != f"0 / {epochs}")        # it moves while training
    poll_until(at, lambda a: not job(a).snapshot().active)
    at.run()                                                                # the full page after the end
    assert not at.exception and metric(at, "Epoch") == f"{epochs} / {epochs}"


# ------------------------------------------------------------------ tests
def test_mnist_page_renders_before_training(page):
    at = page()
    assert not at.exception
    assert at.title[0].value == "MNIST handwritten digits"
    assert metric(at, "Epoch") == "0 / 10"
    assert not at.button(key="mnist:play").disabled
    assert "load when you press Play" in texts(at.caption)
    assert not at.tabs                                      # no results before a model exists
    assert any("Code for this run" in e.label for e in at.expander)
    assert at.get("download_button")                        # train.py


def test_mnist_preset_fills_the_form(page):
    at = page()
    at.sidebar.selectbox(key="mnist:preset").select("784-128-64-10, SGD + momentum").run()
    assert not at.exception
    assert at.sidebar.text_input(key="mnist:hidden").value == "128,64"
    assert at.sidebar.number_input(key="mnist:epochs").value == 5
    assert at.sidebar.number_input(key="mnist:momentum").value == pytest.approx(0.9)
    at.sidebar.selectbox(key="mnist:preset").select("Small CNN (16-32 conv, Adam)").run()
    assert at.sidebar.selectbox(key="mnist:model").value == "cnn"
    assert at.sidebar.text_input(key="mnist:conv").value == "16-3-1-max,32-3-1-max"


def test_mnist_trains_on_the_sample_then_shows_results(page):
    at = page()
    train_to_the_end(at, epochs=2)
    snap = job(at).snapshot()
    assert snap.used_sample and snap.config.hidden == (32,)
    assert "bundled sample" in texts(at.info)
    assert at.button(key="mnist:download").label.startswith("Download full MNIST")
    assert [t.label for t in at.tabs] == ["Confusion matrix", "Mistakes", "Look at one digit", "Predictions"]
    assert metric(at, "Test accuracy").endswith("%")
    view = snap.mnist
    wrong = np.flatnonzero(view.predicted != view.labels)
    # only the open tab is drawn: the confusion matrix and per-digit accuracy first
    assert len(at.get("plotly_chart")) == 3 + 2 and "mistakes" not in texts(at.caption)
    at.session_state["mnist:tab"] = "Mistakes"
    at.run()
    assert f"{len(wrong):,} of {len(view.labels):,} test digits are misread" in texts(at.caption)
    # Look at one digit: the number picks a test digit; the verdict matches the snapshot
    at.session_state["mnist:tab"] = "Look at one digit"
    at.run()
    assert at.number_input(key="mnist:index").value == int(wrong[0])      # it opens on a mistake
    at.number_input(key="mnist:index").set_value(7).run()
    said = f"True digit **{view.labels[7]}**, the network says **{view.predicted[7]}**"
    assert said in texts(at.markdown)
    at.button(key="mnist:next-mistake").click().run()
    after_7 = int(wrong[wrong > 7][0])
    assert at.number_input(key="mnist:index").value == after_7
    # Predictions: the first 200 rows, or only the mistakes
    at.session_state["mnist:tab"] = "Predictions"
    at.run()
    assert not at.main.number_input                          # the closed tab is not drawn
    table = at.dataframe[0].value
    assert len(table) == 200 and list(table.columns) == ["index", "true", "predicted", "confidence", "correct"]
    at.toggle(key="mnist:only-wrong").set_value(True).run()
    table = at.dataframe[0].value
    assert len(table) == min(200, len(wrong)) and not table["correct"].any()
    # back to one digit: the page remembered which
    at.session_state["mnist:tab"] = "Look at one digit"
    at.run()
    assert at.number_input(key="mnist:index").value == after_7
    assert not at.exception


def test_mnist_pause_stops_the_epochs(page):
    at = page()
    small_run(at, epochs=1000)
    at.button(key="mnist:play").click().run()
    poll_until(at, lambda a: int(metric(a, "Epoch").split(" / ")[0]) >= 2)
    assert at.button(key="mnist:play").disabled and not at.button(key="mnist:pause").disabled
    at.button(key="mnist:pause").click().run()
    poll_until(at, lambda a: not job(a).running, timeout=10)
    at.run()
    paused = metric(at, "Epoch")
    time.sleep(0.5)
    at.run()
    assert metric(at, "Epoch") == paused and not at.exception
    assert job(at).snapshot().status == "paused"
    assert at.tabs                                           # results after the first epoch
    # Step: exactly one more epoch
    epoch = int(paused.split(" / ")[0])
    at.button(key="mnist:step").click().run()
    poll_until(at, lambda a: not job(a).running and metric(a, "Epoch") == f"{epoch + 1} / 1000")


@pytest.mark.parametrize("hidden, message", [
    ("abc", 'hidden layers must be whole numbers from 1 to 1024, got "abc"'),
    ("0,5", "hidden layers must be whole numbers from 1 to 1024"),
    ("2000", "hidden layers must be whole numbers from 1 to 1024"),
])
def test_mnist_invalid_hidden_layers_show_an_error(page, hidden, message):
    at = page()
    at.sidebar.text_input(key="mnist:hidden").input(hidden).run()
    assert not at.exception
    assert message in texts(at.error)
    assert "Fix the settings in the sidebar first" in texts(at.error)
    at.sidebar.text_input(key="mnist:hidden").input("16").run()
    assert not at.exception and not at.error


def test_mnist_invalid_settings_keep_the_run_visible(page):
    at = page()
    small_run(at, epochs=1000)
    at.button(key="mnist:play").click().run()
    poll_until(at, lambda a: metric(a, "Epoch") != "0 / 1000")
    at.sidebar.text_input(key="mnist:hidden").input("x").run()
    assert not at.exception and at.error
    assert metric(at, "Epoch") != "0 / 1000"                 # the run's numbers are still shown
    at.button(key="mnist:pause-anyway").click().run()
    poll_until(at, lambda a: not job(a).running, timeout=10)
    assert job(at).snapshot().status == "paused"


def test_mnist_changed_architecture_asks_for_reset(page):
    at = page()
    small_run(at, epochs=1)
    at.button(key="mnist:step").click().run()
    poll_until(at, lambda a: not job(a).running and metric(a, "Epoch") == "1 / 1")
    at.sidebar.number_input(key="mnist:lr").set_value(0.05).run()      # live setting: no reset
    assert job(at).config.lr == 0.05 and "press Reset" not in texts(at.info)
    at.sidebar.text_input(key="mnist:hidden").input("16").run()
    assert "press Reset to apply" in texts(at.info) and at.button(key="mnist:play").disabled
    old = job(at)
    at.button(key="mnist:reset-button").click().run()
    assert job(at) is not old and job(at).config.hidden == (16,) and metric(at, "Epoch") == "0 / 1"
    assert not at.tabs and not at.exception


def test_mnist_form_follows_the_sessions_run(page):
    """A run started elsewhere (the Draw page) is what the form shows: no 'press Reset'."""
    from playground import config as cfg
    from playground.jobs import Job
    run = Job(cfg.preset(cfg.DRAW_PRESET))
    at = page(**{"job:mnist": run})
    assert not at.exception
    assert at.sidebar.text_input(key="mnist:hidden").value == "256,128"
    assert at.sidebar.toggle(key="mnist:augment").value is True
    assert "press Reset" not in texts(at.info) and job(at) is run
    run.close()


def test_mnist_download_button(page, offline, monkeypatch):
    at = page()
    train_to_the_end(at, epochs=1)
    trained = job(at)
    at.button(key="mnist:download").click().run()           # offline: a plain error, the run stays
    assert not at.exception
    assert "The download did not work: offline (test)" in texts(at.error)
    assert job(at) is trained

    calls = []

    def fake_fetch(dest, progress=None):
        calls.append(dest)
        for name in offline.FILES:
            progress(name, 50, 100)
            progress(name, 100, 100)
    monkeypatch.setattr(offline, "fetch", fake_fetch)
    at.button(key="mnist:download").click().run()
    assert not at.exception
    assert calls == [offline.cache_dir()]
    assert "Full MNIST is ready" in texts(at.success)
    assert job(at) is not trained and job(at).snapshot().status == "idle"   # the next Play loads it
    assert metric(at, "Epoch") == "0 / 1" and not at.tabs


def test_mnist_resting_page_reuses_its_figures(page, monkeypatch):
    import json

    import plotly.io

    from playground import charts
    at = page()
    train_to_the_end(at, epochs=1)
    built = []
    for name in ("loss_curves", "accuracy_curves", "step_loss_curve", "confusion_matrix", "per_class_accuracy"):
        monkeypatch.setattr(charts, name, lambda *a, _name=name, _real=getattr(charts, name), **k:
                            built.append(_name) or _real(*a, **k))
    at.run()
    at.run()
    assert built == [] and not at.exception                 # nothing changed: nothing built
    shown = {e.proto.id.rsplit("-chart:", 1)[-1]: json.loads(e.proto.spec) for e in at.get("plotly_chart")}
    expected = json.loads(plotly.io.to_json(charts.loss_curves(job(at).snapshot().history), validate=False))
    assert shown["loss"]["data"] == expected["data"]        # and what is shown is the run's history
