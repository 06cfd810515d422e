"""Chart functions: data in, Figure out."""
import base64
import io
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io
import pytest
from PIL import Image

from playground import charts

HISTORY = [dict(epoch=i, train_loss=1 / i, test_loss=1.2 / i, train_acc=0.5 + i / 40, test_acc=0.5 + i / 50,
                seconds=i, steps=10 * i) for i in range(1, 11)]


def kinds(fig):
    return [type(t).__name__ for t in fig.data]


def legend(fig) -> list[str]:
    return [t.name for t in fig.data if t.type == "scatter" and t.showlegend is not False]


def markers(fig) -> list:
    """The traces that draw points (not the legend's empty items)."""
    return [t for t in fig.data if t.type == "scatter" and t.showlegend is False]


def numbers(spec: dict) -> np.ndarray:
    """The values of an array as the charts send it (plotly's typed-array form)."""
    values = np.frombuffer(base64.b64decode(spec["bdata"]), np.dtype(spec["dtype"]).newbyteorder("<"))
    return values.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else values


def test_curves():
    fig = charts.loss_curves(HISTORY)
    assert kinds(fig) == ["Scatter", "Scatter"] and list(numbers(fig.data[0].y)) == [h["train_loss"] for h in HISTORY]
    assert charts.accuracy_curves(HISTORY).layout.yaxis.tickformat == ".0%"
    assert charts.loss_curves([]).data == () and charts.loss_curves([]).layout.annotations
    regression = [dict(h, train_acc=None, test_acc=None) for h in HISTORY]
    assert "regression" in charts.accuracy_curves(regression).layout.annotations[0].text
    steps = charts.step_loss_curve([10, 20, 30], [1.0, 0.5, 0.25])
    assert len(steps.data) == 2 and numbers(steps.data[1].y)[-1] > 0.25     # smoothed lags the raw line
    wide = [dict(h, train_loss=10.0 ** -i) for i, h in enumerate(HISTORY)]
    assert charts.loss_curves(wide).layout.yaxis.type == "log"


@pytest.mark.parametrize("task, grid", [
    ("binary", np.random.default_rng(0).random((50, 50))),
    ("multiclass", np.random.default_rng(0).dirichlet([1] * 4, (50, 50))),
    ("regression", np.random.default_rng(0).uniform(-1, 1, (50, 50))),
])
def test_decision_surface(task, grid):
    x = np.random.default_rng(1).uniform(-1, 1, (30, 2)).astype(np.float32)
    y = np.arange(30) % (4 if task == "multiclass" else 2)
    fig = charts.decision_surface(grid, (-1.25, 1.25), task, (x, y), (x[:5], y[:5]), discretize=True)
    assert kinds(fig) == ["Image", "Scatter", "Scatter", "Scatter", "Scatter"]      # markers, then legend items
    assert legend(fig) == ["train points", "test points"] and [len(numbers(t.x)) for t in markers(fig)] == [30, 5]
    assert fig.data[0].source.startswith("data:image/png;base64,")
    assert fig.layout.yaxis.scaleanchor == "x"
    fig.to_json()


