"""The image sets' charts (colour pictures, class names, conv filters, feature maps): the values
they send, recomputed here with numpy, and every figure valid for plotly."""
import base64
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io
import pytest

from playground import charts

CLOTHES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def numbers(spec) -> np.ndarray:
    """An array as the charts send it (plotly's typed-array form)."""
    spec = spec if isinstance(spec, dict) else spec.to_plotly_json()
    values = np.frombuffer(base64.b64decode(spec["bdata"]), np.dtype(spec["dtype"]).newbyteorder("<"))
    return values.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else values


def sent(fig: go.Figure) -> dict:
    """The figure as JSON, validated by plotly's own validators on the way back."""
    spec = json.loads(plotly.io.to_json(fig, validate=False))
    go.Figure(spec)
    return spec


def as_bytes(values) -> np.ndarray:
    return np.clip(np.rint(np.asarray(values, np.float64) * 255), 0, 255).astype(np.uint8)


def scaled_each(values: np.ndarray, flat: float) -> np.ndarray:
    """Each item to [0, 1] by its own min and max (a flat item: `flat`), the slow way."""
    out = np.empty(values.shape, np.float64)
    for i, item in enumerate(values):
        low, high = item.min(), item.max()
        out[i] = (item - low) / (high - low) if high > low else flat
    return out


RNG = np.random.default_rng(7)


# ------------------------------------------------------------------ single images
def test_a_grey_image_is_a_heatmap_of_its_values():
    image = RNG.random((1, 28, 28)).astype(np.float32)
    spec = sent(charts.image_picture(image, "a 7"))
    trace = spec["data"][0]
    assert trace["type"] == "heatmap" and np.array_equal(numbers(trace["z"]), image[0])
    assert (trace["zmin"], trace["zmax"]) == (0, 1) and spec["layout"]["title"]["text"] == "a 7"
    assert spec["layout"]["yaxis"]["autorange"] == "reversed"          # row 0 at the top


def test_a_colour_image_is_an_rgb_image_of_its_bytes():
    image = RNG.random((3, 32, 32)).astype(np.float32)
    trace = sent(charts.image_picture(image, "a cat"))["data"][0]
    pixels = numbers(trace["z"])
    assert trace["type"] == "image" and trace["colormodel"] == "rgb" and pixels.dtype == np.uint8
    assert pixels.shape == (32, 32, 3)
    assert np.array_equal(pixels, as_bytes(image.transpose(1, 2, 0)))
    assert np.array_equal(pixels[5, 9], as_bytes(image[:, 5, 9]))         # pixel (5, 9): its red, green, blue


# ------------------------------------------------------------------ galleries
def test_a_grey_gallery_puts_each_digit_under_its_label():
    images = RNG.random((10, 1, 28, 28)).astype(np.float32)
    true, pred = [str(d) for d in range(10)], ["1"] * 10
    spec = sent(charts.image_gallery(images, true, pred, columns=4))
    sheet = numbers(spec["data"][0]["z"])
    band = 5                                                 # digits: a one-line label above each picture
    assert sheet.shape == (3 * (band + 28 + 1), 4 * 29 + 1)
    for i in (0, 5, 9):
        r, c = divmod(i, 4)
        top, left = r * (band + 28 + 1) + band, c * 29 + 1
        assert np.array_equal(sheet[top:top + 28, left:left + 28], as_bytes(images[i, 0]))
    assert sheet[0, 0] == as_bytes(0.15)                        # the dark background
    notes = spec["layout"]["annotations"]
    assert [n["text"] for n in notes] == [f"{d}→1" for d in range(10)]
    assert notes[5]["x"] == 1 * 29 + 1 + 13.5 and notes[5]["y"] == 1 * 34 + 2


def test_a_colour_gallery_keeps_the_colours_and_names_the_classes():
    images = RNG.random((3, 3, 32, 32)).astype(np.float32)
    names = ["airplane", "cat", "ship"]
    spec = sent(charts.image_gallery(images, names, ["truck", "dog", "frog"]))
    trace = spec["data"][0]
    sheet = numbers(trace["z"])
    assert trace["type"] == "image" and sheet.shape == (14 + 32 + 1, 8 * 33 + 1, 3)     # 8 columns, 1 row
    assert np.array_equal(sheet[14:46, 34:66], as_bytes(images[1].transpose(1, 2, 0)))
    assert [n["text"] for n in spec["layout"]["annotations"]] == ["airplane<br>→ truck", "cat<br>→ dog",
                                                                 "ship<br>→ frog"]


def test_no_mistakes_is_a_note():
    spec = sent(charts.image_gallery(np.zeros((0, 3, 32, 32)), [], []))
    assert spec["data"] == [] and spec["layout"]["annotations"][0]["text"] == "no mistakes to show"


