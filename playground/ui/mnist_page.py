"""Images (MNIST, Fashion-MNIST, CIFAR-10): train the tutorials' networks live, then see what they
get right and wrong, and (for a CNN) its filters and feature maps (image_views.py)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from datasets import mnist
from playground import charts
from playground import config as cfg
from playground.evaluation import per_class_accuracy
from playground.jobs import Job, MnistView, Snapshot
from playground.ui import common, image_views
from playground.ui.image_views import class_names, keep, kind_word, noun, remember, with_article

PAGE = "mnist"           # the page's keys (job:mnist, mnist:hidden...), as before it showed other sets
BASE = cfg.preset("784-100-10, SGD (tutorial)")
GALLERY = 32             # misread images shown in the Mistakes tab
TABLE_ROWS = 200         # rows of the Predictions table
CURVES_EVERY = 1.0       # seconds between redraws of the curves while training
RESULTS_POLL = 2.0       # seconds between redraws of the result tabs while training
INSIDE = "Inside the CNN"
HEADINGS = {  # title, what the set is
    "mnist": ("MNIST handwritten digits", "Handwritten digits, 28x28 pixels each (70,000 in the full set). The "
              "network learns from the training digits and is tested on digits it has never seen."),
    "fashion_mnist": ("Fashion-MNIST clothes", "Photos of clothes, 28x28 grey pixels each (70,000 in the full "
                      "set), in ten classes from T-shirt/top to ankle boot: harder than digits. The network "
                      "learns from the training images and is tested on images it has never seen."),
    "cifar10": ("CIFAR-10 colour photos", "Small colour photos, 32x32 pixels each (60,000 in the full set), in "
                "ten classes: airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck. Much harder "
                "than digits: here a CNN's conv layers pay off (the tutorial's CNN reached 61% in 10 epochs)."),
}
SIZES = {"mnist": "≈11 MB", "fashion_mnist": "≈30 MB", "cifar10": "≈160 MB"}


def render() -> None:
    common.apply_loaded_model(PAGE)
    job = common.get_job(PAGE)
    # The form starts from the session's run (e.g. the one the Draw page trained), not the tutorial.
    base = job.config if job is not None else BASE
    common.preset_picker(PAGE, cfg.IMAGE_PRESETS)
    config, error = common.settings_form(PAGE, base, cfg.IMAGE_DATASETS)
    title, about = HEADINGS[(config or base).dataset]
    st.title(title)
    st.caption(about)
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
    common.model_box(PAGE, job, cfg.IMAGE_DATASETS)


def last_run(job: Job) -> None:
    """While the settings are invalid: the current run stays visible (and can be paused)."""
    snap = job.snapshot()
    if snap.active:
        st.button("Pause", icon=":material/pause:", key=f"{PAGE}:pause-anyway", on_click=job.pause)
    live_view("", snap.active)


# ------------------------------------------------------------------ data source
def data_source(job: Job | None, config: cfg.Config) -> str:
    """Where the images come from; with MNIST's bundled sample, an offer to download the full set.
    Returns the source text shown here (the live view shows it only when it is new)."""
    done = st.session_state.pop(f"{PAGE}:downloaded", None)
    if done:
        st.success(done)
    snap = job.snapshot() if job is not None else None
    if snap is None or not snap.data_source:
        quiet = done or (snap is not None and (snap.active or snap.status == "failed"))  # the live view says
        if not quiet and config.dataset == "mnist":
            st.caption("The digits load when you press Play: full MNIST if it is on this computer "
                       "or can be downloaded, else a small bundled sample.")
        elif not quiet:
            name = image_views.TITLES[config.dataset]
            st.caption(f"The images load when you press Play: {name} if it is on this computer, else it is "
                       f"downloaded once ({SIZES[config.dataset]}).")
        return ""
    if not snap.used_sample:
        st.caption(f"Data: {snap.data_source}")
        return snap.data_source
    st.info(f"Data: the {snap.data_source}. With the full 60,000 training digits the same "
            "network reaches a higher accuracy.", icon=":material/info:")
    if st.button("Download full MNIST (≈11 MB)", icon=":material/download:", key=f"{PAGE}:download",
                 help="Downloads the four MNIST files once for this server; the run restarts on them."):
        download_full(config if config.dataset == "mnist" else snap.config)
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
                         f"{snap.epoch_fraction:.0%} of the training {noun(snap.config.dataset)}s seen")


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
    view, dataset = snap.mnist, snap.config.dataset
    wrong = np.flatnonzero(view.predicted != view.labels)
    st.subheader(f"What the network gets right and wrong (test set, after epoch {snap.epoch})")
    labels = ["Confusion matrix", "Mistakes", f"Look at one {noun(dataset)}", "Predictions"]
    labels += [INSIDE] if snap.config.model == "cnn" else []
    # Stateful tabs: the open one survives reruns (a new epoch, the end of training) and only it is drawn.
    tabs = st.tabs(labels, key=f"{PAGE}:tab", on_change="rerun")
    views = (lambda: confusion_tab(view, dataset), lambda: mistakes_tab(view, wrong, dataset),
             lambda: one_image(view, wrong, dataset), lambda: predictions_table(view, wrong, dataset),
             lambda: image_views.inside_cnn(snap))
    for tab, draw in zip(tabs, views):
        if tab.open:
            with tab:
                draw()


def confusion_tab(view: MnistView, dataset: str) -> None:
    what = kind_word(dataset)
    st.caption(f"Each row is a true {what}, each column what the network said. "
               "The diagonal is right; everything else is a mix-up.")
    names = class_names(dataset)
    left, right = st.columns([1.2, 1])
    key = (dataset, view.confusion.tobytes())   # both charts follow from the confusion counts
    with left:
        common.chart(PAGE, "cm", key, lambda: charts.confusion_matrix(view.confusion, names, what))
    with right:
        common.chart(PAGE, "pca", key,
                     lambda: charts.per_class_accuracy(per_class_accuracy(view.confusion), names, what))


def mistakes_tab(view: MnistView, wrong: np.ndarray, dataset: str) -> None:
    shown = wrong[:GALLERY]
    names = np.array(class_names(dataset))
    first = f"; the first {len(shown)}" if len(shown) else ""
    verb = "misread" if dataset == "mnist" else "misclassified"
    st.caption(f"{len(wrong):,} of {len(view.labels):,} test {noun(dataset)}s are {verb}{first} (true → predicted):")
    common.chart(PAGE, "gallery", (view.probs, dataset),
                 lambda: charts.image_gallery(view.images[shown], names[view.labels[shown]],
                                              names[view.predicted[shown]]))


def one_image(view: MnistView, wrong: np.ndarray, dataset: str) -> None:
    """The tutorials' view_classify: a test image next to its ten class probabilities."""
    n, names, item = len(view.labels), class_names(dataset), noun(dataset)
    key = f"{PAGE}:index"
    remember(key, int(wrong[0]) if len(wrong) else 0)          # start at a mistake: more to see
    if not 0 <= st.session_state[key] < n:                     # another data set since
        st.session_state[key] = 0
    pick, jump = st.columns([3, 1], vertical_alignment="bottom")
    index = int(pick.number_input(f"Test {item} (0 to {n - 1})", min_value=0, max_value=n - 1, step=1, key=key))
    keep(key, index)
    jump.button("Next mistake", icon=":material/skip_next:", key=f"{PAGE}:next-mistake", width="stretch",
                disabled=not len(wrong), on_click=_next_mistake, args=(key, wrong))
    true, guess = names[int(view.labels[index])], names[int(view.predicted[index])]
    confidence = float(view.probs[index].max())
    verdict = "right" if guess == true else "wrong"
    st.markdown(f"True {kind_word(dataset)} **{true}**, the network says **{guess}** "
                f"({confidence:.0%} sure): **{verdict}**.")
    left, right = st.columns([1, 1.4])
    with left:
        common.chart(PAGE, "digit", (view.images, index),
                     lambda: charts.image_picture(view.images[index], f"test {item} {index}: "
                                                                      f"{with_article(true)}"))
    with right:
        common.chart(PAGE, "bars", (view.probs, index, dataset),
                     lambda: charts.probability_bars(view.probs[index], names))


def _next_mistake(key: str, wrong: np.ndarray) -> None:
    current = int(st.session_state.get(key) or 0)
    later = wrong[wrong > current]
    st.session_state[key] = int(later[0] if len(later) else wrong[0])


def predictions_table(view: MnistView, wrong: np.ndarray, dataset: str) -> None:
    key = f"{PAGE}:only-wrong"
    remember(key, False)
    mistakes_only = keep(key, st.toggle("Only mistakes", key=key))
    rows = (wrong if mistakes_only else np.arange(len(view.labels)))[:TABLE_ROWS]
    predicted = view.predicted[rows]
    names = np.array(class_names(dataset))
    st.caption(f"The first {len(rows):,} {'wrongly read ' if mistakes_only else ''}test {noun(dataset)}s.")
    st.dataframe({"index": rows, "true": names[view.labels[rows]], "predicted": names[predicted],
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
