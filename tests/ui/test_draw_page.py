"""The Draw page alone through AppTest: drawings are injected via session_state["draw:test_image"]."""
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def draw_script():
    from playground.ui import draw_page
    draw_page.render()


@pytest.fixture
def jobs():
    made = []
    yield made
    for job in made:            # no training thread outlives its test
        job.close()


@pytest.fixture
def page(offline, jobs):
    apps = []

    def make(**state) -> AppTest:
        at = AppTest.from_function(draw_script, default_timeout=TIMEOUT)
        for key, value in state.items():
            at.session_state[key] = value
        apps.append(at)
        return at.run()
    yield make
    for at in apps:
        if "job:mnist" in at.session_state:
            at.session_state["job:mnist"].close()


@pytest.fixture(scope="module")
def trained_config():
    from playground import config as cfg
    return cfg.from_dict(dict(cfg.MNIST_BASE, hidden=(64,), optimizer="adam", lr=0.002, epochs=1))


def trained_job(config, jobs):
    """One epoch on the bundled sample (a couple of seconds on a CPU)."""
    from playground.jobs import Job
    job = Job(config)
    jobs.append(job)
    job.play()
    deadline = time.monotonic() + TIMEOUT
    while job.snapshot().status != "finished":
        assert time.monotonic() < deadline and job.snapshot().status not in ("failed", "diverged"), \
            job.snapshot().message
        time.sleep(0.05)
    return job


def canvas_digit(index: int, dark: bool = True) -> tuple[np.ndarray, int]:
    """A sample test digit scaled up to what the canvas sends: 280x280 RGBA."""
    with np.load(ROOT / "datasets" / "mnist_sample.npz") as data:
        digit, label = data["x_test"][index], int(data["y_test"][index])
    big = np.kron(digit, np.ones((10, 10), np.uint8))
    if not dark:
        big = 255 - big
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = big[..., None]
    rgba[..., 3] = 255
    return rgba, label


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def headline(at: AppTest) -> str:
    return texts(at.markdown)


def read_digit(at: AppTest) -> tuple[int, int]:
    """(digit, confidence %) from the big headline."""
    import re
    text = headline(at)
    sure = re.search(r"It's a \*\*(\d)\*\*\n(\d+)% sure", text)
    unsure = re.search(r"Maybe a \*\*(\d)\*\*, but only (\d+)% sure", text)
    found = sure or unsure
    assert found, text
    return int(found.group(1)), int(found.group(2))


def reader_digit(image: np.ndarray) -> int:
    from playground import checkpoints, digits
    from playground.reader import WEIGHTS
    return int(checkpoints.load(WEIGHTS).proba(digits.to_mnist(image))[0].argmax())


# ------------------------------------------------------------------ tests
def test_draw_page_opens_ready_with_the_bundled_reader(page):
    """No MNIST run in the session: the bundled reader reads the first drawing at once."""
    image, label = canvas_digit(0)
    at = page(**{"draw:test_image": image})
    assert not at.exception
    digit, confidence = read_digit(at)
    assert digit == label == reader_digit(image) and confidence >= 60
    assert "bundled digit reader" in texts(at.caption) and "CNN (" in texts(at.caption)
    assert "read in" in texts(at.caption)
    assert "job:mnist" not in at.session_state                 # nothing was trained
    assert len(at.get("plotly_chart")) == 2                    # the 28x28 the net sees, the ten bars
    assert not at.radio and "Side by side" not in texts(at.subheader)
    assert at.button(key="draw:train").label.startswith("Train a good model for me")


def test_draw_page_shows_both_readings_once_the_mnist_page_has_a_model(page, jobs, trained_config):
    job = trained_job(trained_config, jobs)
    image, label = canvas_digit(0)
    at = page(**{"job:mnist": job, "draw:test_image": image})
    assert not at.exception
    assert read_digit(at)[0] == reader_digit(image)             # the reader stays the headline
    assert "Side by side" in texts(at.subheader)
    compare = [e.value for e in at.markdown if e.value.startswith("**")]
    assert compare[0].startswith("**Digit reader (bundled CNN)**") and compare[1].startswith("**Your MNIST network**")
    expected = int(job.snapshot().predictor.proba(__import__("playground.digits").digits.to_mnist(image))[0].argmax())
    assert f"**{expected}**" in compare[1] or "not sure" in compare[1]
    assert len(at.get("plotly_chart")) == 4                     # seen, bars, and one bar chart per model
    assert "draw:train" not in [b.key for b in at.button]
    at.radio(key="draw:model").set_value("mnist").run()         # the picker: read with your own network
    assert not at.exception
    assert read_digit(at)[0] == expected
    model = texts(at.caption)
    assert "784-64-10 MLP" in model and "1 epoch done" in model and "test accuracy" in model
    at.session_state["draw:test_image"] = canvas_digit(0, dark=False)[0]   # black ink on white paper
    at.run()
    assert not at.exception and read_digit(at)[0] == expected


