"""Save and load on the 2D and MNIST pages: the model a page offers for download, loaded again,
gives the same predictions; a file of the other kind is refused with a message."""
import numpy as np
from streamlit.testing.v1 import AppTest

from conftest import APP, close_jobs
from playground import checkpoints
from playground import config as cfg
from test_mnist_page import job as mnist_job, page, poll_until as until, train_to_the_end  # noqa: F401 (page: a fixture)


def test_2d_download_then_load_gives_the_same_predictions():
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.sidebar.selectbox(key="2d:dataset").select("circle")
    at.sidebar.number_input(key="2d:n_points").set_value(200)
    at.sidebar.text_input(key="2d:hidden").input("4,3")
    at.sidebar.number_input(key="2d:epochs").set_value(3)
    at.run()
    at.button(key="2d:play").click().run()
    until(at, lambda a: a.session_state["job:2d"].snapshot().status == "finished")
    offered = at.session_state["job:2d"].snapshot().predictor.to_bytes()      # the download button's file
    assert any(b.proto.label == "Download this model (.pt)" for b in at.get("download_button"))
    close_jobs(at)

    fresh = AppTest.from_file(APP, default_timeout=30)
    fresh.session_state["2d:model-loaded"] = ("circle.pt", checkpoints.load(offered))   # as the uploader leaves it
    fresh.run()
    try:
        until(fresh, lambda a: a.session_state["job:2d"].snapshot().predictor is not None)
        job = fresh.session_state["job:2d"]
        assert job.config.hidden == (4, 3) and job.config.dataset == "circle"
        assert fresh.sidebar.text_input(key="2d:hidden").value == "4,3"            # the form took its settings
        points = np.random.default_rng(1).uniform(-1, 1, (100, 2)).astype(np.float32)
        assert np.array_equal(job.snapshot().predictor.proba(points), checkpoints.load(offered).proba(points))
        assert any("Loaded circle.pt" in s.value for s in fresh.success)
    finally:
        close_jobs(fresh)


def test_a_model_of_the_other_page_is_refused_with_a_message():
    import pytest
    from playground.models import build_model
    digits = cfg.preset("784-100-10, SGD (tutorial)")
    loaded = checkpoints.load(checkpoints.to_bytes(digits, build_model(digits, 784, 10), 784, 10))
    with pytest.raises(checkpoints.CheckpointError, match="trained on mnist; this page trains on xor"):
        checkpoints.require_dataset(loaded, cfg.TOY_DATASETS)
    checkpoints.require_dataset(loaded, ("mnist",))


def test_mnist_download_then_load_gives_the_same_predictions(page):
    at = page()
    train_to_the_end(at, epochs=1)
    offered = mnist_job(at).snapshot().predictor.to_bytes()
    close_jobs(at)
    fresh = page(**{"mnist:model-loaded": ("digits.pt", checkpoints.load(offered))})
    until(fresh, lambda a: a.session_state["job:mnist"].snapshot().mnist is not None, timeout=60)
    snap = fresh.session_state["job:mnist"].snapshot()
    images = np.random.default_rng(2).random((5, 28, 28)).astype(np.float32)
    assert np.array_equal(snap.predictor.proba(images), checkpoints.load(offered).proba(images))
    assert snap.epoch == 0 and snap.mnist.confusion.sum() > 0            # evaluated on the test digits
    assert any("Loaded digits.pt" in s.value for s in fresh.success)
