"""Fashion-MNIST and CIFAR-10: reading, downloading (from a local server), finding, and the plain error."""
import gzip
import http.server
import io
import os
import tarfile
import threading

import numpy as np
import pytest
from test_mnist import Handler, dead_mirror, fake_files, leftovers, md5s, write_files

from datasets import cifar10, fashion_mnist
from datasets.cifar10 import Cifar10Error
from datasets.fashion_mnist import FashionMnistError

FASHION_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# ------------------------------------------------------------------ fixture files
def pixel(i: int, channel: int, row: int, col: int) -> int:
    """The byte the fake CIFAR-10 archive holds for image i, so a test can recompute it."""
    return (i * 7 + channel * 85 + row * 3 + col) % 256


def cifar_record(i: int) -> bytes:
    """One record in the official order: the label, then all red rows, all green rows, all blue rows."""
    planes = [pixel(i, ch, r, c) for ch in range(3) for r in range(32) for c in range(32)]
    return bytes([i % 10] + planes)


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def cifar_members(n_per_batch=4, n_test=10) -> dict[str, bytes]:
    """Five training batches of 4 images (images 0..19) and a test batch of 10 (images 100..109)."""
    members = {"cifar-10-batches-bin/batches.meta.txt": b"airplane\n"}
    for b in range(5):
        ids = range(b * n_per_batch, (b + 1) * n_per_batch)
        members[f"cifar-10-batches-bin/data_batch_{b + 1}.bin"] = b"".join(cifar_record(i) for i in ids)
    members["cifar-10-batches-bin/test_batch.bin"] = b"".join(cifar_record(100 + i) for i in range(n_test))
    return members


def cifar_files(**members: bytes) -> dict[str, bytes]:
    return {cifar10.ARCHIVE: tar_gz({**cifar_members(), **members})}


class Served(Handler):
    """test_mnist's handler, with its own files and hits."""
    files, cut_short, no_length, hits = {}, set(), set(), []


@pytest.fixture
def serve():
    """serve(files) -> the base URL of a local server sending them; its requests land in Served.hits."""
    servers = []

    def start(files: dict[str, bytes]) -> str:
        Served.files, Served.cut_short, Served.no_length, Served.hits = files, set(), set(), []
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Served)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["fashion", "cifar"])
def kind(request, tmp_path, monkeypatch):
    """Each test below runs for both sets: (module, error class, fixture files); away from any real data."""
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if request.param == "fashion":
        module, error, files = fashion_mnist, FashionMnistError, fake_files()
    else:
        module, error, files = cifar10, Cifar10Error, cifar_files()
    monkeypatch.setattr(module, "MIRRORS", (dead_mirror(),))
    monkeypatch.setattr(module, "FILES", md5s(files))
    return module, error, files


# ------------------------------------------------------------------ both sets
def test_download_then_load(kind, serve, tmp_path, monkeypatch):
    module, _, files = kind
    url = serve(files)
    monkeypatch.setattr(module, "MIRRORS", (url,))
    seen = []
    split = module.load(progress=lambda *args: seen.append(args))
    assert leftovers(module.cache_dir()) == sorted(files)
    assert {s[0] for s in seen} == set(files) and seen[-1][1] == seen[-1][2]
    assert split.train.x.dtype == np.float32 and split.train.y.dtype == np.int64
    assert split.task == "multiclass" and split.n_classes == 10 and not split.used_sample
    assert 0 <= split.train.x.min() and split.train.x.max() <= 1
    assert module.load() is split and len(Served.hits) == len(files)     # decoded once, downloaded once


def test_wrong_md5_is_refused_and_nothing_kept(kind, serve, monkeypatch):
    module, error, files = kind
    monkeypatch.setattr(module, "MIRRORS", (serve(files),))
    monkeypatch.setattr(module, "FILES", {name: "0" * 32 for name in files})
    with pytest.raises(error, match="md5 mismatch"):
        module.load()
    assert leftovers(module.cache_dir()) == []


