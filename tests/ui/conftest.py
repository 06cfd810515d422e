"""Shared by the page tests: offline MNIST, and no training outliving a test."""
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def close_jobs(at: AppTest) -> None:
    """Stop every job a test's session started."""
    for key in ("job:2d", "job:mnist"):
        if key in at.session_state:
            at.session_state[key].close()


@pytest.fixture
def at():
    """The whole app, run once; its jobs are closed afterwards."""
    app = AppTest.from_file(APP, default_timeout=30)
    app.run()
    yield app
    close_jobs(app)


@pytest.fixture(autouse=True)
def no_training_left():
    """Every test closes the jobs it started: nothing trains or waits after it."""
    from playground import workers
    yield
    pool = workers.default_pool()
    deadline = time.monotonic() + 10
    while (pool.running or pool.waiting) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.running == 0 and pool.waiting == 0


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No MNIST files anywhere and no network: every load falls back to the bundled sample at once."""
    from datasets import mnist
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "no-mnist"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise mnist.MnistError("offline (test)")
    monkeypatch.setattr(mnist, "fetch", no_network)
    return mnist
