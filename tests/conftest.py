"""For every test, offline by construction and away from the user's files:
- the network is blocked except loopback (pytest-socket, pytest.ini's --allow-hosts): a test
  that tries to leave the machine fails loudly;
- HOME and the cache folder are a fresh temporary folder, and MNIST mirrors point at a closed
  local port, for this process and every server or CLI it starts;
- jobs train in threads of the test process (same protocol, so tests may patch the engine),
  unless a test builds its own `WorkerPool(processes=True)`: tests/test_workers.py and
  tests/test_reliability.py do, and the browser tests run the real server with processes.
"""
import contextlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

OFFLINE_MIRROR = "http://127.0.0.1:9/"   # the discard port: nothing listens, refused at once


def pytest_configure(config):
    if "MUTANT_UNDER_TEST" in os.environ:
        # mutmut runs each mutant's tests in an os.fork() of a process whose multiprocessing
        # fd-sharing thread did not survive the fork: reset it, or image jobs (which share tensors
        # through it) fail in the child whatever the mutant, and count as kills.
        from multiprocessing import resource_sharer
        resource_sharer._resource_sharer._afterfork()
    home = Path(tempfile.mkdtemp(prefix="playground-tests-home-"))
    config._playground_home = home
    os.environ.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
                       "PLAYGROUND_DATA_DIR": str(home / "no-mnist"),
                       "PLAYGROUND_MNIST_MIRRORS": OFFLINE_MIRROR, "PLAYGROUND_FASHION_MNIST_MIRRORS": OFFLINE_MIRROR,
                       "PLAYGROUND_CIFAR10_MIRRORS": OFFLINE_MIRROR})


def pytest_unconfigure(config):
    home = getattr(config, "_playground_home", None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def threaded_default_pool():
    from playground import workers
    workers._default = workers.WorkerPool(workers.default_max_jobs(), processes=False)
    yield workers._default
    workers.shutdown()


@pytest.fixture
def most_running():
    """`with most_running(pool) as most:` ... `most[0]` is the largest `pool.running` seen while
    the block ran (checked every 2 ms): the job limit, watched."""
    @contextlib.contextmanager
    def watch(pool):
        most, done = [0], threading.Event()

        def loop():
            while not done.is_set():
                most[0] = max(most[0], pool.running)
                time.sleep(0.002)
        watcher = threading.Thread(target=loop)
        watcher.start()
        try:
            yield most
        finally:
            done.set()
            watcher.join()
    return watch


def pytest_collection_modifyitems(config, items):
    """Under mutmut (make mutation sets MUTANT_UNDER_TEST) every mutant reruns the tests that
    call the mutated function: tests marked slow are left out there, or one surviving mutant
    would cost minutes. They still run in `make test`."""
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
