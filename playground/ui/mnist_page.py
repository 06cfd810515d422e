"""MNIST: train the tutorials' networks live, then see what they get right and wrong."""
from __future__ import annotations

import numpy as np
import streamlit as st

from datasets import mnist
from playground import charts
from playground import config as cfg
from playground.evaluation import per_class_accuracy
from playground.jobs import Job, MnistView, Snapshot
from playground.ui import common

PAGE = "mnist"
BASE = cfg.preset("784-100-10, SGD (tutorial)")
GALLERY = 32             # misread digits shown in the Mistakes tab
TABLE_ROWS = 200         # rows of the Predictions table
CURVES_EVERY = 1.0       # seconds between redraws of the curves while training
RESULTS_POLL = 2.0       # seconds between redraws of the result tabs while training
TABS = ("Confusion matrix", "Mistakes", "Look at one digit", "Predictions")


def render() -> None:
    common.apply_loaded_model(PAGE)
    job = common.get_job(PAGE)
    # The form starts from the session's run (e.g. the one the Draw page trained), not the tutorial.
    base = job.config if job is not None else BASE
    common.preset_picker(PAGE, cfg.MNIST_PRESETS)
    config, error = common.settings_form(PAGE, base, ("mnist",))
    st.title("MNIST handwritten digits")
    st.caption("Handwritten digits, 28x28 pixels each (70,000 in the full set). The network learns "
               "from the training digits and is tested on digits it has never seen.")
    common.lesson_banner()
    common.url_error(PAGE)
    if config is None:
        st.error(f"Fix the settings in the sidebar first: {error}")
        if job is not None:
            last_run(job)
        return
    common.classroom_link_maker(PAGE, config)
    shown_source = data_source(job, config)
    job = common.controls(PAGE, config)
    snap = job.snapshot()
    live_view(shown_source, snap.active)
    code_box(config)
    common.model_box(PAGE, job, ("mnist",))


def last_run(job: Job) -> None:
    """While the settings are invalid: the current run stays visible (and can be paused)."""
    snap = job.snapshot()
    if snap.active:
        st.button("Pause", icon=":material/pause:", key=f"{PAGE}:pause-anyway", on_click=job.pause)
    live_view("", snap.active)


# ------------------------------------------------------------------ data source
def data_source(job: Job | None, config: cfg.Config) -> str:
    """Where the digits come from; with the bundled sample, an offer to download the full set.
    Returns the source text shown here (the live view shows it only when it is new)."""
    done = st.session_state.pop(f"{PAGE}:downloaded", None)
    if done:
        st.success(done)
    snap = job.snapshot() if job is not None else None
    if snap is None or not snap.data_source:
        if not done and not (snap is not None and snap.active):   # while loading, the live view says
            st.caption("The digits load when you press Play: full MNIST if it is on this computer "
                       "or can be downloaded, else a small bundled sample.")
        return ""
    if not snap.used_sample:
        st.caption(f"Data: {snap.data_source}")
        return snap.data_source
    st.info(f"Data: the {snap.data_source}. With the full 60,000 training digits the same "
            "network reaches a higher accuracy.", icon=":material/info:")
    if st.button("Download full MNIST (≈11 MB)", icon=":material/download:", key=f"{PAGE}:download",
                 help="Downloads the four MNIST files once for this server; the run restarts on them."):
        download_full(config)
    return snap.data_source


def download_full(config: cfg.Config) -> None:
    names = list(mnist.FILES)
    bar = st.progress(0.0, text="downloading MNIST")

    def progress(name: str, done: int, total: int | None) -> None:
        index = names.index(name) if name in names else 0
        part = min(1.0, done / total) if total else 0.0
        bar.progress(min(1.0, (index + part) / len(names)), text=f"downloading {name}")

    try:
        mnist.fetch(mnist.cache_dir(), progress)
    except (mnist.MnistError, OSError) as e:
        bar.empty()
        st.error(f"The download did not work: {e}. Training goes on with the bundled sample.")
        return
    common.reset_job(PAGE, config)
    st.session_state[f"{PAGE}:downloaded"] = "Full MNIST is ready: press Play to train on all 60,000 digits."
    st.rerun()


# ------------------------------------------------------------------ live view
def live_view(shown_source: str, active: bool) -> None:
    """One live fragment: status and numbers every second while active, the curves and the
    result tabs on their own cadence while training."""
    def view(snap: Snapshot) -> None:
        status(snap, shown_source)
        curves(common.due(PAGE, "curves", CURVES_EVERY, snap))
        results(common.due(PAGE, "results", RESULTS_POLL, snap))
    common.live(PAGE, view, active, every=CURVES_EVERY)


def status(snap: Snapshot, shown_source: str) -> None:
    common.status_line(snap)
    if snap.status == "loading":
        if snap.progress is not None:
            st.progress(min(1.0, max(0.0, snap.progress)), text=snap.message or "downloading")
        else:
            st.caption(snap.message or "loading data")
    if snap.data_source and snap.data_source != shown_source:
        st.caption(f"Data: {snap.data_source}")
    common.metrics_strip(snap)
    if snap.active or 0 < snap.epoch_fraction < 1:
        epoch = min(snap.epoch + 1, snap.config.epochs)
        st.progress(min(1.0, max(0.0, snap.epoch_fraction)),
                    text=f"epoch {epoch} of {snap.config.epochs}: "
                         f"{snap.epoch_fraction:.0%} of the training digits seen")


