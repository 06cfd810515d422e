"""Pure chart functions: plain data in, a plotly Figure out (no streamlit, no torch)."""
from __future__ import annotations

import base64
import io
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

ORANGE, BLUE = "#f59322", "#0877bd"   # TensorFlow Playground's class colours
CLASS_COLOURS = [ORANGE, BLUE, "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"]
FONT = dict(size=14)
DIVERGING = [[0.0, ORANGE], [0.5, "#f7f7f7"], [1.0, BLUE]]


def _layout(fig: go.Figure, title: str, height: int, **extra) -> go.Figure:
    extra.setdefault("margin", dict(l=50, r=15, t=40, b=40))
    # No template: Streamlit's theme styles the charts, and a template costs ~7 ms per figure.
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=16)), height=height, font=FONT,
                      plot_bgcolor="white", uirevision="keep", legend=dict(orientation="h", y=1.02, x=1, xanchor="right",
                                                     yanchor="bottom"), **extra)
    return fig


def _hint(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font=dict(size=15, color="#888"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], np.float32)


# ------------------------------------------------------------------ curves
MAX_CURVE_POINTS = 1000   # long runs are thinned for drawing (the last epoch is always kept)


def _thin(items: Sequence, limit: int = MAX_CURVE_POINTS) -> Sequence:
    if len(items) <= limit:
        return items
    step = -(-len(items) // limit)
    return list(items[::step]) + ([items[-1]] if (len(items) - 1) % step else [])


def loss_curves(history: Sequence[Mapping]) -> go.Figure:
    fig = go.Figure()
    history = _thin(history)
    if not history:
        return _layout(_hint(fig, "press Play to start training"), "Loss", 300)
    epochs = [h["epoch"] for h in history]
    for key, name, colour in (("train_loss", "train", BLUE), ("test_loss", "test", ORANGE)):
        values = [h.get(key) for h in history]
        if any(v is not None for v in values):
            fig.add_trace(go.Scatter(x=epochs, y=values, name=name, mode="lines",
                                     line=dict(color=colour, width=2.5),
                                     hovertemplate=f"epoch %{{x}}<br>{name} loss %{{y:.5f}}<extra></extra>"))
    finite = [v for h in history for v in (h.get("train_loss"), h.get("test_loss")) if v and v > 0]
    log_y = bool(finite) and max(finite) / min(finite) > 100
    fig.update_yaxes(type="log" if log_y else "linear", title="loss", dtick=1 if log_y else None)
    fig.update_xaxes(title="epoch")
    return _layout(fig, "Loss", 300)


def accuracy_curves(history: Sequence[Mapping]) -> go.Figure:
    fig = go.Figure()
    history = _thin(history)
    if not history or history[-1].get("test_acc") is None:
        note = "press Play to start training" if not history else "regression: see the loss (mean squared error)"
        return _layout(_hint(fig, note), "Accuracy", 300)
    epochs = [h["epoch"] for h in history]
    for key, name, colour in (("train_acc", "train", BLUE), ("test_acc", "test", ORANGE)):
        fig.add_trace(go.Scatter(x=epochs, y=[h.get(key) for h in history], name=name, mode="lines",
                                 line=dict(color=colour, width=2.5),
                                 hovertemplate=f"epoch %{{x}}<br>{name} accuracy %{{y:.2%}}<extra></extra>"))
    fig.update_yaxes(tickformat=".0%", title="accuracy", range=[None, 1.005])
    fig.update_xaxes(title="epoch")
    return _layout(fig, "Accuracy", 300)


def step_loss_curve(steps: Sequence[int], losses: Sequence[float], smoothing: float = 0.6) -> go.Figure:
    fig = go.Figure()
    if not len(steps):
        return _layout(_hint(fig, "the loss of each stretch of steps appears here"), "Train loss per step", 260)
    smooth, value = [], None
    for loss in losses:
        value = loss if value is None else smoothing * value + (1 - smoothing) * loss
        smooth.append(value)
    fig.add_trace(go.Scatter(x=list(steps), y=list(losses), name="raw", mode="lines",
                             line=dict(color=BLUE, width=1), opacity=0.3, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=list(steps), y=smooth, name="smoothed", mode="lines",
                             line=dict(color=BLUE, width=2.5),
                             hovertemplate="step %{x}<br>loss %{y:.4f}<extra></extra>"))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="train loss")
    return _layout(fig, "Train loss per step", 260)


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


def decision_surface(grid: np.ndarray | None, domain: tuple[float, float], task: str,
                     train_xy: tuple[np.ndarray, np.ndarray] | None = None,
                     test_xy: tuple[np.ndarray, np.ndarray] | None = None,
                     discretize: bool = False, n_classes: int = 2) -> go.Figure:
    """The model's output over the plane, with the points on top (row i of grid = x2 ascending)."""
    fig = go.Figure()
    lo, hi = domain
    if grid is not None:
        size = grid.shape[0]
        step = (hi - lo) / (size - 1)
        fig.add_trace(go.Image(source=_png_uri(_surface_image(np.asarray(grid), task, discretize)),
                               x0=lo, dx=step, y0=lo, dy=step, hoverinfo="skip", name="model output"))
    for xy, name, outline in ((train_xy, "train", "white"), (test_xy, "test", "#222")):
        if xy is not None and len(xy[0]):
            fig.add_trace(_points(xy, name, outline, task))
    fig.update_xaxes(range=[lo, hi], title="x1", constrain="domain", showgrid=False, zeroline=False)
    fig.update_yaxes(range=[lo, hi], title="x2", scaleanchor="x", scaleratio=1, showgrid=False,
                     zeroline=False, autorange=False)
    return _layout(fig, "Decision surface" if task != "regression" else "Model output", 480,
                   showlegend=True)


