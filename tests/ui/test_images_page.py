"""The Images page through AppTest on each image set, offline: MNIST from the bundled sample,
Fashion-MNIST and CIFAR-10 from tiny fixture files written where the loaders look
($PLAYGROUND_DATA_DIR/<set>); a set that is missing says so plainly. Also the Draw page with a
non-digit run, and races of an MLP against a CNN."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from conftest import APP, close_jobs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "datasets"))
from test_image_sets import cifar_files  # noqa: E402 - the fixture writers of the loaders' own tests
from test_mnist import fake_files, write_files  # noqa: E402

from datasets import cifar10, fashion_mnist  # noqa: E402
from playground import config as cfg  # noqa: E402
from playground import race  # noqa: E402

TIMEOUT = 60
SMALL_CNN = "4-3-1-max,8-3-1-max"


def images_script():
    from playground.ui import mnist_page
    mnist_page.render()


def draw_script():
    from playground.ui import draw_page
    draw_page.render()


@pytest.fixture
def data_dir(offline):
    """The folder the loaders search first ($PLAYGROUND_DATA_DIR, set by `offline`): empty."""
    import os
    return Path(os.environ["PLAYGROUND_DATA_DIR"])


@pytest.fixture
def fashion(data_dir):
    write_files(data_dir / fashion_mnist.SUBFOLDER, fake_files())      # 20 training, 10 test images
    return data_dir


@pytest.fixture
def cifar(data_dir):
    write_files(data_dir / cifar10.SUBFOLDER, cifar_files())           # 20 training, 10 test images
    return data_dir


@pytest.fixture
def page(offline):
    apps = []

    def make(script=images_script, **state) -> AppTest:
        at = AppTest.from_function(script, default_timeout=TIMEOUT)
        for key, value in state.items():
            at.session_state[key] = value
        apps.append(at)
        return at.run()
    yield make
    for at in apps:       # no training thread outlives its test
        close_jobs(at)


# ------------------------------------------------------------------ helpers
def job(at: AppTest):
    return at.session_state["job:mnist"]


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def charts_shown(at: AppTest) -> dict[str, dict]:
    """The page's plotly charts by name, as sent."""
    return {e.proto.id.rsplit("-chart:", 1)[-1]: json.loads(e.proto.spec) for e in at.get("plotly_chart")}


def numbers(spec: dict) -> np.ndarray:
    values = np.frombuffer(__import__("base64").b64decode(spec["bdata"]), np.dtype(spec["dtype"]).newbyteorder("<"))
    return values.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else values


def choose(at: AppTest, dataset: str, hidden: str = "16", model: str = "mlp", conv: str = SMALL_CNN) -> None:
    """A small net for one epoch on `dataset`, picked in the sidebar."""
    at.sidebar.selectbox(key="mnist:dataset").select(dataset).run()
    at.sidebar.selectbox(key="mnist:model").select(model).run()
    if model == "cnn":
        at.sidebar.text_input(key="mnist:conv").input(conv).run()
    at.sidebar.text_input(key="mnist:hidden").input(hidden).run()
    at.sidebar.number_input(key="mnist:epochs").set_value(1).run()
    assert not at.exception and not at.sidebar.error
    assert job(at).config.dataset == dataset and job(at).config.model == model


def train(at: AppTest) -> None:
    """Play, then poll (AppTest fires no timers) until the run stops; it must finish."""
    at.button(key="mnist:play").click().run()
    deadline = time.monotonic() + TIMEOUT
    while job(at).snapshot().active:
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.1)
        at.run()
        assert not at.exception, at.exception
    at.run()
    snap = job(at).snapshot()
    assert snap.status == "finished", snap.message
    assert not at.exception and snap.mnist is not None


def open_tab(at: AppTest, label: str) -> None:
    at.session_state["mnist:tab"] = label
    at.run()
    assert not at.exception