def curves(snap: Snapshot) -> None:
    """Epoch curves change at epoch ends only: between them the same figures are sent again."""
    key = common.history_key(snap.history)
    left, right = st.columns(2)
    with left:
        common.chart(PAGE, "loss", key, lambda: charts.loss_curves(snap.history))
    with right:
        common.chart(PAGE, "acc", key, lambda: charts.accuracy_curves(snap.history))
    last = snap.step_losses[-1] if snap.step_losses else None
    common.chart(PAGE, "steps", (len(snap.step_losses), last),
                 lambda: charts.step_loss_curve([s for s, _ in snap.step_losses], [v for _, v in snap.step_losses]))


# ------------------------------------------------------------------ results
def results(snap: Snapshot) -> None:
    """The test-set tabs (new epochs bring new numbers)."""
    if snap.mnist is not None:
        result_tabs(snap)


def result_tabs(snap: Snapshot) -> None:
    view = snap.mnist
    wrong = np.flatnonzero(view.predicted != view.labels)
    st.subheader(f"What the network gets right and wrong (test set, after epoch {snap.epoch})")
    # Stateful tabs: the open one survives reruns (a new epoch, the end of training) and only it is drawn.
    confusion, mistakes, one, table = st.tabs(TABS, key=f"{PAGE}:tab", on_change="rerun")
    if confusion.open:
        with confusion:
            confusion_tab(view)
    if mistakes.open:
        with mistakes:
            mistakes_tab(view, wrong)
    if one.open:
        with one:
            one_digit(view, wrong)
    if table.open:
        with table:
            predictions_table(view, wrong)


def confusion_tab(view: MnistView) -> None:
    st.caption("Each row is a true digit, each column what the network said. "
               "The diagonal is right; everything else is a mix-up.")
    left, right = st.columns([1.2, 1])
    key = view.confusion.tobytes()      # both charts follow from the confusion counts
    with left:
        common.chart(PAGE, "cm", key, lambda: charts.confusion_matrix(view.confusion))
    with right:
        common.chart(PAGE, "pca", key, lambda: charts.per_class_accuracy(per_class_accuracy(view.confusion)))


def mistakes_tab(view: MnistView, wrong: np.ndarray) -> None:
    shown = wrong[:GALLERY]
    first = f"; the first {len(shown)}" if len(shown) else ""
    st.caption(f"{len(wrong):,} of {len(view.labels):,} test digits are misread{first} (true → predicted):")
    common.chart(PAGE, "gallery", (view.predicted,),
                 lambda: charts.digit_gallery(view.images[shown], view.labels[shown], view.predicted[shown]))


def one_digit(view: MnistView, wrong: np.ndarray) -> None:
    """The tutorials' view_classify: a test digit next to its ten class probabilities."""
    n = len(view.labels)
    key = f"{PAGE}:index"
    remember(key, int(wrong[0]) if len(wrong) else 0)          # start at a mistake: more to see
    if not 0 <= st.session_state[key] < n:                     # another data set since
        st.session_state[key] = 0
    pick, jump = st.columns([3, 1], vertical_alignment="bottom")
    index = int(pick.number_input(f"Test digit (0 to {n - 1})", min_value=0, max_value=n - 1, step=1, key=key))
    keep(key, index)
    jump.button("Next mistake", icon=":material/skip_next:", key=f"{PAGE}:next-mistake", width="stretch",
                disabled=not len(wrong), on_click=_next_mistake, args=(key, wrong))
    true, guess = int(view.labels[index]), int(view.predicted[index])
    confidence = float(view.probs[index].max())
    verdict = "right" if guess == true else "wrong"
    st.markdown(f"True digit **{true}**, the network says **{guess}** ({confidence:.0%} sure): **{verdict}**.")
    left, right = st.columns([1, 1.4])
    with left:
        common.chart(PAGE, "digit", (view.images, index),
                     lambda: charts.digit_image(view.images[index], f"test digit {index}: a {true}"))
    with right:
        common.chart(PAGE, "bars", (view.probs, index), lambda: charts.probability_bars(view.probs[index]))


def _next_mistake(key: str, wrong: np.ndarray) -> None:
    current = int(st.session_state.get(key) or 0)
    later = wrong[wrong > current]
    st.session_state[key] = int(later[0] if len(later) else wrong[0])


def remember(key: str, default) -> None:
    """A widget in a closed tab is not drawn, and Streamlit forgets its value: bring it back."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(f"{key}:kept", default)


def keep(key: str, value):
    st.session_state[f"{key}:kept"] = value
    return value


def predictions_table(view: MnistView, wrong: np.ndarray) -> None:
    key = f"{PAGE}:only-wrong"
    remember(key, False)
    mistakes_only = keep(key, st.toggle("Only mistakes", key=key))
    rows = (wrong if mistakes_only else np.arange(len(view.labels)))[:TABLE_ROWS]
    predicted = view.predicted[rows]
    st.caption(f"The first {len(rows):,} {'misread ' if mistakes_only else ''}test digits.")
    st.dataframe({"index": rows, "true": view.labels[rows], "predicted": predicted,
                  "confidence": view.probs[rows].max(1), "correct": predicted == view.labels[rows]},
                 hide_index=True, width="stretch",
                 column_config={"confidence": st.column_config.ProgressColumn(
                     "confidence", min_value=0.0, max_value=1.0, format="percent")})


# ------------------------------------------------------------------ code
def code_box(config: cfg.Config) -> None:
    try:
        common.code_box(config)
    except ImportError:
        st.caption("The code export is not available in this installation.")


if __name__ == "__main__":   # run as a page by st.navigation
    render()
