"""MNIST: the IDX reader, the downloader (against a local server), the cache, the sample."""
import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from datasets import mnist
from datasets.mnist import MnistError

# The full set: $PLAYGROUND_FULL_MNIST, else ../shared/mnist beside the checkout (as in tests/test_reader.py).
SHARED = Path(os.environ.get("PLAYGROUND_FULL_MNIST", Path(__file__).resolve().parents[3] / "shared" / "mnist"))


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def fake_files(n_train=20, n_test=10) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte.gz": np.arange(n_test) % 10}
    return {name: gzip.compress(idx_bytes(a)) for name, a in arrays.items()}


def md5s(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.md5(data).hexdigest() for name, data in files.items()}


# ------------------------------------------------------------------ reader
def test_read_idx_gz_and_raw(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "b").write_bytes(idx_bytes(np.array([3, 4])))
    assert np.array_equal(mnist.read_idx(tmp_path / "a.gz"), images)
    assert mnist.read_idx(tmp_path / "b").tolist() == [3, 4]


@pytest.mark.parametrize("content, words", [
    (b"\x00\x00\x08\x05" + bytes(20), "not an MNIST IDX file"),
    (idx_bytes(np.zeros((3, 28, 28)))[:-10], "truncated"),
    (b"\x1f\x8b garbage", "cannot be read"),
    (b"abc", "too short"),
])
def test_read_idx_rejects_bad_files_naming_them(tmp_path, content, words):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(MnistError, match=words) as info:
        mnist.read_idx(path)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


# ------------------------------------------------------------------ downloader
class Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    cut_short: set[str] = set()     # sent with a Content-Length twice what is sent
    no_length: set[str] = set()     # sent without a Content-Length
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        name = self.path.rsplit("/", 1)[-1]
        self.hits.append(self.path)
        data = self.files.get(name)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        if name not in self.no_length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2] if name in self.cut_short else data)

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.files, Handler.cut_short, Handler.no_length, Handler.hits = fake_files(), set(), set(), []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", Handler
    server.shutdown()
    server.server_close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != ".download.lock")


