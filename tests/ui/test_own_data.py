"""Your own 2D data on the 2D page (AppTest): the page asks for points, trains on uploaded ones,
adds a clicked point of the chosen class, clears them, and a changed set needs a Reset.
(AppTest cannot drive a file picker or a click: the upload's parsing is tests/test_points.py, the
real picker and clicks are tests/test_browser.py; here the page gets what they hand it.)"""
from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from datasets import points as pts
from test_app_2d import job, poll_until, wait_idle

RING = "\n".join(f"{np.cos(a) * r:.3f},{np.sin(a) * r:.3f},{int(r > 2)}"
                 for a, r in zip(np.linspace(0, 6.28, 40), np.tile([1.0, 3.0], 20)))


def charts_drawn(at: AppTest) -> list[str]:
    return [c.proto.id for c in at.get("plotly_chart")]


def choose_custom(at: AppTest) -> AppTest:
    at.sidebar.selectbox(key="2d:dataset").set_value("custom").run()
    return at


def test_custom_data_asks_for_points_then_trains_on_them(at):
    choose_custom(at)
    assert any("click at least 10 points" in i.value for i in at.info)
    assert not any(b.key == "2d:play" for b in at.button)               # nothing to train on yet
    at.session_state["2d:points"] = pts.parse_csv(RING)                  # what an upload hands the page
    at.sidebar.number_input(key="2d:epochs").set_value(5)
    at.sidebar.number_input(key="2d:batch_size").set_value(5)
    at.run()
    assert not at.exception and not any("click at least" in i.value for i in at.info)
    at.button(key="2d:play").click().run()
    wait_idle(at)
    snap = job(at).snapshot()
    assert snap.status == "finished" and snap.data_source == "your points: 40, 2 classes", snap.message
    assert snap.config.dataset == "custom" and snap.config.n_points == 40
    assert job(at).points.digest == pts.parse_csv(RING).digest


def test_a_click_on_the_plane_adds_a_point_of_the_chosen_class(at):
    choose_custom(at)
    at.session_state["2d:points-editor-0"] = {"selection": {"points": [{"x": 0.5, "y": -0.25}]}}
    at.run()
    points = at.session_state["2d:points"]
    assert len(points) == 1 and points.x.tolist() == [[0.5, -0.25]] and points.y.tolist() == [0]
    at.segmented_control(key="2d:points-class").set_value(1).run()
    at.session_state["2d:points-editor-1"] = {"selection": {"points": [{"x": -1.0, "y": 1.0}]}}
    at.run()
    points = at.session_state["2d:points"]
    assert points.y.tolist() == [0, 1] and points.x[1].tolist() == [-1.0, 1.0]
    at.run()                                               # the same selection is not added twice
    assert len(at.session_state["2d:points"]) == 2
    at.button(key="2d:points-clear").click().run()
    assert len(at.session_state["2d:points"]) == 0


def test_clicked_points_switch_the_page_to_them_and_a_new_point_needs_a_reset(at):
    # "Click your own points" on a page showing xor, ten clicks: the page trains on them.
    at.sidebar.number_input(key="2d:epochs").set_value(3)
    at.sidebar.number_input(key="2d:batch_size").set_value(2)
    at.run()
    assert not any(k.endswith("points-editor-0") for k in charts_drawn(at))    # no plane until asked
    at.button(key="2d:points-start").click().run()
    assert at.sidebar.selectbox(key="2d:dataset").value == "custom"
    for i in range(10):
        at.session_state[f"2d:points-editor-{i}"] = {"selection": {"points": [{"x": 0.1 * i - 0.5, "y": 0.2}]}}
        if i == 5:
            at.segmented_control(key="2d:points-class").set_value(1)
        at.run()
    assert at.sidebar.selectbox(key="2d:dataset").value == "custom"
    at.session_state["2d:points-editor-10"] = {"selection": {"points": [{"x": 0.9, "y": 0.9}]}}
    at.run()                                     # the 11th click's run: the job must take it before Play
    at.button(key="2d:play").click().run()
    wait_idle(at)
    assert job(at).snapshot().status == "finished" and job(at).snapshot().config.n_points == 11
    assert len(job(at).points) == 11
    at.session_state["2d:points-editor-11"] = {"selection": {"points": [{"x": -0.9, "y": 0.9}]}}
    at.run()
    poll_until(at, lambda a: any("your points: press Reset" in i.value for i in a.info))
    at.button(key="2d:reset-button").click().run()
    assert len(job(at).points) == 12 and job(at).snapshot().status == "idle"
