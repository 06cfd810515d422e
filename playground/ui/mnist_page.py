"""MNIST: train the tutorials' networks live, then see what they get wrong."""
from __future__ import annotations

import numpy as np
import streamlit as st

from datasets import mnist
from playground import charts
from playground import config as cfg
from playground.evaluation import per_class_accuracy
from playground.jobs import Snapshot
from playground.ui import common

PAGE = "mnist"
BASE = cfg.preset("784-100-10, SGD (tutorial)")


def render() -> None:
    common.preset_picker(PAGE, cfg.MNIST_PRESETS)
    config, error = common.settings_form(PAGE, BASE, ("mnist",))
    st.title("MNIST handwritten digits")
    st.caption("Handwritten digits, 28x28 pixels each (70,000 in the full set). The network learns "
               "from the training digits and is tested on digits it has never seen.")
    common.url_error(PAGE)
    if config is None:
        st.error(f"Fix the settings in the sidebar first: {error}")
        return
    job = common.controls(PAGE, config)
    common.live(PAGE, view, job.snapshot().active)
    data_source(job.snapshot())
    results(job.snapshot())
    common.code_box(config)


def view(snap: Snapshot) -> None:
    common.status_line(snap)
    if snap.status == "loading" and snap.progress is not None:
        st.progress(min(1.0, snap.progress), text=snap.message)
    common.metrics_strip(snap)
    if snap.active:
        st.progress(min(1.0, snap.epoch_fraction), text=f"epoch {snap.epoch + 1}: "
                                                        f"{snap.epoch_fraction:.0%} of the training digits seen")
    left, right = st.columns(2)
    left.plotly_chart(charts.loss_curves(snap.history), key=f"{PAGE}-chart:loss", config={"displayModeBar": False})
    right.plotly_chart(charts.accuracy_curves(snap.history), key=f"{PAGE}-chart:acc", config={"displayModeBar": False})
    steps = [s for s, _ in snap.step_losses]
    st.plotly_chart(charts.step_loss_curve(steps, [v for _, v in snap.step_losses]), key=f"{PAGE}-chart:steps",
                    config={"displayModeBar": False})


def data_source(snap: Snapshot) -> None:
    if not snap.data_source:
        st.caption("The data loads when you press Play (full MNIST if it can be found or downloaded).")
        return
    if not snap.used_sample:
        st.caption(f"Data: {snap.data_source}")
        return
    st.info(f"Using the {snap.data_source}. Accuracy is lower than with the full 60,000 digits.")
    if st.button("Download full MNIST (about 11 MB)", key=f"{PAGE}:download"):
        bar = st.progress(0.0, text="downloading")

        def progress(name: str, done: int, total: int | None) -> None:
            bar.progress(min(1.0, done / total) if total else 0.0, text=f"downloading {name}")
        try:
            mnist.fetch(mnist.cache_dir(), progress)
        except mnist.MnistError as e:
            st.error(f"The download did not work: {e}")
            return
        common.reset_job(PAGE, snap.config)
        st.success("Full MNIST is ready: press Play to train on it.")


def results(snap: Snapshot) -> None:
    view = snap.mnist
    if view is None:
        return
    st.subheader("What the network gets right and wrong (test set)")
    tabs = st.tabs(["Confusion matrix", "Mistakes", "Look at one digit", "Predictions"])
    with tabs[0]:
        left, right = st.columns(2)
        left.plotly_chart(charts.confusion_matrix(view.confusion), key=f"{PAGE}-chart:cm")
        right.plotly_chart(charts.per_class_accuracy(per_class_accuracy(view.confusion)), key=f"{PAGE}-chart:pca")
    predicted = view.predicted
    wrong = np.flatnonzero(predicted != view.labels)
    with tabs[1]:
        st.caption(f"{len(wrong):,} of {len(view.labels):,} test digits are misread; the first 32:")
        shown = wrong[:32]
        st.plotly_chart(charts.digit_gallery(view.images[shown], view.labels[shown], predicted[shown]),
                        key=f"{PAGE}-chart:gallery")
    with tabs[2]:
        index = st.number_input("Test digit number", 0, len(view.labels) - 1, int(wrong[0]) if len(wrong) else 0,
                                key=f"{PAGE}:index")
        left, right = st.columns([1, 1.4])
        left.plotly_chart(charts.digit_image(view.images[index], f"true label: {view.labels[index]}"),
                          key=f"{PAGE}-chart:digit")
        right.plotly_chart(charts.probability_bars(view.probs[index]), key=f"{PAGE}-chart:bars")
    with tabs[3]:
        mistakes_only = st.toggle("Only mistakes", key=f"{PAGE}:only-wrong")
        rows = wrong if mistakes_only else np.arange(len(view.labels))
        rows = rows[:200]
        st.dataframe({"test digit": rows, "true": view.labels[rows], "predicted": predicted[rows],
                      "confidence": view.probs[rows].max(1).round(3), "correct": predicted[rows] == view.labels[rows]},
                     hide_index=True, width="stretch")


if __name__ == "__main__":   # run as a page by st.navigation
    render()