# ------------------------------------------------------------------ the page
def test_the_dataset_picker_offers_the_image_sets_with_readable_names(page):
    at = page()
    picker = at.sidebar.selectbox(key="mnist:dataset")
    assert picker.options == ["MNIST (handwritten digits)", "Fashion-MNIST (clothes)", "CIFAR-10 (colour photos)"]
    assert at.title[0].value == "MNIST handwritten digits"
    presets = at.sidebar.selectbox(key="mnist:preset").options
    assert set(cfg.IMAGE_PRESETS) <= set(presets)
    at.sidebar.selectbox(key="mnist:preset").select("CIFAR-10 CNN (tutorial: 64-128-128-64 conv, 64-32-10)").run()
    assert not at.exception and at.title[0].value == "CIFAR-10 colour photos"
    assert at.sidebar.selectbox(key="mnist:dataset").value == "cifar10"
    assert at.sidebar.text_input(key="mnist:conv").value == "64-3-0-none,128-3-0-none,128-3-0-none,64-3-0-gap"
    assert job(at).config == cfg.preset("CIFAR-10 CNN (tutorial: 64-128-128-64 conv, 64-32-10)")
    assert "downloaded once (≈160 MB)" in texts(at.caption)


def test_mnist_on_the_bundled_sample_names_the_digits(page):
    at = page()
    choose(at, "mnist", hidden="8")
    train(at)
    snap = job(at).snapshot()
    view = snap.mnist
    assert snap.used_sample and at.title[0].value == "MNIST handwritten digits"
    assert [t.label for t in at.tabs] == ["Confusion matrix", "Mistakes", "Look at one digit", "Predictions"]
    shown = charts_shown(at)                                  # an MLP: no "Inside the CNN"
    assert shown["cm"]["data"][0]["x"] == [str(d) for d in range(10)]
    assert shown["cm"]["layout"]["title"]["text"] == "Confusion matrix (rows: true digit)"
    assert shown["pca"]["layout"]["title"]["text"] == "Accuracy per digit"
    wrong = np.flatnonzero(view.predicted != view.labels)
    open_tab(at, "Mistakes")
    assert f"{len(wrong):,} of {len(view.labels):,} test digits are misread" in texts(at.caption)
    gallery = charts_shown(at)["gallery"]
    assert gallery["data"][0]["type"] == "heatmap"            # grey
    assert [a["text"] for a in gallery["layout"]["annotations"]] == \
        [f"{view.labels[i]}→{view.predicted[i]}" for i in wrong[:32]]