def test_surface_colours_follow_the_classes():
    blue_half = np.zeros((10, 10))
    blue_half[:, 5:] = 1.0                       # right half: class 1 (blue), left: class 0 (orange)
    image = charts._surface_image(blue_half, "binary", discretize=False)
    assert image[0, 9, 2] > image[0, 9, 0] and image[0, 0, 0] > image[0, 0, 2]


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_points_as_one_picture_sit_where_the_markers_would(task):
    """Live view: the points as one image over the plane, the same legend, no markers."""
    x = np.array([[-0.5, 0.5], [0.5, -0.5], [0.9, 0.9]])
    y = np.array([0, 1, 1]) if task == "binary" else np.array([-1.0, 1.0, 1.0])
    picture = charts.points_picture((-1, 1), task, (x, y))
    fig = charts.decision_surface(np.full((10, 10), 0.5), (-1, 1), task, (x, y), points_picture=picture)
    with_markers = charts.decision_surface(np.full((10, 10), 0.5), (-1, 1), task, (x, y))
    assert markers(fig) == [] and legend(fig) == legend(with_markers) == ["train points"]
    assert [t.marker.color for t in fig.data[1:]] == [t.marker.color for t in with_markers.data[2:]]
    image = fig.layout.images[0]
    assert (image.x, image.y, image.sizex, image.sizey, image.sizing) == (-1, 1, 2, 2, "stretch")
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(image.source.split(",", 1)[1]))).convert("RGBA"))
    side = len(pixels)
    expected = {0: charts.ORANGE, 1: charts.BLUE} if task == "binary" else {-1.0: charts.ORANGE, 1.0: charts.BLUE}
    for (x1, x2), label in zip(x, y):
        row, col = int((1 - x2) / 2 * side), int((x1 + 1) / 2 * side)   # x2 upwards, rows downwards
        assert np.abs(pixels[row, col, :3].astype(int) - charts._rgb(expected[label])).max() <= 24
        assert pixels[row, col, 3] == 255
    assert pixels[side // 2, side // 2, 3] == 0          # transparent where there is no point


def test_surface_without_a_model_yet():
    fig = charts.decision_surface(None, (-1, 1), "binary", (np.zeros((3, 2)), np.array([0, 1, 0])))
    assert kinds(fig) == ["Scatter", "Scatter"] and legend(fig) == ["train points"]


def test_network_diagram_truncates_big_layers_and_groups_links():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(40, 2)), rng.normal(size=(1, 40))]
    fig = charts.network_diagram([2, 40, 1], weights, ["x1", "x2"], ["relu"])
    link_traces = [t for t in fig.data if t.mode == "lines"]
    assert 1 <= len(link_traces) <= 2 * charts.LINK_BUCKETS
    segments = 0
    for trace in link_traces:             # (x0, x1, NaN) per link: the NaN breaks the line
        x, y = numbers(trace.x), numbers(trace.y)
        assert len(x) % 3 == 0 and np.isnan(x[2::3]).all() and np.isnan(y[2::3]).all()
        assert set(x[0::3]) | set(x[1::3]) <= {0.0, 1.0, 2.0} and not np.isnan(y[0::3]).any()
        segments += len(x) // 3
    assert segments == 2 * 32 + 32 * 1    # every drawn neuron's links, once
    assert any("+8 more" in a.text for a in fig.layout.annotations)
    node_traces = [t for t in fig.data if t.mode == "markers"]
    assert [len(numbers(t.x)) for t in node_traces] == [2, 32, 1]
    assert charts.network_diagram([], []).layout.annotations


def test_mnist_views():
    cm = np.diag([10] * 10) + 1
    assert kinds(charts.confusion_matrix(cm)) == ["Heatmap"]
    bars = charts.probability_bars(np.eye(10)[3] * 0.9 + 0.01)
    assert bars.data[0].marker.color[3] == charts.BLUE
    assert kinds(charts.per_class_accuracy(np.linspace(0.9, 1, 10))) == ["Bar"]
    assert kinds(charts.digit_image(np.zeros((28, 28)))) == ["Heatmap"]
    gallery = charts.digit_gallery(np.zeros((10, 1, 28, 28)), list(range(10)), [1] * 10, columns=8)
    assert len(gallery.layout.annotations) == 10
    assert charts.digit_gallery(np.zeros((0, 28, 28)), [], []).layout.annotations
    for fig in (bars, gallery):
        assert isinstance(fig, go.Figure) and fig.to_json()


def test_long_runs_are_thinned_but_keep_the_last_epoch():
    history = [dict(HISTORY[0], epoch=i) for i in range(1, 5001)]
    fig = charts.loss_curves(history)
    epochs = numbers(fig.data[0].x)
    assert len(epochs) <= charts.MAX_CURVE_POINTS + 1 and epochs[-1] == 5000


