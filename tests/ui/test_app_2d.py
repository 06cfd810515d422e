"""The 2D playground through AppTest on the whole app: the form, Play/Pause/Step/Reset, the live
view, bad input, the reset rule, URL links, presets, and the charts it draws.

AppTest does not fire the `run_every` timer of the live fragment: each `at.run()` is one poll.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

from conftest import close_jobs

from datasets import toy
from playground import charts as chart_fns
from playground import config as cfg

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "2d"


# ------------------------------------------------------------------ helpers


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def epoch(at: AppTest) -> int:
    return int(metric(at, "Epoch").split(" / ")[0])


def job(at: AppTest):
    return at.session_state[f"job:{PAGE}"]


def poll_until(at: AppTest, check: Callable[[AppTest], bool], timeout: float = 20.0) -> None:
    """Re-run the page (one poll of the live view) until `check` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if check(at):
            return
        time.sleep(0.1)
    raise AssertionError("the page never showed the change")


def wait_idle(at: AppTest) -> None:
    """Until the job's thread has ended and the page has drawn its resting state."""
    poll_until(at, lambda a: not job(a).running and not job(a).snapshot().active)
    at.run()   # the last poll may have drawn the page just before the thread ended


def small(at: AppTest, epochs: int = 10_000, dataset: str = "circle", hidden: str = "4") -> AppTest:
    """A quick net on few points; a large epoch count keeps Play running until paused."""
    at.sidebar.selectbox(key="2d:dataset").select(dataset)
    at.sidebar.number_input(key="2d:n_points").set_value(200)
    at.sidebar.text_input(key="2d:hidden").input(hidden)
    at.sidebar.number_input(key="2d:lr").set_value(0.05)
    at.sidebar.number_input(key="2d:epochs").set_value(epochs)
    return at.run()


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly figures on the page by their key's last part (surface, loss, acc, network)."""
    found = {}
    for element in at.get("plotly_chart"):
        name = element.proto.id.rsplit("-chart:", 1)[-1]
        found[name] = json.loads(element.proto.spec)
    return found


def trace_names(figure: dict) -> list[str]:
    return [t.get("name") or t.get("type") for t in figure["data"]]


def legend(figure: dict) -> list[str]:
    return [t["name"] for t in figure["data"] if t.get("type") == "scatter" and t.get("showlegend") is not False]


def marker_traces(figure: dict) -> list[str]:
    """The traces that draw points as markers (the legend's items are empty)."""
    return [t["name"] for t in figure["data"] if t.get("type") == "scatter" and t.get("showlegend") is False]