def test_no_data_and_no_download_says_how_to_get_it(kind, tmp_path):
    module, error, _ = kind
    with pytest.raises(error) as info:
        module.load(tmp_path / "mine")
    message = str(info.value)
    assert "is not on this machine" in message and "the download failed" in message
    assert str(tmp_path / "mine") in message and str(tmp_path / "no-data" / module.SUBFOLDER) in message
    assert "PLAYGROUND_DATA_DIR" in message and "Connection refused" in message
    assert leftovers(tmp_path / "mine") == []
    with pytest.raises(error, match="downloading is off"):
        module.load(download=False)


def test_a_folder_with_the_files_needs_no_server(kind, tmp_path, monkeypatch):
    module, _, files = kind
    monkeypatch.setattr(module, "fetch", lambda *a, **k: pytest.fail("a found folder needs no download"))
    folder = write_files(tmp_path / "mine", files)
    assert module.find_dir(folder) == folder
    assert len(module.load(folder, download=False).train) == 20


def test_playground_data_dir_is_honoured(kind, tmp_path, monkeypatch):
    module, _, files = kind
    shared = tmp_path / "shared"
    write_files(shared / module.SUBFOLDER, files)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(shared))
    split = module.load()
    assert len(split.train) == 20 and len(split.test) == 10
    assert module.find_dir() == shared / module.SUBFOLDER


def test_cache_folders_are_apart_from_mnist(kind):
    from datasets import mnist
    module, _, _ = kind
    assert module.cache_dir().parent == mnist.cache_dir().parent
    assert module.cache_dir().name == module.SUBFOLDER != mnist.cache_dir().name


