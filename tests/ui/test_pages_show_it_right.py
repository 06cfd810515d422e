"""What a page shows, checked against values worked out here, outside the code under test.

- The MNIST page's confusion matrix: after a short run on the bundled sample, every cell of the
  chart on the page is compared with a count made here from the run's own test labels and
  predictions; a matrix transposed anywhere (evaluation, the chart or the page) puts the
  "true 3, read as 5" count in the "true 5, read as 3" cell and fails.
- The 2D page's share link: a learning rate typed in the sidebar comes back from the link,
  every digit of it, in a fresh session.
"""
import base64
import json
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import APP, close_jobs

TIMEOUT = 60


def typed(value) -> np.ndarray:
    """A plotly array as a chart carries it: plotly's typed-array form or a plain list."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), np.dtype(value["dtype"]).newbyteorder("<"))
        return flat.reshape([int(n) for n in value["shape"].split(",")]) if "shape" in value else flat
    return np.asarray(value, dtype=float)


def cell_at(z: np.ndarray, x_title: str, y_title: str, true: int, predicted: int):
    """The value drawn at (true class, predicted class), whichever axis the titles give the true
    class: plotly draws z[i][j] at y = i, x = j."""
    if "true" in y_title.lower() and "predict" in x_title.lower():
        return z[true][predicted]
    if "true" in x_title.lower() and "predict" in y_title.lower():
        return z[predicted][true]
    raise AssertionError(f"the axis titles ({x_title!r}, {y_title!r}) do not say which is the true class")


def mnist_script():
    from playground.ui import mnist_page
    mnist_page.render()


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


def shown_charts(at: AppTest) -> dict[str, dict]:
    """The plotly charts on the page, by name, as the browser gets them."""
    return {e.proto.id.rsplit("-chart:", 1)[-1]: json.loads(e.proto.spec) for e in at.get("plotly_chart")}


def hand_confusion(labels: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    counts = np.zeros((k, k), dtype=int)
    for true, said in zip(labels.tolist(), predicted.tolist()):
        counts[true][said] += 1
    return counts


def test_mnist_confusion_matrix_on_the_page_has_the_true_digit_where_it_says(offline):
    at = AppTest.from_function(mnist_script, default_timeout=TIMEOUT)
    try:
        at.run()
        at.sidebar.text_input(key="mnist:hidden").input("16").run()
        at.sidebar.number_input(key="mnist:epochs").set_value(1).run()
        at.button(key="mnist:play").click().run()
        job = at.session_state["job:mnist"]
        poll_until(at, lambda a: not job.snapshot().active)
        at.run()
        assert not at.exception
        view = job.snapshot().mnist
        predicted = np.asarray(view.probs).argmax(1)                   # what the network said
        hand = hand_confusion(np.asarray(view.labels), predicted, 10)
        # a one-epoch net misreads some digits, and not symmetrically: a transposed matrix would differ
        assert (hand != hand.T).any()
        assert np.asarray(view.confusion).tolist() == hand.tolist()
        spec = shown_charts(at)["cm"]
        heatmap = next(t for t in spec["data"] if t["type"] == "heatmap")
        z, text = typed(heatmap["z"]), np.asarray(heatmap["text"])
        x_title, y_title = spec["layout"]["xaxis"]["title"]["text"], spec["layout"]["yaxis"]["title"]["text"]
        rows = hand.sum(1)
        for true in range(10):
            for said in range(10):
                assert cell_at(text, x_title, y_title, true, said) == hand[true, said], (true, said)
                share = hand[true, said] / max(rows[true], 1)
                assert cell_at(z, x_title, y_title, true, said) == pytest.approx(share), (true, said)
        # the per-digit accuracy beside it: right answers over the digits of each true class
        bars = next(t for t in shown_charts(at)["pca"]["data"] if t["type"] == "bar")
        assert typed(bars["y"]) == pytest.approx(np.diag(hand) / np.maximum(rows, 1))
    finally:
        close_jobs(at)


def test_share_link_gives_back_the_learning_rate_digit_for_digit():
    at = AppTest.from_file(APP, default_timeout=30)
    try:
        at.run()
        at.sidebar.number_input(key="2d:lr").set_value(0.012345).run()
        assert not at.exception
        link = dict(at.query_params)
        assert float(link["lr"]) == 0.012345
    finally:
        close_jobs(at)
    fresh = AppTest.from_file(APP, default_timeout=30)            # someone opens the copied link
    try:
        for key, value in link.items():
            fresh.query_params[key] = value
        fresh.run()
        assert not fresh.exception
        assert fresh.sidebar.number_input(key="2d:lr").value == 0.012345
        assert fresh.session_state["job:2d"].config.lr == 0.012345
    finally:
        close_jobs(fresh)
