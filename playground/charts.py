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


def _plane_points(train_xy, test_xy, task: str, points_picture: dict | None) -> list[dict]:
    """The train and test points over a picture of the plane: markers, or (while training) only
    their legend entries, the points being one `points_picture`."""
    sets = [(xy, name, rim) for xy, name, rim in ((train_xy, "train points", "white"), (test_xy, "test points", "#222"))
            if xy is not None and len(xy[0])]
    markers = [] if points_picture is not None else [_points(xy, name, rim, task) for xy, name, rim in sets]
    return markers + [_legend_entry(xy, name, rim, task) for xy, name, rim in sets]


def _plane_axes(lo: float, hi: float) -> tuple[dict, dict]:
    """x1 and x2 over the square [lo, hi], one unit as long on both."""
    xaxis = _axis("x1", range=[lo, hi], constrain="domain", showgrid=False, zeroline=False)
    yaxis = _axis("x2", range=[lo, hi], scaleanchor="x", scaleratio=1, showgrid=False, zeroline=False,
                  autorange=False)
    return xaxis, yaxis


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
    data += _plane_points(train_xy, test_xy, task, points_picture)
    xaxis, yaxis = _plane_axes(lo, hi)
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


EDITOR_GRID = 41      # clickable spots per side of the points editor


def points_editor(domain: tuple[float, float], xy: np.ndarray, values: np.ndarray, task: str,
                  height: int = 420) -> go.Figure:
    """Your own points on the plane, and a fine grid of invisible spots to click: a click selects
    the spot (or point) under the mouse, and the page adds a point there (ConvNetJS-style)."""
    lo, hi = domain
    ticks = np.linspace(lo, hi, EDITOR_GRID)
    gx, gy = np.meshgrid(ticks, ticks)
    grid = {"type": "scatter", "x": _wire(gx.ravel(), "f4"), "y": _wire(gy.ravel(), "f4"), "mode": "markers",
            "name": "click to add", "showlegend": False, "marker": {"size": 11, "color": "#000", "opacity": 0.0},
            "hovertemplate": "add a point at x1 %{x:.2f}, x2 %{y:.2f}<extra></extra>"}
    data = [grid]
    if len(values):
        data.append(_points((np.asarray(xy), np.asarray(values)), "your points", "white", task))
    axis = {"range": [lo, hi], "zeroline": False, "showgrid": True, "gridcolor": "#eee", "fixedrange": True}
    margin = dict(MARGIN)
    layout = _layout(f"Your points: {len(values)}", height, xaxis={**axis, "title": {"text": "x1"}},
                     yaxis={**axis, "title": {"text": "x2"}}, hovermode="closest", clickmode="event+select",
                     dragmode=False, showlegend=False,
                     width=height - margin["t"] - margin["b"] + margin["l"] + margin["r"])   # a square plane
    return _figure(data, layout)


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


# ------------------------------------------------------------------ what each neuron does
def _neuron_colours() -> list[list]:
    """The network diagram's picture colours (`_surface_image` of values in [-1, 1]) as a colour
    scale: linear in |value| on each side of 0, so four stops give the same colours."""
    ends = _surface_image(np.array([-1.0, -1e-6, 1e-6, 1.0]), "regression", discretize=False)
    return [[stop, "rgb(%d,%d,%d)" % tuple(int(c) for c in colour)] for stop, colour in zip((0, 0.5, 0.5, 1), ends)]


NEURON_COLOURS = _neuron_colours()