def dead_mirror() -> str:
    """A local port nobody listens on: every download fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_download_success_with_progress(tmp_path, mirror):
    url, handler = mirror
    seen = []
    mnist.fetch(tmp_path, progress=lambda name, done, total: seen.append((name, done, total)),
                mirrors=(url,), md5s=md5s(handler.files))
    assert leftovers(tmp_path) == sorted(handler.files)
    assert seen[-1][1] == seen[-1][2] and {s[0] for s in seen} == set(handler.files)
    split = mnist.read_dir(tmp_path)
    assert split.train.x.shape == (20, 1, 28, 28) and not split.used_sample


def test_md5_mismatch_leaves_nothing(tmp_path, mirror):
    url, handler = mirror
    wrong = {name: "0" * 32 for name in handler.files}
    with pytest.raises(MnistError, match="md5 mismatch"):
        mnist.fetch(tmp_path, mirrors=(url,), md5s=wrong)
    assert leftovers(tmp_path) == []


def test_interrupted_transfer_leaves_nothing(tmp_path, mirror):
    url, handler = mirror
    handler.cut_short = {"train-images-idx3-ubyte.gz"}
    with pytest.raises(MnistError, match="could not download train-images"):
        mnist.fetch(tmp_path, mirrors=(url,), md5s=md5s(handler.files), timeout=5)
    assert "train-images-idx3-ubyte.gz" not in leftovers(tmp_path)
    assert not [n for n in leftovers(tmp_path) if n.endswith(".part")]


def test_second_mirror_used_when_the_first_fails(tmp_path, mirror):
    url, handler = mirror
    mnist.fetch(tmp_path, mirrors=(url + "missing/", url), md5s=md5s(handler.files))
    assert len(leftovers(tmp_path)) == 4 and any("/missing/" in h for h in handler.hits)


def test_corrupt_cached_file_is_reported_and_replaced(tmp_path, mirror):
    url, handler = mirror
    mnist.fetch(tmp_path, mirrors=(url,), md5s=md5s(handler.files))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bbroken")
    warnings = []
    mnist.fetch(tmp_path, mirrors=(url,), md5s=md5s(handler.files), warn=warnings.append)
    assert len(warnings) == 1 and "t10k-labels" in warnings[0]
    assert (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes() == handler.files["t10k-labels-idx1-ubyte.gz"]


def test_two_downloads_at_once_do_not_collide(tmp_path, mirror):
    url, handler = mirror
    errors = []

    def download():
        try:
            mnist.fetch(tmp_path, mirrors=(url,), md5s=md5s(handler.files))
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=download) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(handler.hits) == 4          # the others found the files done
    assert all((tmp_path / n).read_bytes() == d for n, d in handler.files.items())


# ------------------------------------------------------------------ finding and loading
def test_find_dir_order(tmp_path, monkeypatch):
    explicit, from_env, cache = tmp_path / "a", tmp_path / "b", tmp_path / "cache"
    for folder in (explicit, from_env, cache / "neural-playground" / "mnist"):
        folder.mkdir(parents=True)
        for name, data in fake_files().items():
            (folder / name).write_bytes(data)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(from_env))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert mnist.find_dir(explicit) == explicit
    assert mnist.find_dir(None) == from_env
    monkeypatch.delenv("PLAYGROUND_DATA_DIR")
    assert mnist.find_dir(tmp_path / "empty") == cache / "neural-playground" / "mnist"


def test_offline_falls_back_to_the_sample(tmp_path, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(mnist, "MIRRORS", (dead_mirror(),))
    split = mnist.load(tmp_path / "nothing")
    assert split.used_sample and "bundled sample" in split.source and "could not" in split.source
    with pytest.raises(MnistError):
        mnist.load(tmp_path / "nothing", allow_sample=False)


def test_bundled_sample_is_small_and_balanced():
    assert mnist.SAMPLE.stat().st_size <= 2 * 1024 * 1024
    split = mnist.load_sample()
    assert split.train.x.shape == (6000, 1, 28, 28) and len(split.test) == 1000
    assert np.bincount(split.train.y).tolist() == [600] * 10
    assert np.bincount(split.test.y).tolist() == [100] * 10
    assert 0 <= split.train.x.min() and split.train.x.max() <= 1


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the full MNIST set is not in {SHARED} "
                                                "(set PLAYGROUND_FULL_MNIST to its folder)")
def test_full_set_reads_with_official_counts():
    split = mnist.read_dir(SHARED)
    assert len(split.train) == 60_000 and len(split.test) == 10_000
    assert np.bincount(split.test.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_read_idx_missing_file_says_so(tmp_path):
    with pytest.raises(MnistError, match="not found"):
        mnist.read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz")


def test_images_of_the_wrong_size_are_refused(tmp_path):
    files = fake_files()
    files["t10k-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(np.zeros((10, 20, 20))))
    with pytest.raises(MnistError, match="28x28"):
        mnist.read_dir(write_files(tmp_path, files))


def test_download_without_content_length(tmp_path, mirror):
    url, handler = mirror
    handler.no_length = set(handler.files)
    seen = []
    mnist.fetch(tmp_path, progress=lambda *args: seen.append(args), mirrors=(url,), md5s=md5s(handler.files))
    assert leftovers(tmp_path) == sorted(handler.files) and all(total is None for _, _, total in seen)


def test_load_reads_a_folder_once(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "fetch", lambda *a, **k: pytest.fail("a found folder needs no download"))
    folder = write_files(tmp_path / "mnist", fake_files())
    split = mnist.load(folder)
    assert not split.used_sample and split.source.startswith("full MNIST: 20 training + 10 test")
    assert split.train.x.dtype == np.float32 and split.train.y.dtype == np.int64 and split.n_classes == 10
    assert 0 <= split.train.x.min() and split.train.x.max() <= 1 and split.task == "multiclass"
    assert mnist.load(folder) is split                # decoded once, then shared


def test_load_repairs_a_damaged_download(tmp_path, monkeypatch, mirror):
    url, handler = mirror
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(mnist, "MIRRORS", (url,))
    monkeypatch.setattr(mnist, "FILES", md5s(handler.files))
    cache = write_files(mnist.cache_dir(), handler.files)
    (cache / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bbroken")
    split = mnist.load()
    assert not split.used_sample and len(split.train) == 20
    assert handler.hits == ["/train-labels-idx1-ubyte.gz"]


def test_load_never_rewrites_the_users_own_folder(tmp_path, monkeypatch):
    folder = write_files(tmp_path / "mine", fake_files())
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bbroken")
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist, "MIRRORS", (dead_mirror(),))
    split = mnist.load()
    assert split.used_sample and "train-labels-idx1-ubyte.gz" in split.source
    assert (folder / "train-labels-idx1-ubyte.gz").read_bytes() == b"\x1f\x8bbroken"


def test_load_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mnist.load(download=False).used_sample
    with pytest.raises(MnistError, match="downloading is off"):
        mnist.load(download=False, allow_sample=False)


def test_missing_sample_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "SAMPLE", tmp_path / "mnist_sample.npz")
    with pytest.raises(MnistError, match="bundled sample"):
        mnist.load_sample()
