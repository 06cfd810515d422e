"""Pure chart functions: plain data in, a plotly Figure out (no streamlit, no torch).

Each figure is written as plain dicts and wrapped once, unvalidated (`_figure`): building it
through plotly's objects (`add_trace`, `update_layout`...) costs 5 to 10 times more, about 15 ms
a chart, which a live page pays several times a second. tests/test_charts.py runs every chart
through plotly's validators instead. Numbers go in already as plotly sends them (`_wire`:
base64 "bdata", not JSON lists), so Streamlit's conversion at each draw has nothing to encode;
NaN marks a gap in a line.
"""
from __future__ import annotations

import base64
import io
from typing import Mapping, Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image, ImageDraw

ORANGE, BLUE = "#f59322", "#0877bd"   # TensorFlow Playground's class colours
CLASS_COLOURS = [ORANGE, BLUE, "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"]
DIVERGING = [[0.0, ORANGE], [0.5, "#f7f7f7"], [1.0, BLUE]]
BLUES = plotly.colors.get_colorscale("Blues")   # spelled out: validation does that, and plotly.js has
GRAY = plotly.colors.get_colorscale("Gray")     # no "Gray" and another "Blues"
HIDDEN_AXIS = {"visible": False}


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """An empty template: else plotly adds its default one (6.5 KB a chart) that Streamlit's theme
    overrides anyway."""
    return go.Figure({"data": data, "layout": {**layout, "template": {"layout": {}}}}, _validate=False)


MARGIN = {"l": 70, "r": 15, "t": 60, "b": 55, "autoexpand": False}


def _layout(title: str, height: int, **extra) -> dict:
    """The common look. No template: Streamlit's theme styles the charts (a template costs ~7 ms).

    Fixed margins, wide enough for the tick labels, titles and legend: with margins that grow to
    fit them (plotly's automargin, which Streamlit's theme turns on), a browser lays each new chart
    out twice, and the live view sends new charts several times a second."""
    layout = {"title": {"text": title, "x": 0.01, "font": {"size": 16}}, "height": height,
              "font": {"size": 14}, "plot_bgcolor": "white", "uirevision": "keep",
              "legend": {"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
              "margin": dict(MARGIN)}
    layout.update(extra)
    return layout


def _hint(text: str, title: str, height: int) -> go.Figure:
    """An empty chart that says what will appear in it."""
    note = {"text": text, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
            "font": {"size": 15, "color": "#888"}}
    return _figure([], _layout(title, height, annotations=[note], xaxis=HIDDEN_AXIS, yaxis=HIDDEN_AXIS))


def _wire(values, dtype: str) -> dict:
    """A numeric array as plotly's JSON carries it: {"dtype", "bdata": base64 of little-endian
    values} (plotly.js reads it as a typed array). About 3x cheaper than plotly encoding the
    array at each of Streamlit's draws. dtype: "f8", "f4", "i4", "u1"..."""
    array = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    spec = {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode()}
    if array.ndim > 1:
        spec["shape"] = str(array.shape)[1:-1]
    return spec


def _axis(title: str, **extra) -> dict:
    return {"title": {"text": title}, "automargin": False, **extra}


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], np.float32)


# ------------------------------------------------------------------ curves
MAX_CURVE_POINTS = 1000   # long runs are thinned for drawing (the last epoch is always kept)