def _png_uri(rgb: np.ndarray) -> str:
    """A small PNG instead of a JSON array: ~10x smaller, and quick to send 5 times a second."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _points(xy: tuple[np.ndarray, np.ndarray], name: str, outline: str, task: str) -> go.Scatter:
    x, y = np.asarray(xy[0]), np.asarray(xy[1])
    if task == "regression":  # saturated at the largest target, with a dark rim so pale points show
        top = float(np.abs(y).max()) if len(y) else 1.0
        marker = dict(color=y, colorscale=DIVERGING, cmin=-top, cmax=top, size=7,
                      line=dict(color="#555", width=1))
    else:  # class numbers on a stepped colour scale: much quicker than one colour string per point
        k = max(2, int(y.max()) + 1 if len(y) else 2)
        scale = [[i / (k - 1), CLASS_COLOURS[i % 10]] for i in range(k)]
        marker = dict(color=y, colorscale=scale, cmin=0, cmax=k - 1, size=7, line=dict(color=outline, width=1))
    return go.Scatter(x=x[:, 0], y=x[:, 1], mode="markers", name=f"{name} points", marker=marker,
                        customdata=y, hovertemplate="x1 %{x:.2f}, x2 %{y:.2f}<br>label %{customdata}<extra></extra>")


# ------------------------------------------------------------------ network diagram
MAX_DRAWN = 32        # neurons drawn per layer; the rest are summarised
LINK_BUCKETS = 3      # magnitude buckets per sign: 6 link traces in all


def network_diagram(layer_sizes: Sequence[int], weights: Sequence[np.ndarray],
                    input_names: Sequence[str] | None = None,
                    activations: Sequence[str] | None = None,
                    neuron_maps: Sequence[np.ndarray] | None = None) -> go.Figure:
    """Columns of neurons, links coloured by the weight's sign and drawn thicker when larger.

    With `neuron_maps` (per column, (neurons, G, G) in [-1, 1]) each neuron of a small enough
    layer shows what it computes over the plane, as in TensorFlow Playground."""
    fig = go.Figure()
    if not layer_sizes:
        return _layout(_hint(fig, "the network appears here"), "Network", 320)
    positions = [_column(i, n) for i, n in enumerate(layer_sizes)]
    biggest = max((np.abs(w).max() for w in weights if w.size), default=1.0) or 1.0
    for sign, colour in ((1, BLUE), (-1, ORANGE)):
        for bucket in range(LINK_BUCKETS):
            xs, ys = _links(weights, positions, sign, bucket, biggest)
            if xs:
                fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                         line=dict(color=colour, width=1 + 2.5 * bucket),
                                         opacity=0.25 + 0.3 * bucket))
    pictured = _neuron_pictures(fig, positions, neuron_maps or ())
    for i, (size, (xs, ys)) in enumerate(zip(layer_sizes, positions)):
        if i in pictured:
            continue
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=16 if size <= 16 else 10, color="white",
                                             line=dict(color="#555", width=1.5))))
        if size > MAX_DRAWN:
            fig.add_annotation(x=xs[0], y=min(ys) - 0.06, text=f"+{size - MAX_DRAWN} more", showarrow=False)
    for i, label in enumerate(_layer_labels(layer_sizes, input_names, activations)):
        fig.add_annotation(x=i, y=-0.12, text=label, showarrow=False, font=dict(size=13))
    if input_names:
        for name, y in zip(input_names, positions[0][1]):
            fig.add_annotation(x=-0.08, y=y, text=name, showarrow=False, xanchor="right", font=dict(size=12))
    fig.update_xaxes(visible=False, range=[-0.5, len(layer_sizes) - 0.5])
    fig.update_yaxes(visible=False, range=[-0.2, 1.05])
    return _layout(fig, "Network (blue: positive weight, orange: negative)", 400 if pictured else 340)


MAX_PICTURED = 12     # layers up to this size show a picture per neuron


def _neuron_pictures(fig: go.Figure, positions, neuron_maps) -> set[int]:
    """Put each neuron's map at its place; returns the columns that got pictures."""
    pictured, images = set(), []
    for column, (maps, (xs, ys)) in enumerate(zip(neuron_maps, positions)):
        if len(maps) != len(ys) or len(ys) > MAX_PICTURED:
            continue
        gap = abs(ys[0] - ys[1]) if len(ys) > 1 else 1.0
        for values, x, y in zip(maps, xs, ys):
            rgb = np.flipud(_surface_image(values, "regression", discretize=False))  # row 0 = bottom
            images.append(dict(source=_png_uri(rgb), x=x, y=y, xref="x", yref="y", sizex=0.5,
                               sizey=min(0.17, 0.85 * gap), xanchor="center", yanchor="middle",
                               sizing="contain", layer="above"))
        pictured.add(column)
    fig.update_layout(images=images)   # one assignment: adding images one by one is ~5x slower
    return pictured


