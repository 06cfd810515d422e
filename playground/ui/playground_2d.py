"""The 2D playground: pick a dataset and a network, press Play, watch the surface bend."""
from __future__ import annotations

import streamlit as st

from datasets import toy
from playground import charts
from playground import config as cfg
from playground.jobs import Snapshot
from playground.models import n_outputs
from playground.ui import common, points_box

PAGE = "2d"
SURFACE_EVERY = 0.5    # seconds between redraws while training: the decision surface, the star,
                       # and the live view's cadence (status and numbers)
CURVES_EVERY = 1.0     # loss and accuracy curves
NETWORK_EVERY = 2.0    # the network diagram (the heaviest chart) and the neuron looked at
DETAILS_EVERY = 2.0    # the training details (weight histograms, gradient norms), when shown
NO_NEURON = "(none)"


@st.cache_data(max_entries=16, show_spinner=False)
def points_picture(data: tuple, task: str, show_test: bool, _config: cfg.Config, _points) -> dict:
    """The points as one image, for the surface while training (made once per data set, `data`)."""
    train_xy, test_xy = common.toy_points(_config, _points)
    return charts.points_picture(toy.DOMAIN, task, train_xy, test_xy if show_test else None)


def render() -> None:
    common.apply_loaded_model(PAGE)
    points_box.apply_pending(PAGE)
    common.preset_picker(PAGE, cfg.TOY_PRESETS)
    job = common.get_job(PAGE)   # after a page switch the form comes back with this run's settings
    config, error = common.settings_form(PAGE, job.config if job else cfg.Config(), cfg.TOY_DATASETS)
    st.sidebar.button("Regenerate data", icon=":material/refresh:", on_click=_regenerate, key=f"{PAGE}:regenerate",
                      help="New random points (a new seed) and new starting weights")
    st.title("2D playground")
    st.caption("Each point is a training example. The colours behind them show what the network "
               "predicts everywhere on the plane: watch them bend as it learns.")
    common.lesson_banner()
    common.url_error(PAGE)
    if config is None:
        st.error(f"Fix the settings in the sidebar first: {error}")
        return
    chosen = config
    config, points, problem = points_box.for_config(PAGE, config)
    if problem:
        st.info(problem, icon=":material/scatter_plot:")
        points_box.render(PAGE, chosen)
        return
    common.share_link(config)
    common.classroom_link_maker(PAGE, config)
    job = common.controls(PAGE, config, points)
    show_test = st.toggle("Show test data", value=False, key=f"{PAGE}:show-test")
    discretize = st.toggle("Discretize output", value=False, key=f"{PAGE}:discretize",
                           help="Show hard class regions instead of shaded probabilities")
    live_view(show_test, discretize, job.snapshot().active)
    points_box.render(PAGE, config)
    common.code_box(config)
    common.model_box(PAGE, job, cfg.TOY_DATASETS)


def _regenerate() -> None:
    key = f"{PAGE}:seed"
    st.session_state[key] = (int(st.session_state.get(key, 0)) + 1) % cfg.KNOBS["seed"].high
    common.request_reset(PAGE)


# ------------------------------------------------------------------ live view
def live_view(show_test: bool, discretize: bool, active: bool) -> None:
    """One live fragment: status and numbers each run, each chart on its own cadence while training."""
    def view(snap: Snapshot) -> None:
        status(snap)
        left, right = st.columns([1.1, 1])
        with left:
            surface(common.due(PAGE, "surface", SURFACE_EVERY, snap), show_test, discretize)
        with right:
            curves(common.due(PAGE, "curves", CURVES_EVERY, snap))
        drawn = common.due(PAGE, "network", NETWORK_EVERY, snap)
        network(drawn)
        neuron(drawn, show_test)
        training_details(snap)
    common.live(PAGE, view, active, every=SURFACE_EVERY)


def status(snap: Snapshot) -> None:
    common.status_line(snap)
    common.metrics_strip(snap)


def surface(snap: Snapshot, show_test: bool, discretize: bool) -> None:
    """While training the points are one picture (cheap to redraw twice a second); at rest, markers."""
    config, training = snap.config, snap.status == "running"
    points = _job_points()
    key = (snap.surface, config, show_test, discretize, training, points.digest if points is not None else "")

    def build():
        data = (config.dataset, config.n_points, config.noise, config.test_ratio, config.seed,
                points.digest if points is not None else "")
        train_xy, test_xy = common.toy_points(config, points)
        picture = points_picture(data, config.task, show_test, config, points) if training else None
        return charts.decision_surface(snap.surface, toy.DOMAIN, config.task, train_xy, test_xy if show_test else None,
                                       discretize, common.n_classes(config, points), points_picture=picture)
    common.chart(PAGE, "surface", key, build)


def curves(snap: Snapshot) -> None:
    key = common.history_key(snap.history)
    common.chart(PAGE, "loss", key, lambda: charts.loss_curves(snap.history))
    common.chart(PAGE, "acc", key, lambda: charts.accuracy_curves(snap.history))


def network(snap: Snapshot) -> None:
    config = snap.config
    common.chart(PAGE, "network", (snap.layer_sizes, snap.weights, snap.neuron_maps, snap.dead_units, config),
                 lambda: charts.network_diagram(snap.layer_sizes or _planned_sizes(config), snap.weights,
                                                toy.feature_names(config.features), list(config.activations),
                                                snap.neuron_maps, snap.dead_units))