def points_as_picture(figure: dict) -> bool:
    return [i.get("name") for i in figure["layout"].get("images", [])] == ["points"] and not marker_traces(figure)


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def infos(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


# ------------------------------------------------------------------ first look
def test_page_renders_the_data_before_any_training(at):
    assert not at.exception
    assert at.title[0].value == "2D playground"
    assert metric(at, "Epoch") == f"0 / {cfg.DEFAULTS['epochs']}"
    figures = charts(at)
    assert set(figures) == {"surface", "loss", "acc", "network"}
    assert marker_traces(figures["surface"]) == legend(figures["surface"]) == ["train points"]
    assert "model output" not in trace_names(figures["surface"])      # no model output yet
    assert any("ready" in m.value for m in at.markdown)
    assert job(at).snapshot().status == "idle"


def test_sidebar_is_generated_from_the_config():
    at = AppTest.from_file(APP, default_timeout=30).run()
    keys = {w.key for w in at.sidebar if getattr(w, "key", None)}
    toy_knobs = {f"2d:{n}" for n in cfg.KNOBS if cfg.Config().applies(n)}
    assert toy_knobs <= keys
    assert "2d:normalize" not in keys and "2d:conv" not in keys   # images/CNN only
    assert list(at.sidebar.selectbox(key="2d:dataset").options) == list(cfg.TOY_DATASETS)
    close_jobs(at)


def test_code_box_offers_the_standalone_script(at):
    box = next(e for e in at.expander if e.label.startswith("Code for this run"))
    assert any(b.proto.label == "Download train.py" for b in box.get("download_button"))
    assert "import torch" in at.code[0].value


# ------------------------------------------------------------------ controls
def test_play_trains_then_pause_stops_it(at):
    small(at)
    at.button(key="2d:play").click().run()
    assert at.button(key="2d:play").disabled and not at.button(key="2d:pause").disabled
    poll_until(at, lambda a: epoch(a) > 0)
    assert "surface" in charts(at) and "model output" in trace_names(charts(at)["surface"])
    assert points_as_picture(charts(at)["surface"])                  # training: the points are one image
    at.button(key="2d:pause").click().run()
    wait_idle(at)
    assert marker_traces(charts(at)["surface"]) == ["train points"]  # at rest: markers, with their hover
    paused_at = epoch(at)
    assert job(at).snapshot().status == "paused"
    time.sleep(0.5)
    at.run()
    assert epoch(at) == paused_at
    assert not at.button(key="2d:play").disabled and at.button(key="2d:pause").disabled
    assert not at.exception


def test_step_trains_exactly_one_epoch(at):
    small(at)
    at.button(key="2d:step").click().run()
    wait_idle(at)
    assert epoch(at) == 1
    at.button(key="2d:step").click().run()
    wait_idle(at)
    assert epoch(at) == 2 and len(job(at).snapshot().history) == 2
    assert not at.exception


def test_reset_brings_the_epoch_back_to_zero(at):
    small(at)
    at.button(key="2d:step").click().run()
    wait_idle(at)
    old = job(at)
    at.button(key="2d:reset-button").click().run()
    assert metric(at, "Epoch") == "0 / 10000"
    assert job(at) is not old and not old.running
    assert "model output" not in trace_names(charts(at)["surface"])
    assert not at.exception


def test_play_runs_to_the_set_epochs_and_finishes(at):
    small(at, epochs=3)
    at.button(key="2d:play").click().run()
    poll_until(at, lambda a: job(a).snapshot().status == "finished")
    at.run()
    assert metric(at, "Epoch") == "3 / 3"
    assert metric(at, "Test accuracy").endswith("%")
    assert any("finished" in m.value for m in at.markdown)
    assert len(charts(at)["acc"]["data"]) >= 1       # the accuracy curve is drawn
    assert not at.exception


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("hidden, message", [
    ("abc", 'hidden layers must be whole numbers from 1 to 1024, got "abc"'),
    ("8,x", 'hidden layers must be whole numbers from 1 to 1024, got "8,x"'),
    ("0", 'hidden layers must be whole numbers from 1 to 1024, got "0"'),
    ("2000", 'hidden layers must be whole numbers from 1 to 1024, got "2000"'),
])
def test_bad_hidden_layers_show_an_error_not_a_traceback(at, hidden, message):
    at.sidebar.text_input(key="2d:hidden").input(hidden).run()
    assert not at.exception
    assert message in errors(at)
    assert at.get("plotly_chart") == [] or not charts(at)    # nothing drawn from a bad config
    at.sidebar.text_input(key="2d:hidden").input("4").run()
    assert not at.exception and not at.error


@pytest.mark.parametrize("lr", [0.0, -1.0, 11.0])
def test_bad_learning_rate_shows_an_error(at, lr):
    at.sidebar.number_input(key="2d:lr").set_value(lr).run()
    assert not at.exception
    assert "learning rate must be above 0 to 10" in errors(at)


def test_learning_rate_that_is_not_a_number_in_a_link_is_refused():
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["lr"] = "x"
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "were not used" in warnings and 'learning rate must be a number, got "x"' in warnings
    assert at.sidebar.number_input(key="2d:lr").value == cfg.DEFAULTS["lr"]
    close_jobs(at)


def test_a_loss_that_does_not_fit_the_data_is_explained(at):
    at.sidebar.selectbox(key="2d:dataset").select("prod").run()
    at.sidebar.selectbox(key="2d:loss").select("cross_entropy").run()
    assert not at.exception
    assert 'loss "cross_entropy" does not fit the prod data' in errors(at)


# ------------------------------------------------------------------ the reset rule
def test_live_changes_apply_while_paused_and_architecture_changes_ask_for_reset(at):
    small(at)
    at.button(key="2d:step").click().run()
    wait_idle(at)
    at.sidebar.number_input(key="2d:lr").set_value(0.2).run()
    assert "press Reset" not in infos(at)
    assert job(at).config.lr == 0.2 and not at.button(key="2d:play").disabled
    at.sidebar.text_input(key="2d:hidden").input("3,3").run()
    assert "You changed hidden layers: press Reset to apply." in infos(at)
    assert at.button(key="2d:play").disabled and at.button(key="2d:step").disabled
    assert job(at).config.hidden == (4,) and epoch(at) == 1          # the trained net is kept
    at.button(key="2d:reset-button").click().run()
    assert job(at).config.hidden == (3, 3) and "press Reset" not in infos(at)
    assert not at.exception


def test_architecture_change_before_training_needs_no_reset(at):
    at.sidebar.text_input(key="2d:hidden").input("5,5").run()
    assert "press Reset" not in infos(at)
    assert job(at).config.hidden == (5, 5) and not at.button(key="2d:play").disabled


# ------------------------------------------------------------------ links, presets, data
def test_url_parameters_seed_the_form():
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["dataset"] = "spiral"
    at.query_params["hidden"] = "8,8,8"
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="2d:dataset").value == "spiral"
    assert at.sidebar.text_input(key="2d:hidden").value == "8,8,8"
    assert job(at).config.dataset == "spiral"
    close_jobs(at)


