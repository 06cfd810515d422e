"""For every test: jobs train in threads of the test process (so tests may patch the engine),
unless a test builds its own `WorkerPool(processes=True)`: tests/test_workers.py does, and the
browser tests run the real server with worker processes."""
import pytest

from playground import workers


@pytest.fixture(autouse=True, scope="session")
def threaded_default_pool():
    workers._default = workers.WorkerPool(workers.default_max_jobs(), processes=False)
    yield workers._default
    workers.shutdown()