def neuron_map(values: np.ndarray, domain: tuple[float, float], title: str,
               train_xy: tuple[np.ndarray, np.ndarray] | None = None,
               test_xy: tuple[np.ndarray, np.ndarray] | None = None, task: str = "binary",
               points_picture: dict | None = None, height: int = SURFACE_HEIGHT) -> go.Figure:
    """One neuron's output over the plane, enlarged (a (G, G) map in [-1, 1] from
    `evaluation.neuron_maps`, row i = x2 ascending): the network diagram's little picture in the
    same colours, smoothed, with its value on hover and the points optionally on top (as markers,
    or as `points_picture` while training, like `decision_surface`)."""
    values = np.asarray(values, np.float32)
    lo, hi = domain
    step = (hi - lo) / max(1, values.shape[0] - 1)
    data = [{"type": "heatmap", "z": _wire(values, "f4"), "x0": lo, "dx": step, "y0": lo, "dy": step,
             "zmin": -1, "zmax": 1, "colorscale": NEURON_COLOURS, "zsmooth": "best", "showscale": False,
             "name": "neuron output",
             "hovertemplate": "x1 %{x:.2f}, x2 %{y:.2f}<br>output %{z:.2f} (of its largest)<extra></extra>"}]
    data += _plane_points(train_xy, test_xy, task, points_picture)
    xaxis, yaxis = _plane_axes(lo, hi)
    layout = _layout(title, height, xaxis=xaxis, yaxis=yaxis)
    return _figure(data, {**layout, "images": [points_picture]} if points_picture else layout)


HISTOGRAM_BINS = 30
HISTOGRAM_COLUMNS = 4