def test_share_link_follows_the_form(at):
    assert at.query_params == {}
    at.sidebar.selectbox(key="2d:dataset").select("gauss").run()
    at.sidebar.text_input(key="2d:hidden").input("3").run()
    assert at.query_params == {"dataset": "gauss", "hidden": "3"}


def test_preset_fills_the_form(at):
    at.sidebar.selectbox(key="2d:preset").select("Spiral (deep tanh + sin features)").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="2d:dataset").value == "spiral"
    assert at.sidebar.text_input(key="2d:hidden").value == "8,8,8"
    assert at.sidebar.multiselect(key="2d:features").value == ["sin_x1", "sin_x2"]
    assert job(at).config == cfg.preset("Spiral (deep tanh + sin features)")


def test_regenerate_data_draws_new_points_with_a_fresh_job(at):
    before = charts(at)["surface"]["data"][0]["x"]
    at.button(key="2d:step").click().run()
    wait_idle(at)
    old = job(at)
    at.sidebar.button(key="2d:regenerate").click().run()
    assert at.sidebar.number_input(key="2d:seed").value == 1
    assert epoch(at) == 0 and job(at) is not old and job(at).config.seed == 1
    assert charts(at)["surface"]["data"][0]["x"] != before
    assert not at.exception


def test_toggles_show_test_points(at):
    at.toggle(key="2d:show-test").set_value(True).run()
    assert legend(charts(at)["surface"]) == marker_traces(charts(at)["surface"]) == ["train points", "test points"]
    at.toggle(key="2d:discretize").set_value(True).run()
    assert not at.exception


def test_regression_shows_steps_instead_of_accuracy(at):
    small(at, epochs=2, dataset="prod")
    labels = [m.label for m in at.metric]
    assert "Steps" in labels and "Test accuracy" not in labels
    assert charts(at)["surface"]["layout"]["title"]["text"] == "Model output"
    at.button(key="2d:play").click().run()
    poll_until(at, lambda a: job(a).snapshot().status == "finished")
    at.run()
    notes = [a["text"] for a in charts(at)["acc"]["layout"].get("annotations", [])]
    assert any("regression" in n for n in notes)
    assert not at.exception


def test_form_comes_back_with_the_run_settings_after_a_page_switch(at):
    at.sidebar.text_input(key="2d:hidden").input("7").run()
    at.switch_page("playground/ui/about.py").run()
    at.switch_page("playground/ui/playground_2d.py").run()
    assert not at.exception
    assert at.sidebar.text_input(key="2d:hidden").value == "7"


# ------------------------------------------------------------------ live view: what a poll costs
BUILDERS = ("decision_surface", "loss_curves", "accuracy_curves", "network_diagram")


@pytest.fixture
def builds(monkeypatch) -> dict[str, int]:
    """How many times each chart of the page has been built (the page calls playground.charts)."""
    from playground import charts as chart_module
    counts = dict.fromkeys(BUILDERS, 0)
    for name in BUILDERS:
        def counted(*args, _real=getattr(chart_module, name), _name=name, **kwargs):
            counts[_name] += 1
            return _real(*args, **kwargs)
        monkeypatch.setattr(chart_module, name, counted)
    return counts


def none_built(counts: dict[str, int]) -> bool:
    return not any(counts.values())


def figure(at: AppTest, name: str):
    return at.session_state[f"{PAGE}-figure:{name}"][1]


def sent(at: AppTest, name: str) -> dict:
    """The chart as the page sent it, without the template (Streamlit's theme fills it)."""
    spec = charts(at)[name]
    spec["layout"].pop("template", None)
    return spec


def built_here(fig) -> dict:
    spec = json.loads(plotly.io.to_json(fig, validate=False))
    spec["layout"].pop("template", None)
    return spec


def test_an_idle_page_builds_no_chart_when_it_reruns(at, builds):
    shown = {name: figure(at, name) for name in ("surface", "loss", "acc", "network")}
    at.run()
    at.run()
    assert none_built(builds)
    assert all(figure(at, name) is fig for name, fig in shown.items())     # the same objects, sent again
    assert set(charts(at)) == {"surface", "loss", "acc", "network"}