def test_network_diagram_pictures_each_neuron_of_small_layers():
    rng = np.random.default_rng(0)
    maps = [rng.uniform(-1, 1, (n, 24, 24)) for n in (2, 6, 20)]
    weights = [rng.normal(size=(6, 2)), rng.normal(size=(20, 6)), rng.normal(size=(1, 20))]
    fig = charts.network_diagram([2, 6, 20, 1], weights, ["x1", "x2"], ["tanh", "tanh"], maps)
    assert [image.x for image in fig.layout.images] == [0.0, 1.0]   # one picture sheet per small column
    assert all(image.source.startswith("data:image/png;base64,") for image in fig.layout.images)
    assert [len(numbers(t.x)) for t in fig.data if t.mode == "markers"] == [20, 1]   # the 20-neuron layer: circles


def png_pixels(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_each_neuron_picture_lands_on_its_neuron():
    signs = np.array([1, -1, 1, 1, -1, -1])            # +1 paints a neuron's picture blue, -1 orange
    maps = [np.zeros((2, 24, 24)), signs[:, None, None] * np.ones((6, 24, 24))]
    weights = [np.ones((6, 2)), np.ones((1, 6))]
    fig = charts.network_diagram([2, 6, 1], weights, None, None, maps)
    sheet = next(image for image in fig.layout.images if image.x == 1.0)
    pixels = png_pixels(sheet.source)
    rows_per_unit = len(pixels) / sheet.sizey
    neuron_ys = np.linspace(0.95, 0.05, 6)             # where the diagram puts 6 neurons
    for sign, y in zip(signs, neuron_ys):
        r, g, b, alpha = pixels[int((sheet.y - y) * rows_per_unit), 12].astype(int)
        assert alpha == 255 and ((b > r) if sign > 0 else (r > b))
    between = (neuron_ys[0] + neuron_ys[1]) / 2
    assert pixels[int((sheet.y - between) * rows_per_unit), 12, 3] == 0   # transparent between neurons


def sample_figures() -> dict[str, go.Figure]:
    rng = np.random.default_rng(0)
    x, labels = rng.uniform(-1, 1, (30, 2)), np.arange(30) % 3
    maps = [rng.uniform(-1, 1, (n, 24, 24)) for n in (2, 6, 40)]
    weights = [rng.normal(size=(6, 2)), rng.normal(size=(40, 6)), rng.normal(size=(1, 40))]
    return {
        "loss": charts.loss_curves(HISTORY), "no loss": charts.loss_curves([]),
        "accuracy": charts.accuracy_curves(HISTORY), "steps": charts.step_loss_curve([1, 2, 3], [1.0, 0.5, 0.2]),
        "surface": charts.decision_surface(rng.dirichlet([1] * 3, (20, 20)), (-1, 1), "multiclass", (x, labels),
                                           (x, labels)),
        "regression": charts.decision_surface(rng.uniform(-1, 1, (20, 20)), (-1, 1), "regression",
                                              (x, rng.normal(size=30))),
        "surface, live": charts.decision_surface(rng.random((20, 20)), (-1, 1), "binary", (x, labels % 2),
                                                 points_picture=charts.points_picture((-1, 1), "binary", (x, labels % 2))),
        "network": charts.network_diagram([2, 6, 40, 1], weights, ["x1", "x2"], ["tanh", "relu"], maps),
        "confusion": charts.confusion_matrix(np.diag([10] * 10) + 1),
        "per class": charts.per_class_accuracy(np.linspace(0.9, 1, 10)),
        "bars": charts.probability_bars(np.eye(10)[3] * 0.9 + 0.01), "digit": charts.digit_image(np.zeros((28, 28))),
        "gallery": charts.digit_gallery(np.zeros((3, 1, 28, 28)), [1, 2, 3], [7, 7, 7]),
        "weight histograms": charts.weight_histograms(weights, ["layer 1", "layer 2", "output"]),
        "gradient norms": charts.gradient_norms(10.0 ** -rng.uniform(0, 8, (12, 3)), ["layer 1", "layer 2", "output"]),
        "neuron map": charts.neuron_map(maps[1][0], (-1, 1), "layer 1, neuron 1", (x, labels), (x, labels), "multiclass"),
        "neuron map, live": charts.neuron_map(maps[1][0], (-1, 1), "n", (x, labels % 2), task="binary",
                                              points_picture=charts.points_picture((-1, 1), "binary", (x, labels % 2))),
    }


def as_sent(fig: go.Figure) -> dict:
    """The JSON Streamlit sends, without the template (Streamlit's theme fills it)."""
    spec = json.loads(plotly.io.to_json(fig, validate=False))
    spec["layout"].pop("template", None)
    return spec


@pytest.mark.parametrize("name", list(sample_figures()))
def test_charts_are_what_plotly_validation_makes_of_them(name):
    """Charts skip plotly's validators for speed: each must come out of them unchanged."""
    fig = sample_figures()[name]
    assert as_sent(go.Figure(fig.to_dict())) == as_sent(fig)
    assert fig.layout.template.to_plotly_json() in ({}, {"layout": {}})   # not plotly's 6.5 KB default


def test_numbers_travel_as_binary_arrays():
    spec = json.loads(plotly.io.to_json(charts.loss_curves(HISTORY), validate=False))
    assert set(spec["data"][0]["y"]) == {"dtype", "bdata"}


@pytest.mark.parametrize("values, dtype", [(np.linspace(-1, 1, 7), "f8"), (np.linspace(0, 1, 5, dtype=np.float32), "f4"),
                                           (np.arange(9, dtype=np.int32), "i4"), (np.eye(3), "f8")])
def test_arrays_are_encoded_as_plotly_itself_encodes_them(values, dtype):
    from _plotly_utils.utils import to_typed_array_spec
    assert charts._wire(values, dtype) == to_typed_array_spec(values)
    assert np.array_equal(numbers(charts._wire(values, dtype)), values)


def test_compare_curves_overlay_one_line_per_run():
    other = [dict(h, test_loss=h["test_loss"] / 2, test_acc=None) for h in HISTORY]
    fig = charts.compare_curves([("sgd", HISTORY), ("adam", other), ("empty", [])], "test_loss")
    assert [t.name for t in fig.data] == ["sgd", "adam"]                       # no line for a run with no epochs
    assert list(numbers(fig.data[1].y)) == [h["test_loss"] / 2 for h in HISTORY]
    assert fig.data[0].line.color != fig.data[1].line.color
    acc = charts.compare_curves([("sgd", HISTORY), ("regression", other)], "test_acc")
    assert [t.name for t in acc.data] == ["sgd"] and acc.layout.yaxis.tickformat == ".0%"
    assert charts.compare_curves([], "test_loss").layout.annotations
    plotly.io.from_json(json.dumps(fig.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder))   # valid for plotly


def test_the_network_diagram_crosses_out_and_counts_dead_units():
    sizes = (2, 4, 3, 1)
    weights = [np.ones((4, 2)), np.ones((3, 4)), np.ones((1, 3))]
    dead = [np.array([False, True, False, True]), np.array([False, False, False])]
    fig = charts.network_diagram(sizes, weights, ["x1", "x2"], ["relu", "tanh"], None, dead)
    crosses = [t for t in fig.data if t.name == "dead unit"]
    assert len(crosses) == 1 and len(crosses[0].y) == 2
    _, ys = charts._column(1, 4)
    assert sorted(crosses[0].y) == sorted([ys[1], ys[3]]) and set(crosses[0].x) == {1.16}
    labels = [a.text for a in fig.layout.annotations]
    assert "4 relu, 2 dead" in labels and "3 tanh" in labels
    alive = charts.network_diagram(sizes, weights, ["x1", "x2"], ["relu", "tanh"], None, [np.zeros(4, bool)] * 2)
    assert not [t for t in alive.data if t.name == "dead unit"] and "4 relu" in [a.text for a in alive.layout.annotations]


# ------------------------------------------------------------------ what each neuron does
def test_weight_histograms_count_like_numpy():
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=(8, 2)), rng.normal(0, 0.1, size=(8, 8)), rng.uniform(-2, 2, size=(1, 8))]
    fig = charts.weight_histograms(weights, ["layer 1", "layer 2", "output"], bins=12)
    assert [t.type for t in fig.data] == ["bar"] * 3 and [t.name for t in fig.data] == ["layer 1", "layer 2", "output"]
    for trace, w in zip(fig.data, weights):
        counts, edges = np.histogram(w.ravel(), bins=12)
        assert np.array_equal(numbers(trace.y), counts)
        assert np.allclose(numbers(trace.x), (edges[:-1] + edges[1:]) / 2) and np.allclose(numbers(trace.width), np.diff(edges))
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x3"]                  # one small chart per layer
    assert "layer 2 (64)" in [a.text for a in fig.layout.annotations]       # with its number of weights
    assert charts.weight_histograms([], []).layout.annotations                # before training: a hint