def weight_histograms(weights: Sequence[np.ndarray], names: Sequence[str], bins: int = HISTOGRAM_BINS) -> go.Figure:
    """One small histogram of the weights per layer (counted here with numpy: the browser gets
    `bins` bars a layer, not every weight)."""
    weights = [np.asarray(w, np.float64).ravel() for w in weights]
    if not weights:
        return _hint("the weights of each layer appear here", "Weights per layer", 260)
    columns = min(HISTOGRAM_COLUMNS, len(weights))
    rows = -(-len(weights) // columns)
    height = 100 + 170 * rows
    margin = {**MARGIN, "l": 45, "b": 10}
    plot_px = height - margin["t"] - margin["b"]
    gap_x, title_y, ticks_y = 0.05, 24 / plot_px, 30 / plot_px   # room for each chart's title and ticks
    data, layout, notes = [], {}, []
    for i, (w, name) in enumerate(zip(weights, names)):
        counts, edges = np.histogram(w, bins=bins)
        r, c = divmod(i, columns)
        suffix = "" if i == 0 else str(i + 1)
        data.append({"type": "bar", "x": _wire((edges[:-1] + edges[1:]) / 2, "f8"), "y": _wire(counts, "i4"),
                     "width": _wire(np.diff(edges), "f8"), "name": name, "showlegend": False,
                     "xaxis": f"x{suffix}", "yaxis": f"y{suffix}", "marker": {"color": BLUE},
                     "hovertemplate": f"{name}<br>weight %{{x:.3f}}: %{{y}}<extra></extra>"})
        x0, x1 = c / columns + gap_x / 2, (c + 1) / columns - gap_x / 2
        y1 = 1 - r / rows - title_y
        y0 = 1 - (r + 1) / rows + ticks_y
        layout[f"xaxis{suffix}"] = {"domain": [x0, x1], "anchor": f"y{suffix}", "automargin": False,
                                    "tickfont": {"size": 11}, "nticks": 5}
        layout[f"yaxis{suffix}"] = {"domain": [y0, y1], "anchor": f"x{suffix}", "automargin": False,
                                    "tickfont": {"size": 11}, "nticks": 4}
        notes.append({"text": f"{name} ({len(w)})", "showarrow": False, "xref": "paper", "yref": "paper",
                      "x": (x0 + x1) / 2, "y": y1, "yanchor": "bottom", "font": {"size": 13}})
    return _figure(data, _layout("Weights per layer (how many weights have each value)", height,
                                 bargap=0, annotations=notes, margin=margin, **layout))


def gradient_norms(norms: np.ndarray | None, names: Sequence[str], epochs: Sequence[int] | None = None) -> go.Figure:
    """Each layer's weight-gradient norm over training, one line per layer on a log axis:
    `norms` is (epochs, layers), the RMS over each epoch's steps. Vanishing gradients show as
    the first layers' lines lying orders of magnitude below the last ones'."""
    title = "Gradient norm per layer (log scale)"
    if norms is None or not len(norms):
        return _hint("each layer's gradient norm appears here after an epoch", title, 320)
    norms = np.asarray(norms, np.float64)
    epochs = np.arange(1, len(norms) + 1) if epochs is None else np.asarray(epochs)
    keep = np.asarray(_thin(np.arange(len(norms))), np.int64)
    x, norms = epochs[keep], norms[keep]
    n = norms.shape[1]
    names = [names[j] if j < len(names) else f"layer {j + 1}" for j in range(n)]
    colours = plotly.colors.sample_colorscale("Viridis", [0.85 * j / max(1, n - 1) for j in range(n)])  # first: dark
    data = []
    for j, (name, colour) in enumerate(zip(names, colours)):
        y = np.where(norms[:, j] > 0, norms[:, j], np.nan)        # a log axis has no 0
        data.append(_line(x, y, name, colour, f"{name}<br>epoch %{{x}}<br>gradient norm %{{y:.3g}}<extra></extra>",
                          width=2))
    legend = {"orientation": "v", "x": 1.02, "y": 1, "xanchor": "left", "yanchor": "top"}
    yaxis = _axis("gradient norm", type="log", exponentformat="power")
    return _figure(data, _layout(title, 320, xaxis=_axis("epoch"), yaxis=yaxis, legend=legend,
                                 margin={**MARGIN, "r": 110}))


# ------------------------------------------------------------------ MNIST views
def _digit_labels(k: int, labels: Sequence[str] | None) -> list[str]:
    return list(labels) if labels is not None else [str(i) for i in range(k)]


def _long(names: Sequence[str]) -> bool:
    """Class names (not digits): the axes need room for them."""
    return max((len(str(n)) for n in names), default=0) > 2


def confusion_matrix(cm: np.ndarray, labels: Sequence[str] | None = None, what: str = "digit") -> go.Figure:
    """Counts of (true, predicted) test images; `labels` names the classes (default 0..k-1), `what`
    says what a class is ("digit", "class")."""
    cm = np.asarray(cm)
    names = _digit_labels(len(cm), labels)
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    heatmap = {"type": "heatmap", "z": _wire(share, "f8"), "x": names, "y": names, "colorscale": BLUES, "zmin": 0, "zmax": 1,
               "text": cm.tolist(), "texttemplate": "%{text}", "showscale": False,
               "hovertemplate": "true %{y}, predicted %{x}: %{text}<extra></extra>"}
    long = _long(names)
    margin = {**MARGIN, "l": 115, "b": 115} if long else dict(MARGIN)
    return _figure([heatmap], _layout(f"Confusion matrix (rows: true {what})", 500 if long else 460, margin=margin,
                                      xaxis=_axis("predicted", side="bottom", type="category",
                                                  **({"tickangle": -45} if long else {})),
                                      yaxis=_axis("true", autorange="reversed", type="category")))


def per_class_accuracy(acc: np.ndarray, labels: Sequence[str] | None = None, what: str = "digit") -> go.Figure:
    acc = np.asarray(acc, np.float64)
    names = _digit_labels(len(acc), labels)
    bars = {"type": "bar", "x": names, "y": _wire(acc, "f8"), "marker": {"color": BLUE},
            "text": [f"{a:.1%}" for a in acc], "textposition": "outside",
            "hovertemplate": f"{what} %{{x}}: %{{y:.2%}}<extra></extra>"}
    long = _long(names)
    xaxis = _axis(what, type="category", **({"tickangle": -45} if long else {}))
    return _figure([bars], _layout(f"Accuracy per {what}", 360 if long else 300, xaxis=xaxis,
                                   margin={**MARGIN, "b": 110} if long else dict(MARGIN),
                                   yaxis=_axis("accuracy", tickformat=".0%", range=[0, 1.1])))


def probability_bars(probs: np.ndarray, labels: Sequence[str] | None = None) -> go.Figure:
    probs = np.asarray(probs, np.float64)
    top = int(probs.argmax())
    names = _digit_labels(len(probs), labels)
    bars = {"type": "bar", "x": _wire(probs, "f8"), "y": names, "orientation": "h",
            "marker": {"color": [BLUE if i == top else "#b9c7d3" for i in range(len(probs))]},
            "text": [f"{p:.0%}" for p in probs], "textposition": "outside",
            "hovertemplate": "%{y}: %{x:.1%}<extra></extra>"}
    margin = {**MARGIN, "l": 105} if _long(names) else dict(MARGIN)
    return _figure([bars], _layout("Class probability", 360, margin=margin,
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


# ------------------------------------------------------------------ image sets: colour, class names, CNN views
MAX_FILTERS = 64      # filters drawn of a conv layer (the rest are counted in the title)
MAX_MAPS = 64         # feature maps drawn of a conv layer
SHEET_PX = 70 / 34    # CSS pixels per picture pixel in the galleries (as the MNIST gallery has it)


def _bytes(values: np.ndarray) -> np.ndarray:
    """[0, 1] -> 0..255 (rounded, clipped) as uint8."""
    return np.clip(np.rint(np.asarray(values, np.float32) * 255), 0, 255).astype(np.uint8)


def _hwc(image: np.ndarray) -> np.ndarray:
    """One image as (h, w) grey or (h, w, 3) colour, from (h, w), (1, h, w), (3, h, w) or a flat square."""
    image = np.asarray(image, np.float32)
    if image.ndim == 1:
        side = int(round(np.sqrt(image.size)))
        return image.reshape(side, side)
    if image.ndim == 3:
        return image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1)
    return image


def _picture_trace(picture: np.ndarray, hover: str | None) -> dict:
    """Grey (h, w) values in [0, 1] as a grey heatmap: with `hover`, of the values; without, of
    bytes (a quarter of the data; NaN, the gaps of a sheet, is white like the plot).
    Colour (h, w, 3) in [0, 1] as an image of bytes (plotly's rgb image, sent as a typed array)."""
    if picture.ndim == 2 and hover:
        return _gray(picture, hover)
    if picture.ndim == 2:
        return {"type": "heatmap", "z": _wire(_bytes(np.nan_to_num(picture, nan=1.0)), "u1"), "colorscale": GRAY,
                "zmin": 0, "zmax": 255, "showscale": False, "hoverinfo": "skip"}
    trace = {"type": "image", "z": _wire(_bytes(picture), "u1"), "colormodel": "rgb"}
    return {**trace, "hovertemplate": hover} if hover else {**trace, "hoverinfo": "skip"}


def _tile(pictures: np.ndarray, columns: int, gap: int, fill: float, top: int = 0) -> np.ndarray:
    """(n, h, w) or (n, h, w, 3) pictures in a grid, `gap` pixels apart (and `top` above each), on `fill`."""
    n, h, w = pictures.shape[:3]
    rows = -(-n // columns)
    sheet = np.full((rows * (top + h + gap) - gap, columns * (w + gap) - gap, *pictures.shape[3:]), fill, np.float32)
    for i, picture in enumerate(pictures):
        r, c = divmod(i, columns)
        y, x = r * (top + h + gap) + top, c * (w + gap)
        sheet[y:y + h, x:x + w] = picture
    return sheet


def image_picture(image: np.ndarray, title: str = "", height: int = 300) -> go.Figure:
    """One image in [0, 1]: grey ((h, w), (1, h, w)) or colour ((3, h, w), e.g. CIFAR-10), each
    pixel's value on hover."""
    picture = _hwc(image)
    hover = ("row %{y}, col %{x}: %{z:.2f}<extra></extra>" if picture.ndim == 2
             else "row %{y}, col %{x}: %{color}<extra></extra>")
    margin = {"l": 5, "r": 5, "t": 40 if title else 5, "b": 5, "autoexpand": False}
    return _figure([_picture_trace(picture, hover)], _layout(title, height, margin=margin, **_picture_axes()))


def image_gallery(images: np.ndarray, true: Sequence, pred: Sequence, columns: int = 8,
                  title: str = "Mistakes: true → predicted") -> go.Figure:
    """Test images (n, c, h, w) in a grid, grey or in colour, each under "true → predicted"
    (digits, or class names on two lines)."""
    images = np.asarray(images, np.float32)
    if not len(images):
        return _hint("no mistakes to show", "Mistakes", 200)
    pictures = np.stack([_hwc(image) for image in images])
    h, w = pictures.shape[1:3]
    named = _long([*true, *pred])
    band = 14 if named else 5                      # the label's room above each picture, in picture pixels
    sheet = _tile(pictures, columns, 1, 0.15, band)
    sheet = np.pad(sheet, ((0, 1), (1, 1), *(((0, 0),) if sheet.ndim == 3 else ())), constant_values=0.15)
    notes = []
    for i in range(len(pictures)):
        r, c = divmod(i, columns)
        text = f"{true[i]}<br>→ {pred[i]}" if named else f"{true[i]}→{pred[i]}"
        notes.append({"x": c * (w + 1) + 1 + (w - 1) / 2, "y": r * (band + h + 1) + (band - 1) / 2, "text": text,
                      "showarrow": False, "font": {"size": 10 if named else 12, "color": "#ffcc66"}})
    margin = {"l": 5, "r": 5, "t": 40, "b": 5, "autoexpand": False}
    height = 45 + round(len(sheet) * SHEET_PX)
    return _figure([_picture_trace(sheet, None)], _layout(title, height, margin=margin, annotations=notes,
                                                            **_picture_axes()))


def _scaled(values: np.ndarray, flat: float) -> np.ndarray:
    """Each item of (n, ...) scaled on its own to [0, 1] (its smallest value 0, its largest 1);
    an item that is the same everywhere becomes `flat`."""
    axes = tuple(range(1, values.ndim))
    low = values.min(axis=axes, keepdims=True)
    span = values.max(axis=axes, keepdims=True) - low
    return np.where(span > 0, (values - low) / np.where(span > 0, span, 1), flat).astype(np.float32)


def _sheet_figure(sheet: np.ndarray, title: str, cell: int, meta: dict) -> go.Figure:
    """A sheet of small pictures `cell` pixels apart, each about 40 CSS pixels tall."""
    margin = {"l": 5, "r": 5, "t": 45, "b": 5, "autoexpand": False}
    px = max(1.0, 40 / cell)
    height = 50 + max(60, round(len(sheet) * px))
    layout = _layout(title, height, margin=margin, meta=meta, **_picture_axes())
    return _figure([_picture_trace(sheet, None)], layout)


def conv_filters(weights: np.ndarray, columns: int = 16) -> go.Figure:
    """A conv layer's filters, weights (out, in, k, k), as small pictures: grey for one input
    channel, in colour (the filter's red, green and blue weights) for three (more: their mean,
    grey). Each filter is scaled on its own: its most negative weight black, its most positive
    white (a filter with one value throughout: mid grey). The first MAX_FILTERS are drawn."""
    w = np.asarray(weights, np.float32)
    if w.ndim != 4 or not len(w):
        return _hint("the filters appear here", "Filters", 200)
    out, c_in, kh, kw = w.shape
    shown = _scaled(w[:MAX_FILTERS], 0.5)
    pictures = np.moveaxis(shown, 1, -1) if c_in == 3 else shown.mean(1)
    columns = min(columns, len(pictures))
    sheet = _tile(pictures, columns, 1, np.nan if c_in != 3 else 1.0)
    more = f", the first {len(pictures)} shown" if out > len(pictures) else ""
    colour = "in colour: each filter's red, green and blue weights" if c_in == 3 else \
        "black: a filter's most negative weight, white: its most positive"
    title = f"{out} filters of {kh}x{kw}{more} ({colour})"
    meta = {"filters": out, "shown": len(pictures), "kernel": [kh, kw], "channels": c_in}
    return _sheet_figure(sheet, title, kh + 1, meta)


def feature_maps(maps: np.ndarray, title: str, columns: int = 16) -> go.Figure:
    """One conv layer's output for one image, (channels, h, w): each map a small grey picture
    scaled on its own (its smallest value black, its largest white; a map with one value
    throughout, e.g. all 0 after ReLU, black). The first MAX_MAPS are drawn."""
    maps = np.asarray(maps, np.float32)
    if maps.ndim != 3 or not len(maps):
        return _hint("the feature maps appear here", title, 200)
    shown = _scaled(maps[:MAX_MAPS], 0.0)
    columns = min(columns, len(shown))
    gap = max(1, shown.shape[1] // 8)
    sheet = _tile(shown, columns, gap, np.nan)
    more = f" (the first {len(shown)} of {len(maps)})" if len(maps) > len(shown) else ""
    meta = {"maps": len(maps), "shown": len(shown), "size": list(maps.shape[1:])}
    return _sheet_figure(sheet, f"{title}{more}", shown.shape[1] + gap, meta)