def _thin(items: Sequence, limit: int = MAX_CURVE_POINTS) -> Sequence:
    if len(items) <= limit:
        return items
    step = -(-len(items) // limit)
    return list(items[::step]) + ([items[-1]] if (len(items) - 1) % step else [])


def _values(history: Sequence[Mapping], key: str) -> np.ndarray:
    """One field of each record; NaN where a record lacks it."""
    return np.array([np.nan if h.get(key) is None else h[key] for h in history], np.float64)


def _line(x: np.ndarray, y: np.ndarray, name: str, colour: str, hover: str | None, width: float = 2.5) -> dict:
    line = {"type": "scatter", "x": _wire(x, "i4"), "y": _wire(y, "f8"), "name": name, "mode": "lines",
            "line": {"color": colour, "width": width}}
    return {**line, "hovertemplate": hover} if hover else {**line, "hoverinfo": "skip"}


def loss_curves(history: Sequence[Mapping]) -> go.Figure:
    history = _thin(history)
    if not history:
        return _hint("press Play to start training", "Loss", 300)
    epochs = np.array([h["epoch"] for h in history], np.int32)
    data, values = [], []
    for key, name, colour in (("train_loss", "train", BLUE), ("test_loss", "test", ORANGE)):
        y = _values(history, key)
        if not np.isnan(y).all():
            data.append(_line(epochs, y, name, colour, f"epoch %{{x}}<br>{name} loss %{{y:.5f}}<extra></extra>"))
            values.append(y)
    positive = np.concatenate(values) if values else np.array([])
    positive = positive[np.isfinite(positive) & (positive > 0)]
    log_y = len(positive) > 0 and positive.max() / positive.min() > 100
    yaxis = _axis("loss", type="log", dtick=1) if log_y else _axis("loss", type="linear")
    return _figure(data, _layout("Loss", 300, xaxis=_axis("epoch"), yaxis=yaxis))


def accuracy_curves(history: Sequence[Mapping]) -> go.Figure:
    history = _thin(history)
    if not history or history[-1].get("test_acc") is None:
        note = "press Play to start training" if not history else "regression: see the loss (mean squared error)"
        return _hint(note, "Accuracy", 300)
    epochs = np.array([h["epoch"] for h in history], np.int32)
    data = [_line(epochs, _values(history, key), name, colour,
                  f"epoch %{{x}}<br>{name} accuracy %{{y:.2%}}<extra></extra>")
            for key, name, colour in (("train_acc", "train", BLUE), ("test_acc", "test", ORANGE))]
    yaxis = _axis("accuracy", tickformat=".0%", range=[None, 1.005])
    return _figure(data, _layout("Accuracy", 300, xaxis=_axis("epoch"), yaxis=yaxis))


RUN_COLOURS = ("#0877bd", "#e8710a", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
COMPARED = {"test_loss": ("Test loss", "loss"), "train_loss": ("Train loss", "loss"),
            "test_acc": ("Test accuracy", "accuracy"), "train_acc": ("Train accuracy", "accuracy")}


def compare_curves(runs: Sequence[tuple[str, Sequence[Mapping]]], key: str = "test_loss") -> go.Figure:
    """One curve per run (label, epoch history) of `key`: a race's or a comparison's runs overlaid."""
    title, what = COMPARED[key]
    data, values = [], []
    for i, (label, history) in enumerate(runs):
        history = _thin(history)
        if not history or history[-1].get(key) is None:
            continue
        y = _values(history, key)
        epochs = np.array([h["epoch"] for h in history], np.int32)
        fmt = ".2%" if what == "accuracy" else ".5f"
        data.append(_line(epochs, y, label, RUN_COLOURS[i % len(RUN_COLOURS)],
                          f"{label}<br>epoch %{{x}}<br>{what} %{{y:{fmt}}}<extra></extra>"))
        values.append(y)
    if not data:
        return _hint("the runs' curves appear here", title, 320)
    if what == "accuracy":
        yaxis = _axis("accuracy", tickformat=".0%", range=[None, 1.005])
    else:
        positive = np.concatenate(values)
        positive = positive[np.isfinite(positive) & (positive > 0)]
        log_y = len(positive) > 0 and positive.max() / positive.min() > 100
        yaxis = _axis("loss", type="log", dtick=1) if log_y else _axis("loss", type="linear")
    legend = {"orientation": "h", "x": 0, "y": -0.22, "xanchor": "left", "yanchor": "top"}   # below: many runs
    return _figure(data, _layout(title, 380, xaxis=_axis("epoch"), yaxis=yaxis, legend=legend,
                                 margin={**MARGIN, "b": 120}))


def step_loss_curve(steps: Sequence[int], losses: Sequence[float], smoothing: float = 0.6) -> go.Figure:
    if not len(steps):
        return _hint("the loss of each stretch of steps appears here", "Train loss per step", 260)
    x, raw = np.asarray(steps, np.int64), np.asarray(losses, np.float64)
    smooth = np.empty_like(raw)
    value = raw[0]
    for i, loss in enumerate(raw.tolist()):
        value = smoothing * value + (1 - smoothing) * loss
        smooth[i] = value
    data = [dict(_line(x, raw, "raw", BLUE, None, width=1), opacity=0.3),
            _line(x, smooth, "smoothed", BLUE, "step %{x}<br>loss %{y:.4f}<extra></extra>")]
    return _figure(data, _layout("Train loss per step", 260, xaxis=_axis("step"), yaxis=_axis("train loss")))


# ------------------------------------------------------------------ decision surface
def _surface_image(grid: np.ndarray, task: str, discretize: bool) -> np.ndarray:
    """(G, G, 3) uint8 colours: class colour by probability (white = unsure)."""
    white = np.array([255, 255, 255], np.float32)
    if task == "multiclass":
        winner = grid.argmax(-1)
        k = grid.shape[-1]
        strength = np.ones(winner.shape, np.float32) if discretize else (grid.max(-1) - 1 / k) / (1 - 1 / k)
        colours = np.stack([_rgb(CLASS_COLOURS[c % 10]) for c in range(k)])[winner]
    else:
        value = grid if task == "binary" else np.clip(grid, -1, 1) / 2 + 0.5
        if discretize:
            value = (value > 0.5).astype(np.float32)
        strength = np.abs(value - 0.5) * 2
        colours = np.where((value > 0.5)[..., None], _rgb(BLUE), _rgb(ORANGE))
    strength = (0.15 + 0.85 * np.clip(strength, 0, 1))[..., None] * 0.75
    return (white + (colours - white) * strength).astype(np.uint8)


POINT_SIZE, POINT_RIM = 7, 1   # marker diameter and rim, CSS pixels
SURFACE_HEIGHT = 480
PLOT_PX = SURFACE_HEIGHT - MARGIN["t"] - MARGIN["b"]   # the plane's side on the page (it is square)
PICTURE_PX = 600               # the points picture's side: 1.5x the plot, sharp enough on dense screens
PICTURE_COLOURS = 64           # its palette: ~20 KB rather than ~55 KB with every shade of the edges


def decision_surface(grid: np.ndarray | None, domain: tuple[float, float], task: str,
                     train_xy: tuple[np.ndarray, np.ndarray] | None = None,
                     test_xy: tuple[np.ndarray, np.ndarray] | None = None,
                     discretize: bool = False, n_classes: int = 2,
                     points_picture: dict | None = None, title: str | None = None,
                     height: int | None = None) -> go.Figure:
    """The model's output over the plane, with the points on top (row i of grid = x2 ascending).

    With `points_picture` (see `points_picture`) the points are that one image rather than a
    marker each: what the live view sends while training, as a browser redraws 500 SVG markers
    in 100-200 ms and an image in a few. At rest the markers come back, with their hover."""
    lo, hi = domain
    data = []
    if grid is not None:
        step = (hi - lo) / (grid.shape[0] - 1)
        data.append({"type": "image", "source": _png_uri(_surface_image(np.asarray(grid), task, discretize)),
                     "x0": lo, "dx": step, "y0": lo, "dy": step, "hoverinfo": "skip", "name": "model output"})
    sets = [(xy, name, rim) for xy, name, rim in ((train_xy, "train points", "white"), (test_xy, "test points", "#222"))
            if xy is not None and len(xy[0])]
    if points_picture is None:
        data += [_points(xy, name, rim, task) for xy, name, rim in sets]
    data += [_legend_entry(xy, name, rim, task) for xy, name, rim in sets]
    xaxis = _axis("x1", range=[lo, hi], constrain="domain", showgrid=False, zeroline=False)
    yaxis = _axis("x2", range=[lo, hi], scaleanchor="x", scaleratio=1, showgrid=False, zeroline=False,
                  autorange=False)
    title = title or ("Decision surface" if task != "regression" else "Model output")
    layout = _layout(title, height or SURFACE_HEIGHT, showlegend=height is None, xaxis=xaxis, yaxis=yaxis)
    return _figure(data, {**layout, "images": [points_picture]} if points_picture else layout)


def _png_uri(picture: np.ndarray | Image.Image, compress_level: int = 1) -> str:
    """A small PNG instead of a JSON array: ~10x smaller, and quick to send 5 times a second."""
    buffer = io.BytesIO()
    picture = Image.fromarray(picture) if isinstance(picture, np.ndarray) else picture
    picture.save(buffer, format="PNG", compress_level=compress_level)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _point_colours(labels: np.ndarray, task: str) -> list[str]:
    """Each point's colour, as the markers' colour scale gives it."""
    labels = np.asarray(labels)
    if task != "regression":
        return [CLASS_COLOURS[int(label) % 10] for label in labels]
    top = float(np.abs(labels).max()) or 1.0 if len(labels) else 1.0
    t = np.clip(labels / top / 2 + 0.5, 0, 1)[:, None]
    low, mid, high = _rgb(ORANGE), _rgb("#f7f7f7"), _rgb(BLUE)
    rgb = np.where(t < 0.5, low + (mid - low) * (t * 2), mid + (high - mid) * (t * 2 - 1))
    return ["#%02x%02x%02x" % tuple(int(round(c)) for c in colour) for colour in rgb]


def points_picture(domain: tuple[float, float], task: str, train_xy: tuple[np.ndarray, np.ndarray],
                   test_xy: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """The points as one transparent PNG over the plane (a layout image for `decision_surface`),
    drawn like the markers: POINT_SIZE circles with a rim, in their colours, test points on top.
    Drawn at twice the size and shrunk, for smooth edges. The points do not change while a run
    trains: make it once per data set (~0.1 s)."""
    lo, hi = domain
    side = 2 * PICTURE_PX
    scale = side / PLOT_PX                                   # picture pixels per CSS pixel
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    radius = POINT_SIZE / 2 * scale
    for xy, rim in ((train_xy, "white"), (test_xy, "#222")):
        if xy is None:
            continue
        rim = "#555" if task == "regression" else rim
        plane = (np.asarray(xy[0], np.float64) - [lo, lo]) / (hi - lo) * side
        for (x, y), colour in zip(plane.tolist(), _point_colours(xy[1], task)):
            y = side - y                                        # image rows go down, x2 goes up
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour, outline=rim,
                         width=round(POINT_RIM * scale))
    picture = canvas.resize((PICTURE_PX, PICTURE_PX), Image.Resampling.BOX)
    picture = picture.quantize(PICTURE_COLOURS, method=Image.Quantize.FASTOCTREE)
    return {"source": _png_uri(picture, compress_level=9), "name": "points", "x": lo, "y": hi, "sizex": hi - lo,
            "sizey": hi - lo, "xref": "x", "yref": "y", "xanchor": "left", "yanchor": "top", "sizing": "stretch",
            "layer": "above"}


def _legend_entry(xy: tuple[np.ndarray, np.ndarray], name: str, rim: str, task: str) -> dict:
    """The legend's item for a set of points (the same whether they are markers or a picture):
    a marker in the first point's colour, as plotly would show it."""
    rim = "#555" if task == "regression" else rim
    marker = {"color": _point_colours(np.asarray(xy[1])[:1], task)[0], "size": POINT_SIZE,
              "line": {"color": rim, "width": POINT_RIM}}
    return {"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": name, "legendgroup": name,
            "marker": marker, "hoverinfo": "skip"}


def _points(xy: tuple[np.ndarray, np.ndarray], name: str, outline: str, task: str) -> dict:
    x, y = np.asarray(xy[0]), np.asarray(xy[1])
    if task == "regression":  # saturated at the largest target, with a dark rim so pale points show
        top = float(np.abs(y).max()) if len(y) else 1.0
        y = _wire(y, "f4")
        marker = {"color": y, "colorscale": DIVERGING, "cmin": -top, "cmax": top, "size": POINT_SIZE,
                  "line": {"color": "#555", "width": POINT_RIM}}
    else:  # class numbers on a stepped colour scale: much quicker than one colour string per point
        k = max(2, int(y.max()) + 1 if len(y) else 2)
        y = _wire(y, "i4")
        scale = [[i / (k - 1), CLASS_COLOURS[i % 10]] for i in range(k)]
        marker = {"color": y, "colorscale": scale, "cmin": 0, "cmax": k - 1, "size": POINT_SIZE,
                  "line": {"color": outline, "width": POINT_RIM}}
    return {"type": "scatter", "x": _wire(x[:, 0], "f4"), "y": _wire(x[:, 1], "f4"), "mode": "markers",
            "name": name, "legendgroup": name, "showlegend": False, "marker": marker, "customdata": y,
            "hovertemplate": "x1 %{x:.2f}, x2 %{y:.2f}<br>label %{customdata}<extra></extra>"}


# ------------------------------------------------------------------ network diagram
MAX_DRAWN = 32        # neurons drawn per layer; the rest are summarised
LINK_BUCKETS = 3      # magnitude buckets per sign: 6 link traces in all
MAX_PICTURED = 12     # layers up to this size show a picture per neuron


def network_diagram(layer_sizes: Sequence[int], weights: Sequence[np.ndarray],
                    input_names: Sequence[str] | None = None,
                    activations: Sequence[str] | None = None,
                    neuron_maps: Sequence[np.ndarray] | None = None,
                    dead: Sequence[np.ndarray] | None = None) -> go.Figure:
    """Columns of neurons, links coloured by the weight's sign and drawn thicker when larger.

    With `neuron_maps` (per column, (neurons, G, G) in [-1, 1]) each neuron of a small enough
    layer shows what it computes over the plane, as in TensorFlow Playground. With `dead` (per
    hidden layer, a mask of units never active on the data) dead units are crossed out in red
    and counted under their layer."""
    if not layer_sizes:
        return _hint("the network appears here", "Network", 320)
    positions = [_column(i, n) for i, n in enumerate(layer_sizes)]
    images = {i: _picture_column(maps, *positions[i]) for i, maps in enumerate(neuron_maps or ())
              if i < len(positions) and len(maps) == len(positions[i][1]) <= MAX_PICTURED}
    plain = [i for i in range(len(layer_sizes)) if i not in images]
    data = _link_traces(weights, positions) + [_neurons(*positions[i], layer_sizes[i]) for i in plain]
    data += _dead_marks(dead, positions)
    counts = [int(np.sum(mask)) for mask in dead or ()]
    layout = _layout("Network (blue: positive weight, orange: negative)", 400 if images else 340,
                     annotations=_diagram_notes(layer_sizes, positions, plain, input_names, activations, counts),
                     xaxis={"visible": False, "range": [-0.5, len(layer_sizes) - 0.5]},
                     yaxis={"visible": False, "range": [-0.2, 1.05]})
    return _figure(data, {**layout, "images": list(images.values())} if images else layout)


def _dead_marks(dead, positions) -> list[dict]:
    """A red cross beside each dead unit that is drawn (hidden columns only)."""
    xs, ys = [], []
    for layer, mask in enumerate(dead or ()):
        if layer + 1 >= len(positions) - 1:
            break
        x, y = positions[layer + 1]
        rows = np.flatnonzero(np.asarray(mask)[:len(y)])
        xs += [float(x[0]) + 0.16] * len(rows)
        ys += y[rows].tolist()
    if not xs:
        return []
    return [{"type": "scatter", "x": xs, "y": ys, "mode": "markers", "name": "dead unit", "showlegend": False,
             "hovertemplate": "dead: never active on the data<extra></extra>",
             "marker": {"symbol": "x-thin", "size": 14, "line": {"color": "#d62728", "width": 3}}}]


def _diagram_notes(layer_sizes, positions, plain, input_names, activations, dead_counts=()) -> list[dict]:
    """Layer labels under the columns, input names beside the inputs, "+N more" under big layers."""
    notes = [{"x": float(positions[i][0][0]), "y": float(positions[i][1].min()) - 0.06,
              "text": f"+{layer_sizes[i] - MAX_DRAWN} more", "showarrow": False}
             for i in plain if layer_sizes[i] > MAX_DRAWN]
    notes += [{"x": i, "y": -0.12, "text": label, "showarrow": False, "font": {"size": 13}}
              for i, label in enumerate(_layer_labels(layer_sizes, input_names, activations, dead_counts))]
    notes += [{"x": -0.08, "y": float(y), "text": name, "showarrow": False, "xanchor": "right", "font": {"size": 12}}
              for name, y in zip(input_names or (), positions[0][1])]
    return notes


def _neurons(xs: np.ndarray, ys: np.ndarray, size: int) -> dict:
    return {"type": "scatter", "x": _wire(xs, "f4"), "y": _wire(ys, "f4"), "mode": "markers", "showlegend": False,
            "hoverinfo": "skip",
            "marker": {"size": 16 if size <= 16 else 10, "color": "white", "line": {"color": "#555", "width": 1.5}}}


def _link_traces(weights: Sequence[np.ndarray], positions) -> list[dict]:
    biggest = max((np.abs(w).max() for w in weights if np.size(w)), default=1.0) or 1.0
    traces = []
    for sign, colour in ((1, BLUE), (-1, ORANGE)):
        for bucket in range(LINK_BUCKETS):
            xs, ys = _links(weights, positions, sign, bucket, biggest)
            if len(xs):
                traces.append({"type": "scatter", "x": _wire(xs, "f4"), "y": _wire(ys, "f4"), "mode": "lines",
                               "hoverinfo": "skip",
                               "showlegend": False, "line": {"color": colour, "width": 1 + 2.5 * bucket},
                               "opacity": 0.25 + 0.3 * bucket})
    return traces


def _picture_column(maps: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> dict:
    """One layout image per column: each neuron's map at its neuron, transparent between them.

    The image is as tall as the column of pictures and narrow, so "contain" fits it by height and
    each picture lands on its neuron (one PNG per column rather than one per neuron)."""
    maps = np.asarray(maps)
    side = maps.shape[-1]
    size = float(min(0.17, 0.85 * abs(ys[0] - ys[1]))) if len(ys) > 1 else 0.17   # picture height, y units
    top = float(ys.max()) + size / 2
    height = top - (float(ys.min()) - size / 2)
    px = side / size                                                               # pixels per y unit
    sheet = np.zeros((round(height * px), side, 4), np.uint8)
    colours = np.flip(_surface_image(maps, "regression", discretize=False), axis=1)  # row 0 = top
    for colour, y in zip(colours, ys.tolist()):
        row = min(round((top - y - size / 2) * px), len(sheet) - side)
        sheet[row:row + side, :, :3] = colour
        sheet[row:row + side, :, 3] = 255
    return {"source": _png_uri(sheet), "x": float(xs[0]), "y": top, "xref": "x", "yref": "y", "sizex": 0.5,
            "sizey": height, "xanchor": "center", "yanchor": "top", "sizing": "contain", "layer": "above"}


def _column(index: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    shown = min(size, MAX_DRAWN)
    ys = np.array([0.5]) if shown == 1 else np.linspace(0.95, 0.05, shown)
    return np.full(shown, float(index)), ys


def _links(weights, positions, sign, bucket, biggest) -> tuple[np.ndarray, np.ndarray]:
    """One line segment per link, as (x0, x1, NaN) triples: a NaN breaks the line."""
    xs, ys = [np.empty(0, np.float32)], [np.empty(0, np.float32)]
    for layer, w in enumerate(weights[:len(positions) - 1]):
        (x_in, y_in), (x_out, y_out) = positions[layer], positions[layer + 1]
        w = np.asarray(w)[:len(y_out), :len(y_in)]
        level = np.minimum((np.abs(w) / biggest * LINK_BUCKETS).astype(int), LINK_BUCKETS - 1)
        rows, cols = np.nonzero((np.sign(w) == sign) & (level == bucket))
        x = np.full((len(rows), 3), np.nan, np.float32)
        y = np.full((len(rows), 3), np.nan, np.float32)
        x[:, 0], x[:, 1] = x_in[0], x_out[0]
        y[:, 0], y[:, 1] = y_in[cols], y_out[rows]
        xs.append(x.ravel())
        ys.append(y.ravel())
    return np.concatenate(xs), np.concatenate(ys)


def _layer_labels(sizes, input_names, activations, dead_counts=()) -> list[str]:
    labels = [f"input ({sizes[0]})"]
    for i, size in enumerate(sizes[1:-1]):
        act = activations[i] if activations and i < len(activations) else ""
        dead = f", {dead_counts[i]} dead" if i < len(dead_counts) and dead_counts[i] else ""
        labels.append(f"{size} {act}".strip() + dead)
    return labels + [f"output ({sizes[-1]})"] if len(sizes) > 1 else labels


# ------------------------------------------------------------------ MNIST views
def _digit_labels(k: int, labels: Sequence[str] | None) -> list[str]:
    return list(labels) if labels is not None else [str(i) for i in range(k)]


def confusion_matrix(cm: np.ndarray, labels: Sequence[str] | None = None) -> go.Figure:
    cm = np.asarray(cm)
    names = _digit_labels(len(cm), labels)
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    heatmap = {"type": "heatmap", "z": _wire(share, "f8"), "x": names, "y": names, "colorscale": BLUES, "zmin": 0, "zmax": 1,
               "text": cm.tolist(), "texttemplate": "%{text}", "showscale": False,
               "hovertemplate": "true %{y}, predicted %{x}: %{text}<extra></extra>"}
    return _figure([heatmap], _layout("Confusion matrix (rows: true digit)", 460,
                                      xaxis=_axis("predicted", side="bottom", type="category"),
                                      yaxis=_axis("true", autorange="reversed", type="category")))


def per_class_accuracy(acc: np.ndarray, labels: Sequence[str] | None = None) -> go.Figure:
    acc = np.asarray(acc, np.float64)
    bars = {"type": "bar", "x": _digit_labels(len(acc), labels), "y": _wire(acc, "f8"), "marker": {"color": BLUE},
            "text": [f"{a:.1%}" for a in acc], "textposition": "outside",
            "hovertemplate": "digit %{x}: %{y:.2%}<extra></extra>"}
    return _figure([bars], _layout("Accuracy per digit", 300, xaxis=_axis("digit", type="category"),
                                   yaxis=_axis("accuracy", tickformat=".0%", range=[0, 1.1])))


def probability_bars(probs: np.ndarray, labels: Sequence[str] | None = None) -> go.Figure:
    probs = np.asarray(probs, np.float64)
    top = int(probs.argmax())
    bars = {"type": "bar", "x": _wire(probs, "f8"), "y": _digit_labels(len(probs), labels), "orientation": "h",
            "marker": {"color": [BLUE if i == top else "#b9c7d3" for i in range(len(probs))]},
            "text": [f"{p:.0%}" for p in probs], "textposition": "outside",
            "hovertemplate": "%{y}: %{x:.1%}<extra></extra>"}
    return _figure([bars], _layout("Class probability", 360,
                                   xaxis=_axis("probability", range=[0, 1.15], tickformat=".0%"),
                                   yaxis={"type": "category", "autorange": "reversed"}))


def _gray(z: np.ndarray, hover: str | None) -> dict:
    trace = {"type": "heatmap", "z": _wire(z, "f4"), "colorscale": GRAY, "zmin": 0, "zmax": 1, "showscale": False}
    return {**trace, "hovertemplate": hover} if hover else {**trace, "hoverinfo": "skip"}


def _picture_axes() -> dict:
    return {"xaxis": {"visible": False, "constrain": "domain"},
            "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"}}


def digit_image(image28: np.ndarray, title: str = "") -> go.Figure:
    image = np.asarray(image28, np.float32).reshape(28, 28)
    trace = _gray(image, "row %{y}, col %{x}: %{z:.2f}<extra></extra>")
    margin = {"l": 5, "r": 5, "t": 40 if title else 5, "b": 5, "autoexpand": False}
    return _figure([trace], _layout(title, 300, margin=margin, **_picture_axes()))


def digit_gallery(images: np.ndarray, true: Sequence[int], pred: Sequence[int], columns: int = 8) -> go.Figure:
    images = np.asarray(images, np.float32).reshape(-1, 28, 28)
    if not len(images):
        return _hint("no mistakes to show", "Mistakes", 200)
    rows = -(-len(images) // columns)
    sheet = np.ones((rows * 34, columns * 30), np.float32) * 0.15
    notes = []
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        sheet[r * 34 + 5:r * 34 + 33, c * 30 + 1:c * 30 + 29] = image
        notes.append({"x": c * 30 + 15, "y": r * 34 + 2, "text": f"{true[i]}→{pred[i]}", "showarrow": False,
                      "font": {"size": 12, "color": "#ffcc66"}})
    margin = {"l": 5, "r": 5, "t": 40, "b": 5, "autoexpand": False}
    layout = _layout("Mistakes: true → predicted", 90 + 70 * rows, margin=margin,
                     annotations=notes, **_picture_axes())
    return _figure([_gray(sheet, None)], layout)