def test_gradient_norms_draw_one_line_per_layer_on_a_log_axis():
    norms = np.array([[1e-6, 1e-3, 0.1], [2e-6, 3e-3, 0.2], [4e-6, 0.0, 0.3]])
    fig = charts.gradient_norms(norms, ["layer 1", "layer 2", "output"], epochs=[5, 6, 7])
    assert [t.name for t in fig.data] == ["layer 1", "layer 2", "output"]
    assert fig.layout.yaxis.type == "log"
    assert list(numbers(fig.data[0].y)) == [1e-6, 2e-6, 4e-6] and list(numbers(fig.data[0].x)) == [5, 6, 7]
    second = numbers(fig.data[1].y)
    assert list(second[:2]) == [1e-3, 3e-3] and np.isnan(second[2])         # 0 has no place on a log axis: a gap
    assert len({t.line.color for t in fig.data}) == 3
    assert charts.gradient_norms(None, []).layout.annotations


def test_a_neurons_map_enlarged_has_the_diagrams_colours_and_the_points():
    rng = np.random.default_rng(4)
    values = rng.uniform(-1, 1, (24, 24))
    x, y = rng.uniform(-1, 1, (20, 2)), np.arange(20) % 2
    fig = charts.neuron_map(values, (-6, 6), "layer 1, neuron 2 (tanh)", (x, y))
    heat = fig.data[0]
    assert heat.type == "heatmap" and np.allclose(numbers(heat.z), values.astype(np.float32))
    assert (heat.x0, heat.y0, heat.dx) == (-6, -6, 12 / 23) and (heat.zmin, heat.zmax) == (-1, 1)
    assert fig.layout.title.text == "layer 1, neuron 2 (tanh)"
    assert [len(numbers(t.x)) for t in markers(fig)] == [20]
    # the colour scale's ends are the diagram's little pictures' colours for -1 and 1
    pictured = charts._surface_image(np.array([-1.0, 1.0]), "regression", discretize=False)
    ends = [tuple(int(v) for v in c[4:-1].split(",")) for _, c in (heat.colorscale[0], heat.colorscale[-1])]
    assert ends == [tuple(pictured[0]), tuple(pictured[1])]
    picture = charts.points_picture((-6, 6), "binary", (x, y))
    live = charts.neuron_map(values, (-6, 6), "n", (x, y), points_picture=picture)
    assert not markers(live) and live.layout.images[0].source == picture["source"]   # training: one picture
