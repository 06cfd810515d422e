"""Chart functions: data in, Figure out."""
import numpy as np
import plotly.graph_objects as go
import pytest

from playground import charts

HISTORY = [dict(epoch=i, train_loss=1 / i, test_loss=1.2 / i, train_acc=0.5 + i / 40, test_acc=0.5 + i / 50,
                seconds=i, steps=10 * i) for i in range(1, 11)]


def kinds(fig):
    return [type(t).__name__ for t in fig.data]


def test_curves():
    fig = charts.loss_curves(HISTORY)
    assert kinds(fig) == ["Scatter", "Scatter"] and list(fig.data[0].y) == [h["train_loss"] for h in HISTORY]
    assert charts.accuracy_curves(HISTORY).layout.yaxis.tickformat == ".0%"
    assert charts.loss_curves([]).data == () and charts.loss_curves([]).layout.annotations
    regression = [dict(h, train_acc=None, test_acc=None) for h in HISTORY]
    assert "regression" in charts.accuracy_curves(regression).layout.annotations[0].text
    steps = charts.step_loss_curve([10, 20, 30], [1.0, 0.5, 0.25])
    assert len(steps.data) == 2 and steps.data[1].y[-1] > 0.25     # smoothed lags the raw line
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
    assert kinds(fig) == ["Image", "Scatter", "Scatter"]
    assert fig.data[0].source.startswith("data:image/png;base64,")
    assert fig.layout.yaxis.scaleanchor == "x"
    fig.to_json()


def test_surface_colours_follow_the_classes():
    blue_half = np.zeros((10, 10))
    blue_half[:, 5:] = 1.0                       # right half: class 1 (blue), left: class 0 (orange)
    image = charts._surface_image(blue_half, "binary", discretize=False)
    assert image[0, 9, 2] > image[0, 9, 0] and image[0, 0, 0] > image[0, 0, 2]


def test_surface_without_a_model_yet():
    fig = charts.decision_surface(None, (-1, 1), "binary", (np.zeros((3, 2)), np.array([0, 1, 0])))
    assert kinds(fig) == ["Scatter"]


def test_network_diagram_truncates_big_layers_and_groups_links():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(40, 2)), rng.normal(size=(1, 40))]
    fig = charts.network_diagram([2, 40, 1], weights, ["x1", "x2"], ["relu"])
    link_traces = [t for t in fig.data if t.mode == "lines"]
    assert 1 <= len(link_traces) <= 2 * charts.LINK_BUCKETS
    for trace in link_traces:             # plain numbers with None gaps: plotly.js draws nothing else
        assert all(v is None or isinstance(v, float) for v in trace.x)
        assert set(v for v in trace.x if v is not None) <= {0.0, 1.0, 2.0}
    assert any("+8 more" in a.text for a in fig.layout.annotations)
    node_traces = [t for t in fig.data if t.mode == "markers"]
    assert [len(t.x) for t in node_traces] == [2, 32, 1]
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
    assert len(fig.data[0].x) <= charts.MAX_CURVE_POINTS + 1 and fig.data[0].x[-1] == 5000


def test_network_diagram_pictures_each_neuron_of_small_layers():
    rng = np.random.default_rng(0)
    maps = [rng.uniform(-1, 1, (n, 24, 24)) for n in (2, 6, 20)]
    weights = [rng.normal(size=(6, 2)), rng.normal(size=(20, 6)), rng.normal(size=(1, 20))]
    fig = charts.network_diagram([2, 6, 20, 1], weights, ["x1", "x2"], ["tanh", "tanh"], maps)
    assert len(fig.layout.images) == 2 + 6                  # the 20-neuron layer keeps plain circles
    assert all(image.source.startswith("data:image/png;base64,") for image in fig.layout.images)
    assert [len(t.x) for t in fig.data if t.mode == "markers"] == [20, 1]