def test_a_damaged_file_in_the_users_folder_is_reported_not_rewritten(kind, tmp_path, monkeypatch):
    module, error, files = kind
    name = next(iter(files))
    folder = write_files(tmp_path / "shared" / module.SUBFOLDER, files)
    (folder / name).write_bytes(files[name][:len(files[name]) // 2])
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "shared"))
    with pytest.raises(error, match=f"{name}.*(truncated|damaged|cut short)"):
        module.load()
    assert (folder / name).read_bytes() == files[name][:len(files[name]) // 2]


# ------------------------------------------------------------------ Fashion-MNIST
def test_fashion_values_and_names(tmp_path):
    files = fake_files()
    split = fashion_mnist.read_dir(write_files(tmp_path, files))
    raw = gzip.decompress(files["train-images-idx3-ubyte.gz"])
    offset = 16 + 3 * 784 + 5 * 28 + 7                         # image 3, row 5, column 7, after the header
    assert split.train.x.shape == (20, 1, 28, 28) and split.test.x.shape == (10, 1, 28, 28)
    assert split.train.x[3, 0, 5, 7] == np.float32(raw[offset] / 255)
    assert split.train.y[13] == 3 and split.test.y.tolist() == list(range(10))
    assert split.train.name == "fashion_mnist" and split.source.startswith("full Fashion-MNIST: 20 training")
    assert len(fashion_mnist.CLASSES) == 10 and fashion_mnist.CLASSES[9] == "Ankle boot"


def test_fashion_truncated_gzip_is_refused(tmp_path):
    files = fake_files()
    files["t10k-images-idx3-ubyte.gz"] = files["t10k-images-idx3-ubyte.gz"][:-40]
    with pytest.raises(FashionMnistError, match="t10k-images-idx3-ubyte.gz: cannot be read"):
        fashion_mnist.read_dir(write_files(tmp_path, files))


def test_fashion_wrong_magic_number_is_refused(tmp_path):
    files = fake_files()
    files["train-labels-idx1-ubyte.gz"] = gzip.compress(b"\x00\x00\x08\x05" + bytes(20))
    with pytest.raises(FashionMnistError, match="train-labels-idx1-ubyte.gz: .*magic number 2053"):
        fashion_mnist.read_dir(write_files(tmp_path, files))


def test_fashion_does_not_share_mnists_cache_entry(tmp_path):
    from datasets import mnist
    folder = write_files(tmp_path, fake_files())
    assert mnist.read_dir(folder).train.name == "mnist"
    assert fashion_mnist.read_dir(folder).train.name == "fashion_mnist"


def test_fashion_md5_table_and_mirror_are_the_official_ones():
    assert tuple(fashion_mnist.FILES) == FASHION_NAMES
    assert fashion_mnist.FILES["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    if "PLAYGROUND_FASHION_MNIST_MIRRORS" not in os.environ:
        assert fashion_mnist.MIRRORS == ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)


# ------------------------------------------------------------------ CIFAR-10
def test_cifar_planes_land_in_their_channels(tmp_path):
    folder = write_files(tmp_path, cifar_files())
    split = cifar10.read_dir(folder)
    assert split.train.x.shape == (20, 3, 32, 32) and split.test.x.shape == (10, 3, 32, 32)
    for i, ch, row, col in ((0, 0, 0, 0), (6, 1, 2, 31), (19, 2, 31, 5)):
        assert split.train.x[i, ch, row, col] == np.float32(pixel(i, ch, row, col) / 255)
    assert split.test.x[4, 2, 10, 20] == np.float32(pixel(104, 2, 10, 20) / 255)
    assert split.train.y.tolist() == [i % 10 for i in range(20)] and split.train.name == "cifar10"
    assert len(cifar10.CLASSES) == 10 and cifar10.CLASSES[0] == "airplane"


def test_cifar_truncated_archive_is_refused(tmp_path):
    archive = cifar_files()[cifar10.ARCHIVE]
    (tmp_path / cifar10.ARCHIVE).write_bytes(archive[:len(archive) * 2 // 3])
    with pytest.raises(Cifar10Error, match="damaged or cut short"):
        cifar10.read_dir(tmp_path)


def test_cifar_batch_of_the_wrong_size_is_refused(tmp_path):
    files = cifar_files(**{"cifar-10-batches-bin/data_batch_3.bin": cifar_record(0) * 2 + b"\x00" * 10})
    with pytest.raises(Cifar10Error, match="data_batch_3.bin: 6,156 bytes is not a whole number of 3073"):
        cifar10.read_dir(write_files(tmp_path, files))


def test_cifar_label_out_of_range_is_refused(tmp_path):
    files = cifar_files(**{"cifar-10-batches-bin/test_batch.bin": b"\x0c" + bytes(3072)})
    with pytest.raises(Cifar10Error, match="labels must be classes 0-9, found 12"):
        cifar10.read_dir(write_files(tmp_path, files))


def test_cifar_missing_batch_or_link_is_refused(tmp_path):
    members = cifar_members()
    del members["cifar-10-batches-bin/data_batch_5.bin"]
    (tmp_path / cifar10.ARCHIVE).write_bytes(tar_gz(members))
    with pytest.raises(Cifar10Error, match="lacks cifar-10-batches-bin/data_batch_5.bin"):
        cifar10.read_archive(tmp_path / cifar10.ARCHIVE)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo(cifar10.TEST_BATCH)
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    (tmp_path / cifar10.ARCHIVE).write_bytes(buffer.getvalue())
    with pytest.raises(Cifar10Error) as caught:
        cifar10.read_archive(tmp_path / cifar10.ARCHIVE)
    assert str(caught.value) == "cifar-10-binary.tar.gz: cifar-10-batches-bin/test_batch.bin is not a plain file"


def test_cifar_damaged_download_is_replaced(tmp_path, serve):
    files = cifar_files()
    (tmp_path / cifar10.ARCHIVE).write_bytes(b"\x1f\x8b broken")
    warnings = []
    cifar10.fetch(tmp_path, mirrors=(serve(files),), md5s=md5s(files), warn=warnings.append)
    assert len(warnings) == 1 and cifar10.ARCHIVE in warnings[0]
    assert (tmp_path / cifar10.ARCHIVE).read_bytes() == files[cifar10.ARCHIVE]


def test_cifar_official_names():
    assert cifar10.FILES == {"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"}
    if "PLAYGROUND_CIFAR10_MIRRORS" not in os.environ:
        assert cifar10.MIRRORS == ("https://www.cs.toronto.edu/~kriz/",)