def test_a_new_snapshot_rebuilds_the_figures_and_an_unchanged_one_reuses_them(at, builds):
    small(at)
    at.button(key="2d:step").click().run()
    wait_idle(at)
    before = figure(at, "surface")
    builds.update(dict.fromkeys(BUILDERS, 0))
    at.run()
    assert none_built(builds) and figure(at, "surface") is before   # nothing new: nothing built
    at.button(key="2d:step").click().run()
    wait_idle(at)
    assert all(builds[name] >= 1 for name in BUILDERS) and figure(at, "surface") is not before
    # what is shown is what the chart functions make of the job's latest snapshot
    snap, config = job(at).snapshot(), job(at).config
    split = toy.make_split(config.dataset, config.n_points, config.noise, config.test_ratio, config.seed)
    expected = {
        "loss": chart_fns.loss_curves(snap.history), "acc": chart_fns.accuracy_curves(snap.history),
        "surface": chart_fns.decision_surface(snap.surface, toy.DOMAIN, config.task, (split.train.x, split.train.y),
                                              None, False, toy.n_classes(config.dataset)),
        "network": chart_fns.network_diagram(snap.layer_sizes, snap.weights, toy.feature_names(config.features),
                                             list(config.activations), snap.neuron_maps),
    }
    for name, fig in expected.items():
        assert sent(at, name) == built_here(fig), name


def test_a_display_toggle_rebuilds_only_the_surface(at, builds):
    at.toggle(key="2d:show-test").set_value(True).run()
    assert builds == dict(dict.fromkeys(BUILDERS, 0), decision_surface=1)


def test_a_queued_page_polls_its_status_and_builds_no_chart(at, builds):
    from playground import workers
    from playground.jobs import Job
    pool = workers.default_pool()
    blockers = [Job(cfg.Config(dataset="circle", n_points=200, hidden=(4,), epochs=10_000)) for _ in range(pool.slots)]
    try:
        for blocker in blockers:
            blocker.play()
        deadline = time.monotonic() + 20
        while pool.running < pool.slots and time.monotonic() < deadline:
            time.sleep(0.05)
        small(at)
        at.button(key="2d:play").click().run()
        poll_until(at, lambda a: "waiting for a free slot (position 1" in " ".join(m.value for m in a.markdown))
        builds.update(dict.fromkeys(BUILDERS, 0))
        for _ in range(3):
            at.run()
            assert job(at).snapshot().status == "queued"
        assert none_built(builds)
    finally:
        for blocker in blockers:
            blocker.close()
    poll_until(at, lambda a: epoch(a) > 0)           # a slot frees: it trains and the charts follow
    assert builds["decision_surface"] >= 1 and "model output" in trace_names(charts(at)["surface"])
    at.button(key="2d:pause").click().run()
    wait_idle(at)


@pytest.mark.parametrize("status, every", [("running", 0.5), ("queued", 1.0), ("loading", 0.5),
                                           ("idle", None), ("paused", None), ("finished", None)])
def test_the_live_view_polls_fast_while_training_slowly_while_waiting_never_at_rest(status, every):
    from playground.jobs import Snapshot
    from playground.ui import common
    assert common.cadence(Snapshot(cfg.Config(), status=status), 0.5) == every


def test_a_slower_part_of_the_live_view_draws_its_last_snapshot_until_due(monkeypatch):
    from playground.jobs import Snapshot
    from playground.ui import common
    state, clock = {}, [100.0]
    monkeypatch.setattr(common.st, "session_state", state)
    monkeypatch.setattr(common.time, "monotonic", lambda: clock[0])
    empty = Snapshot(cfg.Config(), status="running", steps=0)
    first, second, third = (Snapshot(cfg.Config(), status="running", steps=n, history=({"epoch": n},))
                            for n in (1, 2, 3))
    assert common.due("p", "net", 2.0, empty) is empty
    assert common.due("p", "net", 2.0, first) is first           # the one it held showed no epoch yet
    clock[0] += 0.5
    assert common.due("p", "net", 2.0, second) is first          # not due: the same snapshot again
    clock[0] += 1.45
    assert common.due("p", "net", 2.0, third) is third           # due (within DUE_SLACK of 2 s)
    finished = Snapshot(cfg.Config(), status="finished", steps=4)
    assert common.due("p", "net", 2.0, finished) is finished     # the end is drawn at once


def test_the_status_line_says_the_place_in_the_queue_and_the_wait():
    def script():
        from playground import config as cfg
        from playground.jobs import Snapshot
        from playground.ui import common
        common.status_line(Snapshot(cfg.Config(), status="queued", queue_position=2, queue_eta=41.6))
        common.status_line(Snapshot(cfg.Config(), status="queued", queue_position=3))
        common.status_line(Snapshot(cfg.Config(), status="queued"))
    at = AppTest.from_function(script).run()
    lines = [m.value for m in at.markdown]
    assert "**waiting for a free slot (position 2, starts in about 42 s)**" in lines[0]
    assert "**waiting for a free slot (position 3)**" in lines[1]
    assert "**waiting for a free slot**" in lines[2]