def test_a_grey_cnn_shows_its_filters_and_feature_maps(page, fashion):
    at = page()
    choose(at, "fashion_mnist", hidden="8", model="cnn", conv="4-5-2-max,6-3-1-max")
    train(at)
    snap = job(at).snapshot()
    names = fashion_mnist.CLASSES
    assert [t.label for t in at.tabs] == ["Confusion matrix", "Mistakes", "Look at one image", "Predictions",
                                          "Inside the CNN"]
    open_tab(at, "Inside the CNN")
    filters = charts_shown(at)["filters"]
    conv = next(m for m in snap.predictor.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert filters["layout"]["meta"]["filters"] == conv.out_channels == 4
    assert filters["layout"]["meta"]["channels"] == 1 and filters["data"][0]["type"] == "heatmap"   # grey
    assert "maps-0" not in charts_shown(at)                  # only when asked
    at.toggle(key="mnist:maps").set_value(True).run()
    at.number_input(key="mnist:maps-index").set_value(5).run()
    assert not at.exception
    shown = charts_shown(at)
    assert [shown[f"maps-{i}"]["layout"]["meta"]["maps"] for i in range(2)] == [4, 6]
    assert [shown[f"maps-{i}"]["layout"]["meta"]["size"] for i in range(2)] == [[28, 28], [14, 14]]
    assert "maps-2" not in shown and shown["maps-image"]["data"][0]["type"] == "heatmap"
    true = names[snap.mnist.labels[5]]
    assert shown["maps-image"]["layout"]["title"]["text"] == f"a {true}"      # Sandal (image 5 of the fixture)
    assert f"The network says **{names[snap.mnist.predicted[5]]}**." in texts(at.caption)


def test_fashion_mnist_trains_on_fixture_files_and_names_the_classes(page, fashion):
    at = page()
    choose(at, "fashion_mnist")
    assert at.title[0].value == "Fashion-MNIST clothes"
    train(at)
    snap = job(at).snapshot()
    assert snap.data_source.startswith("full Fashion-MNIST: 20 training") and not snap.used_sample
    assert "Data: full Fashion-MNIST" in texts(at.caption)
    assert not [b for b in at.button if b.key == "mnist:download"]          # no MNIST download offer here
    assert [t.label for t in at.tabs] == ["Confusion matrix", "Mistakes", "Look at one image", "Predictions"]
    shown = charts_shown(at)
    assert shown["cm"]["data"][0]["x"] == list(fashion_mnist.CLASSES)
    assert "Sneaker" in shown["pca"]["data"][0]["x"] and shown["pca"]["layout"]["title"]["text"] == "Accuracy per class"
    view = snap.mnist
    names = np.array(fashion_mnist.CLASSES)
    wrong = np.flatnonzero(view.predicted != view.labels)
    open_tab(at, "Mistakes")
    gallery = charts_shown(at)["gallery"]
    notes = [a["text"] for a in gallery["layout"]["annotations"]]
    assert notes == [f"{names[view.labels[i]]}<br>→ {names[view.predicted[i]]}" for i in wrong]
    assert f"{len(wrong)} of 10 test images are misclassified" in texts(at.caption)
    open_tab(at, "Look at one image")
    at.number_input(key="mnist:index").set_value(7).run()
    said = f"True class **{names[view.labels[7]]}**, the network says **{names[view.predicted[7]]}**"
    assert said in texts(at.markdown)
    assert charts_shown(at)["bars"]["data"][0]["y"] == list(fashion_mnist.CLASSES)
    open_tab(at, "Predictions")
    table = at.dataframe[0].value
    assert list(table["true"]) == list(names[view.labels]) and "Sneaker" in set(table["true"])


def test_cifar10_is_shown_in_colour_with_filters_and_feature_maps(page, cifar, monkeypatch):
    at = page()
    choose(at, "cifar10", model="cnn")
    train(at)
    snap = job(at).snapshot()
    view, names = snap.mnist, np.array(cifar10.CLASSES)
    assert view.images.shape == (10, 3, 32, 32)
    assert charts_shown(at)["cm"]["data"][0]["y"] == list(cifar10.CLASSES)
    # the gallery: one rgb image of all the mistakes, named
    wrong = np.flatnonzero(view.predicted != view.labels)
    assert len(wrong)                                         # one step of training: mistakes to show
    open_tab(at, "Mistakes")
    trace = charts_shown(at)["gallery"]["data"][0]
    pixels = numbers(trace["z"])
    assert trace["type"] == "image" and pixels.ndim == 3 and pixels.shape[2] == 3
    first = np.rint(view.images[wrong[0]].transpose(1, 2, 0) * 255)
    assert np.array_equal(pixels[14:46, 1:33], first)          # under its label band, in its own colours
    assert any(names[view.labels[wrong[0]]] in a["text"] for a in charts_shown(at)["gallery"]["layout"]["annotations"])
    # one image, in colour
    open_tab(at, "Look at one image")
    assert charts_shown(at)["digit"]["data"][0]["type"] == "image"
    from playground.ui.image_views import with_article
    shown_index = int(at.number_input(key="mnist:index").value)
    title = charts_shown(at)["digit"]["layout"]["title"]["text"]
    assert title == f"test image {shown_index}: {with_article(names[view.labels[shown_index]])}"
    assert with_article("airplane") == "an airplane" and with_article("cat") == "a cat"
    # inside the CNN: colour filters, one per output channel of the first conv layer
    open_tab(at, "Inside the CNN")
    filters = charts_shown(at)["filters"]
    first_conv = snap.predictor.model[1]
    assert isinstance(first_conv, torch.nn.Conv2d)
    meta = {"filters": first_conv.out_channels, "shown": 4, "kernel": [3, 3], "channels": 3}
    assert filters["layout"]["meta"] == meta
    assert filters["data"][0]["type"] == "image"
    # the feature maps of test image 3, computed once per (model copy, image)
    from playground.ui import image_views
    calls = []
    real = image_views.conv_outputs
    monkeypatch.setattr(image_views, "conv_outputs", lambda *a: calls.append(1) or real(*a))
    at.toggle(key="mnist:maps").set_value(True).run()
    first_index = at.number_input(key="mnist:maps-index").value      # the one the other tab looked at
    index = 3 if first_index != 3 else 4
    at.number_input(key="mnist:maps-index").set_value(index).run()
    at.run()
    at.run()
    assert not at.exception and len(calls) == 2                # the first image, then the chosen one: once each
    shown = charts_shown(at)
    assert [shown[f"maps-{i}"]["layout"]["meta"]["maps"] for i in range(2)] == [4, 8]
    assert [shown[f"maps-{i}"]["layout"]["meta"]["size"] for i in range(2)] == [[32, 32], [16, 16]]
    assert shown["maps-image"]["data"][0]["type"] == "image"
    # the first layer's maps are relu(conv(normalised image)), recomputed here
    model = snap.predictor.model
    x = torch.as_tensor(view.images[index])[None]
    expected = F.relu(F.conv2d(model[0](x), first_conv.weight, first_conv.bias, padding=1))[0].detach().numpy()
    maps = real(model, view.images[index])
    assert np.allclose(maps[0][1], expected, atol=1e-6)
    assert maps[0][0] == "conv layer 1: 4 maps of 32x32, after ReLU"


@pytest.mark.parametrize("dataset, title", [("fashion_mnist", "Fashion-MNIST"), ("cifar10", "CIFAR-10")])
def test_a_missing_set_says_so_plainly(page, data_dir, dataset, title):
    at = page()
    choose(at, dataset)
    at.button(key="mnist:play").click().run()
    deadline = time.monotonic() + TIMEOUT
    while job(at).snapshot().status != "failed":
        assert time.monotonic() < deadline and job(at).snapshot().status != "finished"
        time.sleep(0.05)
    at.run()
    assert not at.exception
    message = texts(at.error)
    assert f"{title} is not on this machine" in message and "PLAYGROUND_DATA_DIR" in message
    assert str(data_dir / dataset) in message
    assert not at.tabs and not at.button(key="mnist:play").disabled


# ------------------------------------------------------------------ the Draw page
def test_the_draw_page_ignores_a_network_trained_on_clothes(page, fashion):
    at = page()
    choose(at, "fashion_mnist")
    train(at)
    clothes = job(at)
    drawing = np.zeros((280, 280, 4), np.uint8)
    drawing[60:220, 130:150, :3], drawing[..., 3] = 255, 255  # a "1"
    draw = page(draw_script, **{"job:mnist": clothes, "draw:test_image": drawing})
    assert not draw.exception and not draw.error
    assert not draw.radio                                     # only the digit reader: no picker
    assert "Fashion-MNIST (clothes), not digits" in texts(draw.caption)
    assert "It's a" in texts(draw.markdown) or "Not sure" in texts(draw.markdown)


# ------------------------------------------------------------------ races: an MLP against a CNN
@pytest.mark.parametrize("name", list(cfg.IMAGE_PRESETS))
def test_a_race_of_mlp_against_cnn_gives_valid_configs(name):
    base = cfg.preset(name)
    mlp, cnn = race.entrants(base, "model", ["mlp", "cnn"])
    assert (mlp.config.model, cnn.config.model) == ("mlp", "cnn")
    for entrant in (mlp, cnn):
        assert entrant.config == base.replace(model=entrant.label)       # only the model differs
        assert entrant.config.hidden == base.hidden and entrant.config.conv == base.conv
        cfg.check(entrant.config)
    convs = race.entrants(cnn.config, "conv", ["8-3-1-max", "16-3-1-max,32-3-1-max"])
    assert [e.config.conv for e in convs] == [("8-3-1-max",), ("16-3-1-max", "32-3-1-max")]


def test_the_race_page_races_mlp_against_cnn_on_the_images_page_data(fashion):
    from playground.jobs import Job
    base = cfg.from_dict(dict(cfg.FASHION_BASE, hidden=(8,), conv=("4-3-1-max",), epochs=1))
    images_job = Job(base)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["job:mnist"] = images_job
    at.run()
    try:
        at.switch_page("playground/ui/race_page.py").run()
        at.radio(key="race:base").set_value("Images").run()
        assert "model" in at.selectbox(key="race:setting").options
        assert "conv layers" not in at.selectbox(key="race:setting").options     # an MLP base: no conv
        at.selectbox(key="race:setting").select("model").run()
        assert at.multiselect(key="race:values:model").value == ["mlp", "cnn"]
        assert "fashion_mnist, mlp, 8 hidden" in texts(at.caption)
        at.button(key="race:start").click().run()
        runs = at.session_state["race:runs"]
        assert [(label, j.config.model) for label, j in runs] == [("mlp", "mlp"), ("cnn", "cnn")]
        deadline = time.monotonic() + TIMEOUT
        while any(j.snapshot().active for _, j in runs):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        at.run()
        assert not at.exception and [j.snapshot().status for _, j in runs] == ["finished", "finished"]
        assert any("Winner: **model =" in s.value for s in at.success)
    finally:
        for _, j in at.session_state["race:runs"] if "race:runs" in at.session_state else []:
            j.close()
        images_job.close()
        close_jobs(at)