def test_draw_page_reads_most_sample_digits_right(page):
    """The drawing path (to_mnist + the bundled reader) agrees with the labels."""
    at = page()
    right = 0
    for index in range(20):
        image, label = canvas_digit(index * 50)
        at.session_state["draw:test_image"] = image
        at.run()
        assert not at.exception
        right += read_digit(at)[0] == label
    assert right >= 19, right


def test_draw_page_empty_drawing_shows_the_prompt(page):
    at = page(**{"draw:test_image": np.zeros((280, 280, 4), np.uint8)})
    assert not at.exception
    assert "Draw a digit on the canvas" in headline(at)
    assert "It's a" not in headline(at) and "Not sure" not in headline(at)
    assert "read in" not in texts(at.caption)
    at.session_state["draw:test_image"] = np.full((280, 280, 4), 255, np.uint8)    # blank white paper
    at.run()
    assert not at.exception and "Draw a digit on the canvas" in headline(at)


def test_draw_page_says_when_it_is_not_sure(page, trained_config):
    """A model that has learnt nothing (all weights zero) gives 10% to every digit."""
    from playground.checkpoints import Predictor
    from playground.models import build_model
    model = build_model(trained_config, 784, 10)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    blank = Predictor.from_model(trained_config, model, 784, 10)
    at = page(**{"draw:uploaded": blank, "draw:test_image": canvas_digit(1)[0]})
    assert not at.exception
    assert "Not sure: is this a digit?" in headline(at) and "It's a" not in headline(at)
    assert read_digit(at)[1] == 10
    assert "uploaded file" in texts(at.caption)


def test_draw_page_bad_image_is_a_message(page):
    at = page(**{"draw:test_image": np.zeros((3, 3, 3, 3), np.uint8)})
    assert not at.exception
    assert "could not be read" in texts(at.error)


def test_draw_page_trains_a_model_for_you(page):
    from playground import config as cfg
    image = canvas_digit(0)[0]
    at = page(**{"draw:test_image": image})
    at.button(key="draw:train").click().run()
    assert not at.exception
    job = at.session_state["job:mnist"]
    assert job.config == cfg.preset(cfg.DRAW_PRESET)
    assert at.session_state["mnist:hidden"] == "256,128"      # the MNIST page's form shows this run
    deadline = time.monotonic() + 120
    while job.snapshot().active:
        assert time.monotonic() < deadline
        assert "Training your own network" in texts(at.info) and not at.exception
        assert read_digit(at)[0] == reader_digit(image)        # the reader reads meanwhile
        time.sleep(0.5)
        at.run()                                               # one poll of the progress fragment
    at.run()
    assert not at.exception and job.snapshot().status == "finished", job.snapshot().message
    assert "Side by side" in texts(at.subheader)
    at.radio(key="draw:model").set_value("mnist").run()
    assert 0 <= read_digit(at)[0] <= 9
    assert "784-256-128-10 MLP" in texts(at.caption) and "6 epochs done" in texts(at.caption)


def test_draw_page_canvas_and_clear(page):
    """Without an injected drawing the canvas (or, if it cannot load here, a warning) is shown."""
    at = page()
    assert not at.exception
    assert "Draw a digit on the canvas" in headline(at)
    if at.warning:                                             # the component could not load under AppTest
        assert "canvas could not be shown" in texts(at.warning)
        return
    at.button(key="draw:clear").click().run()
    assert not at.exception and at.session_state["draw:canvas-version"] == 1
    at.toggle(key="draw:dark").set_value(False).run()
    assert not at.exception and "Draw a digit on the canvas" in headline(at)


def test_draw_page_uses_a_run_still_training_on_the_mnist_page(page, jobs, trained_config):
    """A run started on the MNIST page is used from its first epoch; the page says it is still training."""
    from playground.jobs import Job
    job = Job(trained_config.replace(epochs=10_000))
    jobs.append(job)
    job.play()
    deadline = time.monotonic() + TIMEOUT
    while job.snapshot().predictor is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at = page(**{"job:mnist": job, "draw:test_image": canvas_digit(3)[0]})
    assert not at.exception
    assert 0 <= read_digit(at)[0] <= 9
    assert "still training" in texts(at.caption)
    job.pause()
    while job.running:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.run()
    assert not at.exception and "still training" not in texts(at.caption) and read_digit(at)


@pytest.mark.parametrize("digit", [0, 1, 7])
def test_drawn_strokes_of_0_1_and_7_are_read_as_drawn(page, digit):
    """Pen strokes as the canvas draws them (playground.mouse_digits' plainest style of each digit,
    white round pen on a black 280x280 canvas), read by a fixed model, the bundled reader: the
    answer must be the digit drawn, said with confidence (not "Maybe")."""
    from playground.drawn_sets import draw_paths
    from playground.mouse_digits import STYLES
    strokes = [np.asarray(path) * 280 for path in STYLES[digit][0]]
    ink = draw_paths(strokes)
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = ink[..., None], 255
    at = page(**{"draw:test_image": rgba})
    assert not at.exception
    assert "It's a" in headline(at), headline(at)
    assert read_digit(at)[0] == digit