# ------------------------------------------------------------------ what each neuron does
def neuron(snap: Snapshot, show_test: bool) -> None:
    """Pick a hidden neuron: its little picture of the diagram, enlarged, with what it is."""
    config = snap.config
    sizes = snap.layer_sizes or _planned_sizes(config)
    choices = {f"layer {layer}, neuron {unit}": (layer, unit)
               for layer, size in enumerate(sizes[1:-1], 1) for unit in range(1, size + 1)}
    if not choices:
        return
    key = f"{PAGE}:neuron"
    if st.session_state.get(key, NO_NEURON) not in choices:
        st.session_state[key] = NO_NEURON            # e.g. after a reset to fewer layers
    label = st.selectbox("Look at a neuron", [NO_NEURON, *choices], key=key,
                         help="A hidden neuron's output over the plane, enlarged (its little square in the diagram)")
    if label == NO_NEURON:
        return
    layer, unit = choices[label]
    maps = snap.neuron_maps[layer] if layer < len(snap.neuron_maps) else None
    if maps is None or unit > len(maps):
        st.caption("Press Play or Step: the neuron's picture appears once the network has run.")
        return
    activation = config.activations[layer - 1] if layer - 1 < len(config.activations) else ""
    mask = snap.dead_units[layer - 1] if layer - 1 < len(snap.dead_units) else None
    dead = bool(mask is not None and unit - 1 < len(mask) and mask[unit - 1])
    left, right = st.columns([1.1, 1])
    with left:
        points = _job_points()
        training = snap.status == "running"
        digest = points.digest if points is not None else ""
        chart_key = (maps, unit, config, show_test, training, digest)

        def build():
            train_xy, test_xy = common.toy_points(config, points)
            data = (config.dataset, config.n_points, config.noise, config.test_ratio, config.seed, digest)
            picture = points_picture(data, config.task, show_test, config, points) if training else None
            return charts.neuron_map(maps[unit - 1], toy.DOMAIN, f"{label.capitalize()} ({activation})",
                                     train_xy, test_xy if show_test else None, config.task, points_picture=picture)
        common.chart(PAGE, "neuron", chart_key, build)
    with right:
        st.markdown(f"**{label.capitalize()}**  \nactivation: **{activation}**  \n" + (
            ":red[**dead**]: never active on the training data (its ReLU outputs 0 for every point), so no "
            "gradient reaches its weights and it has stopped learning" if dead else
            "alive" + ("" if activation == "relu" else f" (only ReLU units die; this one is {activation})")))
        weights = snap.weights[layer - 1] if layer - 1 < len(snap.weights) else None
        if weights is not None and unit - 1 < len(weights):
            inputs = toy.feature_names(config.features) if layer == 1 else \
                [f"layer {layer - 1}, neuron {i}" for i in range(1, weights.shape[1] + 1)]
            rows = "\n".join(f"| {name} | {w:+.3f} |" for name, w in zip(inputs, weights[unit - 1].tolist()))
            st.markdown(f"Its incoming weights:\n\n| from | weight |\n|---|---|\n{rows}")
        st.caption("Blue: the neuron's output is positive there, orange: negative, white: near 0; scaled "
                   "to its largest magnitude over the plane. The output layer's picture is the decision surface.")


def training_details(snap: Snapshot) -> None:
    """Weight histograms and each layer's gradient norm over training, behind a switch: nothing is
    built while it is off, and at most every DETAILS_EVERY seconds while it trains."""
    if not st.toggle("Training details", key=f"{PAGE}:details",
                     help="Each layer's weights as a histogram, and its gradient norm over training"):
        return
    snap = common.due(PAGE, "details", DETAILS_EVERY, snap)
    names = layer_names(len(snap.weights) or len(snap.layer_sizes) - 1)
    norms, history = snap.grad_norms, snap.history
    epochs = [h["epoch"] for h in history][-len(norms):] if norms is not None and len(history) >= len(norms) else None
    common.chart(PAGE, "gradients", (common.history_key(history), None if norms is None else norms.shape),
                 lambda: charts.gradient_norms(norms, names, epochs))
    st.caption("Gradient norm: the size of each layer's weight gradient, root mean square over each epoch's steps. "
               "In a deep sigmoid net (try 8 hidden layers of 8 sigmoid units) the first layers' lines lie orders "
               "of magnitude below the last ones': their gradients vanish, so they barely learn.")
    common.chart(PAGE, "weights", (snap.weights,), lambda: charts.weight_histograms(snap.weights, names))


def layer_names(n_linear: int) -> list[str]:
    """The weight layers as the neuron picker numbers them: layer 1... (into hidden layer 1...), output."""
    return [f"layer {i}" for i in range(1, n_linear)] + (["output"] if n_linear > 0 else [])


def _job_points():
    """The points the page's job trains on (custom datasets), None otherwise."""
    job = common.get_job(PAGE)
    return job.points if job is not None else None


def _planned_sizes(config: cfg.Config) -> tuple[int, ...]:
    """Layer sizes before training starts (the diagram shows the net with no links yet)."""
    n_out = n_outputs(config.task, common.n_classes(config, _job_points()), config.resolved_loss)
    return (2 + len(config.features), *config.hidden, n_out)


if __name__ == "__main__":   # run as a page by st.navigation
    render()