# ------------------------------------------------------------------ class names
def test_class_names_label_the_confusion_matrix_accuracy_and_probabilities():
    cm = RNG.integers(0, 50, (10, 10))
    spec = sent(charts.confusion_matrix(cm, CLOTHES, "class"))
    heatmap = spec["data"][0]
    assert heatmap["x"] == heatmap["y"] == list(CLOTHES) and heatmap["text"] == cm.tolist()
    assert np.allclose(numbers(heatmap["z"]), cm / cm.sum(1, keepdims=True))
    assert spec["layout"]["title"]["text"] == "Confusion matrix (rows: true class)"
    assert spec["layout"]["margin"]["l"] > charts.MARGIN["l"]                 # room for "Ankle boot"
    acc = RNG.random(10)
    bars = sent(charts.per_class_accuracy(acc, CLOTHES, "class"))
    assert bars["data"][0]["x"] == list(CLOTHES) and np.allclose(numbers(bars["data"][0]["y"]), acc)
    assert bars["layout"]["title"]["text"] == "Accuracy per class" and bars["layout"]["xaxis"]["tickangle"] == -45
    probs = RNG.dirichlet([1] * 10)
    bars = sent(charts.probability_bars(probs, CLOTHES))["data"][0]
    assert bars["y"] == list(CLOTHES) and np.allclose(numbers(bars["x"]), probs)
    assert bars["marker"]["color"][int(probs.argmax())] == charts.BLUE
    digits = sent(charts.confusion_matrix(cm))                    # MNIST, as before
    assert digits["data"][0]["x"] == [str(d) for d in range(10)]
    assert digits["layout"]["title"]["text"] == "Confusion matrix (rows: true digit)"


# ------------------------------------------------------------------ conv filters
def test_grey_filters_are_each_scaled_on_their_own():
    weights = RNG.normal(size=(6, 1, 5, 5)).astype(np.float32)
    weights[2] = 0.3                                         # one value throughout: mid grey
    spec = sent(charts.conv_filters(weights, columns=4))
    trace, layout = spec["data"][0], spec["layout"]
    sheet = numbers(trace["z"])
    assert trace["type"] == "heatmap" and sheet.shape == (2 * 6 - 1, 4 * 6 - 1)
    expected = scaled_each(weights[:, 0], 0.5)
    for f in range(6):
        r, c = divmod(f, 4)
        assert np.array_equal(sheet[r * 6:r * 6 + 5, c * 6:c * 6 + 5], as_bytes(expected[f])), f
    assert (sheet[:, 5] == 255).all() and (sheet[5, :] == 255).all()         # white gaps between them
    assert (sheet[6:11, 12:17] == 255).all()                                  # no 7th filter
    assert layout["meta"] == {"filters": 6, "shown": 6, "kernel": [5, 5], "channels": 1}
    assert layout["title"]["text"].startswith("6 filters of 5x5")
    weakest = weights[0, 0].argmin()
    assert sheet[weakest // 5, weakest % 5] == 0                             # its most negative weight: black


def test_colour_filters_show_their_red_green_and_blue_weights():
    weights = RNG.normal(size=(100, 3, 3, 3)).astype(np.float32)
    spec = sent(charts.conv_filters(weights))
    trace, layout = spec["data"][0], spec["layout"]
    sheet = numbers(trace["z"])
    assert trace["type"] == "image" and sheet.shape == (4 * 4 - 1, 16 * 4 - 1, 3)   # 64 of 100, 16 a row
    expected = scaled_each(weights[:64], 0.5).transpose(0, 2, 3, 1)                # one scale per filter
    for f in (0, 17, 63):
        r, c = divmod(f, 16)
        assert np.array_equal(sheet[r * 4:r * 4 + 3, c * 4:c * 4 + 3], as_bytes(expected[f])), f
    assert layout["meta"] == {"filters": 100, "shown": charts.MAX_FILTERS, "kernel": [3, 3], "channels": 3}
    assert "the first 64 shown" in layout["title"]["text"]


# ------------------------------------------------------------------ feature maps
def test_feature_maps_are_each_scaled_and_a_dead_map_is_black():
    maps = np.maximum(RNG.normal(size=(5, 16, 16)), 0).astype(np.float32)     # after ReLU
    maps[3] = 0                                                               # a filter that never fires
    spec = sent(charts.feature_maps(maps, "conv layer 2: 5 maps of 16x16, after ReLU", columns=3))
    sheet = numbers(spec["data"][0]["z"])
    gap = 16 // 8
    assert sheet.shape == (2 * (16 + gap) - gap, 3 * (16 + gap) - gap)
    expected = scaled_each(maps, 0.0)
    for m in range(5):
        r, c = divmod(m, 3)
        y, x = r * (16 + gap), c * (16 + gap)
        assert np.array_equal(sheet[y:y + 16, x:x + 16], as_bytes(expected[m])), m
    assert (sheet[18:34, 0:16] == 0).all()                                    # map 3: black
    assert spec["layout"]["meta"] == {"maps": 5, "shown": 5, "size": [16, 16]}
    assert spec["layout"]["title"]["text"] == "conv layer 2: 5 maps of 16x16, after ReLU"


def test_many_feature_maps_are_cut_to_the_first_ones():
    spec = sent(charts.feature_maps(RNG.random((128, 8, 8)), "conv layer 3"))
    assert spec["layout"]["meta"] == {"maps": 128, "shown": charts.MAX_MAPS, "size": [8, 8]}
    assert spec["layout"]["title"]["text"] == "conv layer 3 (the first 64 of 128)"
    assert numbers(spec["data"][0]["z"]).shape == (4 * 9 - 1, 16 * 9 - 1)


@pytest.mark.parametrize("figure", [
    lambda: charts.conv_filters(np.zeros((0, 1, 3, 3))),
    lambda: charts.feature_maps(np.zeros((0, 4, 4)), "conv layer 1"),
])
def test_nothing_to_show_is_a_note(figure):
    spec = sent(figure())
    assert spec["data"] == [] and spec["layout"]["annotations"]
