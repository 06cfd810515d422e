"""Every page through AppTest: controls, Play, live metrics, Pause, bad input, drawings."""
import time
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(f"playground/ui/{page}.py")
        at.run()
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def poll_until(at: AppTest, check, timeout: float = 30.0) -> None:
    """AppTest does not fire run_every timers: each at.run() is one poll."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if check(at):
            return
        time.sleep(0.2)
    raise AssertionError("the page never showed the change")


def close_jobs(at: AppTest) -> None:
    for key in ("job:2d", "job:mnist"):
        if key in at.session_state:
            at.session_state[key].close()


# ------------------------------------------------------------------ 2D playground
def test_2d_play_pause_step_reset():
    at = app()
    assert not at.exception
    at.sidebar.selectbox(key="2d:dataset").select("circle")
    at.sidebar.text_input(key="2d:hidden").input("6")
    at.sidebar.number_input(key="2d:epochs").set_value(10_000)
    at.run()
    at.button(key="2d:play").click().run()
    poll_until(at, lambda a: metric(a, "Epoch") not in ("0 / 10000",))
    at.button(key="2d:pause").click().run()
    time.sleep(0.3)
    at.run()
    paused_at = metric(at, "Epoch")
    time.sleep(0.5)
    at.run()
    assert metric(at, "Epoch") == paused_at and not at.exception
    epoch = int(paused_at.split(" / ")[0])
    at.button(key="2d:step").click().run()
    poll_until(at, lambda a: metric(a, "Epoch") == f"{epoch + 1} / 10000")
    at.button(key="2d:reset-button").click().run()
    assert metric(at, "Epoch") == "0 / 10000"
    assert not at.exception
    close_jobs(at)


def test_2d_bad_input_shows_a_message_not_a_traceback():
    at = app()
    at.sidebar.text_input(key="2d:hidden").input("abc").run()
    assert not at.exception
    messages = " ".join(e.value for e in at.error)
    assert 'hidden layers must be whole numbers from 1 to 1024, got "abc"' in messages
    at.sidebar.text_input(key="2d:hidden").input("4").run()
    at.sidebar.selectbox(key="2d:dataset").select("prod").run()
    at.sidebar.selectbox(key="2d:loss").select("cross_entropy").run()
    assert not at.exception and any("does not fit" in e.value for e in at.error)


def test_2d_live_changes_and_reset_rule():
    at = app()
    at.button(key="2d:step").click().run()
    poll_until(at, lambda a: metric(a, "Epoch").startswith("1 /"))
    at.sidebar.number_input(key="2d:lr").set_value(0.1).run()
    assert not any("press Reset" in i.value for i in at.info)
    assert at.session_state["job:2d"].config.lr == 0.1
    at.sidebar.text_input(key="2d:hidden").input("3").run()
    assert any("press Reset to apply" in i.value for i in at.info)
    assert at.button(key="2d:play").disabled
    close_jobs(at)


def test_2d_url_parameters_fill_the_form():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["dataset"] = "spiral"
    at.query_params["hidden"] = "8,8,8"
    at.run()
    assert at.sidebar.selectbox(key="2d:dataset").value == "spiral"
    assert at.sidebar.text_input(key="2d:hidden").value == "8,8,8"
    bad = AppTest.from_file(APP, default_timeout=60)
    bad.query_params["lr"] = "lots"
    bad.run()
    assert not bad.exception and any("were not used" in w.value for w in bad.warning)


def test_2d_preset_fills_the_form():
    at = app()
    at.sidebar.selectbox(key="2d:preset").select("Spiral (deep tanh + sin features)").run()
    assert at.sidebar.selectbox(key="2d:dataset").value == "spiral"
    assert at.sidebar.text_input(key="2d:hidden").value == "8,8,8"


# ------------------------------------------------------------------ MNIST
def test_mnist_page_trains_on_the_sample(offline):
    at = app("mnist_page")
    assert not at.exception
    at.sidebar.text_input(key="mnist:hidden").input("32").run()
    at.sidebar.number_input(key="mnist:epochs").set_value(2).run()
    at.button(key="mnist:play").click().run()
    poll_until(at, lambda a: metric(a, "Epoch").startswith("2 /") and not a.session_state["job:mnist"].running,
               timeout=60)
    at.run()
    assert not at.exception
    assert any("bundled sample" in i.value for i in at.info)
    assert [t.label for t in at.tabs][:2] == ["Confusion matrix", "Mistakes"]
    at.sidebar.text_input(key="mnist:hidden").input("0,5").run()
    assert not at.exception and at.error
    close_jobs(at)


# ------------------------------------------------------------------ Draw
def canvas_digit(index: int) -> tuple[np.ndarray, int]:
    data = np.load(ROOT / "datasets" / "mnist_sample.npz")
    big = np.kron(data["x_test"][index], np.ones((10, 10), np.uint8))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = big[..., None]
    rgba[..., 3] = 255
    return rgba, int(data["y_test"][index])


def test_draw_page_offers_training_then_reads_a_drawing(offline):
    at = app("draw_page")
    assert not at.exception
    assert any("no trained digit model" in i.value for i in at.info)
    from playground import config as cfg
    from playground.jobs import Job
    job = Job(cfg.from_dict(dict(cfg.MNIST_BASE, hidden=(64,), optimizer="adam", lr=0.002, epochs=2)))
    job.play()
    deadline = time.monotonic() + 60
    while job.snapshot().status != "finished" and time.monotonic() < deadline:
        time.sleep(0.1)
    at.session_state["job:mnist"] = job
    image, label = canvas_digit(0)
    at.session_state["draw:test_image"] = image
    at.run()
    assert not at.exception
    headline = " ".join(m.value for m in at.markdown)
    assert "It's a" in headline or "Not sure" in headline
    assert "read in" in " ".join(c.value for c in at.caption)
    at.session_state["draw:test_image"] = np.zeros((280, 280, 4), np.uint8)
    at.run()
    assert any("Draw a digit on the canvas" in m.value for m in at.markdown)
    job.close()


def test_about_page_renders_the_maths():
    at = app("about")
    assert not at.exception and len(at.latex) >= 3
    at.selectbox(key="about:opt").select("sgd").run()
    assert any("v_t" in l.value for l in at.latex)


def test_2d_regenerate_gives_new_points_and_a_fresh_job():
    at = app()
    at.button(key="2d:step").click().run()
    poll_until(at, lambda a: metric(a, "Epoch").startswith("1 /"))
    old_job = at.session_state["job:2d"]
    at.sidebar.button(key="2d:regenerate").click().run()
    assert at.sidebar.number_input(key="2d:seed").value == 1
    assert metric(at, "Epoch").startswith("0 /") and at.session_state["job:2d"] is not old_job
    assert not at.exception
    close_jobs(at)