def _column(index: int, size: int) -> tuple[list[float], list[float]]:
    shown = min(size, MAX_DRAWN)
    ys = [0.5] if shown == 1 else list(np.linspace(0.95, 0.05, shown))
    return [float(index)] * shown, ys


def _links(weights, positions, sign, bucket, biggest) -> tuple[list, list]:
    xs: list = []
    ys: list = []
    for layer, w in enumerate(weights[:len(positions) - 1]):
        (x_in, y_in), (x_out, y_out) = positions[layer], positions[layer + 1]
        x0, x1 = x_in[0], x_out[0]
        w = np.asarray(w)[:len(y_out), :len(y_in)]
        level = np.minimum((np.abs(w) / biggest * LINK_BUCKETS).astype(int), LINK_BUCKETS - 1)
        rows, cols = np.nonzero((np.sign(w) == sign) & (level == bucket))
        for r, c in zip(rows, cols):
            xs += [x0, x1, None]
            ys += [y_in[c], y_out[r], None]
    return xs, ys


def _layer_labels(sizes, input_names, activations) -> list[str]:
    labels = [f"input ({sizes[0]})"]
    for i, size in enumerate(sizes[1:-1]):
        act = activations[i] if activations and i < len(activations) else ""
        labels.append(f"{size} {act}".strip())
    return labels + [f"output ({sizes[-1]})"] if len(sizes) > 1 else labels


# ------------------------------------------------------------------ MNIST views
def _digit_labels(k: int, labels: Sequence[str] | None) -> list[str]:
    return list(labels) if labels is not None else [str(i) for i in range(k)]


def confusion_matrix(cm: np.ndarray, labels: Sequence[str] | None = None) -> go.Figure:
    cm = np.asarray(cm)
    names = _digit_labels(len(cm), labels)
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(z=share, x=names, y=names, colorscale="Blues", zmin=0, zmax=1,
                               text=cm, texttemplate="%{text}", showscale=False,
                               hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_xaxes(title="predicted", side="bottom", type="category")
    fig.update_yaxes(title="true", autorange="reversed", type="category")
    return _layout(fig, "Confusion matrix (rows: true digit)", 460)


def per_class_accuracy(acc: np.ndarray, labels: Sequence[str] | None = None) -> go.Figure:
    acc = np.asarray(acc)
    names = _digit_labels(len(acc), labels)
    fig = go.Figure(go.Bar(x=names, y=acc, marker_color=BLUE, text=[f"{a:.1%}" for a in acc],
                           textposition="outside", hovertemplate="digit %{x}: %{y:.2%}<extra></extra>"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.1], title="accuracy")
    fig.update_xaxes(type="category", title="digit")
    return _layout(fig, "Accuracy per digit", 300)


def probability_bars(probs: np.ndarray, labels: Sequence[str] | None = None) -> go.Figure:
    probs = np.asarray(probs, np.float64)
    names = _digit_labels(len(probs), labels)
    top = int(probs.argmax())
    colours = [BLUE if i == top else "#b9c7d3" for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=probs, y=names, orientation="h", marker_color=colours,
                           text=[f"{p:.0%}" for p in probs], textposition="outside",
                           hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_xaxes(range=[0, 1.15], tickformat=".0%", title="probability")
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, "Class probability", 360)


def digit_image(image28: np.ndarray, title: str = "") -> go.Figure:
    image = np.asarray(image28, np.float32).reshape(28, 28)
    fig = go.Figure(go.Heatmap(z=image, colorscale="Gray", zmin=0, zmax=1, showscale=False,
                               hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return _layout(fig, title, 300, margin=dict(l=5, r=5, t=40 if title else 5, b=5))


def digit_gallery(images: np.ndarray, true: Sequence[int], pred: Sequence[int], columns: int = 8) -> go.Figure:
    images = np.asarray(images, np.float32).reshape(-1, 28, 28)
    fig = go.Figure()
    if not len(images):
        return _layout(_hint(fig, "no mistakes to show"), "Mistakes", 200)
    rows = -(-len(images) // columns)
    sheet = np.ones((rows * 34, columns * 30), np.float32) * 0.15
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        sheet[r * 34 + 5:r * 34 + 33, c * 30 + 1:c * 30 + 29] = image
        fig.add_annotation(x=c * 30 + 15, y=r * 34 + 2, text=f"{true[i]}→{pred[i]}", showarrow=False,
                           font=dict(size=12, color="#ffcc66"))
    fig.add_trace(go.Heatmap(z=sheet, colorscale="Gray", zmin=0, zmax=1, showscale=False, hoverinfo="skip"))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return _layout(fig, "Mistakes: true → predicted", 90 + 70 * rows, margin=dict(l=5, r=5, t=40, b=5))
