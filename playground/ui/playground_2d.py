"""The 2D playground: pick a dataset and a network, press Play, watch the surface bend."""
from __future__ import annotations

import streamlit as st

from datasets import toy
from playground import charts
from playground import config as cfg
from playground.jobs import Snapshot
from playground.models import n_outputs
from playground.ui import common

PAGE = "2d"
SURFACE_EVERY = 0.5    # seconds between redraws while training: the decision surface, the star,
                       # and the live view's cadence (status and numbers)
CURVES_EVERY = 1.0     # loss and accuracy curves
NETWORK_EVERY = 2.0    # the network diagram (the heaviest chart)


@st.cache_data(max_entries=64, show_spinner=False)
def points(dataset: str, n_points: int, noise: float, test_ratio: float, seed: int):
    """The same split the training thread makes (cheap and deterministic): for drawing only."""
    split = toy.make_split(dataset, n_points, noise, test_ratio, seed)
    return (split.train.x, split.train.y), (split.test.x, split.test.y)


@st.cache_data(max_entries=16, show_spinner=False)
def points_picture(dataset: str, n_points: int, noise: float, test_ratio: float, seed: int, task: str,
                   show_test: bool) -> dict:
    """The points as one image, for the surface while training (made once per data set)."""
    train_xy, test_xy = points(dataset, n_points, noise, test_ratio, seed)
    return charts.points_picture(toy.DOMAIN, task, train_xy, test_xy if show_test else None)


def render() -> None:
    common.apply_loaded_model(PAGE)
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
    common.share_link(config)
    common.classroom_link_maker(PAGE, config)
    job = common.controls(PAGE, config)
    show_test = st.toggle("Show test data", value=False, key=f"{PAGE}:show-test")
    discretize = st.toggle("Discretize output", value=False, key=f"{PAGE}:discretize",
                           help="Show hard class regions instead of shaded probabilities")
    live_view(show_test, discretize, job.snapshot().active)
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
        network(common.due(PAGE, "network", NETWORK_EVERY, snap))
    common.live(PAGE, view, active, every=SURFACE_EVERY)


def status(snap: Snapshot) -> None:
    common.status_line(snap)
    common.metrics_strip(snap)


def surface(snap: Snapshot, show_test: bool, discretize: bool) -> None:
    """While training the points are one picture (cheap to redraw twice a second); at rest, markers."""
    config, training = snap.config, snap.status == "running"
    key = (snap.surface, config, show_test, discretize, training)

    def build():
        data = (config.dataset, config.n_points, config.noise, config.test_ratio, config.seed)
        train_xy, test_xy = points(*data)
        picture = points_picture(*data, config.task, show_test) if training else None
        return charts.decision_surface(snap.surface, toy.DOMAIN, config.task, train_xy, test_xy if show_test else None,
                                       discretize, toy.n_classes(config.dataset), points_picture=picture)
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


def _planned_sizes(config: cfg.Config) -> tuple[int, ...]:
    """Layer sizes before training starts (the diagram shows the net with no links yet)."""
    n_out = n_outputs(config.task, toy.n_classes(config.dataset), config.resolved_loss)
    return (2 + len(config.features), *config.hidden, n_out)


if __name__ == "__main__":   # run as a page by st.navigation
    render()
