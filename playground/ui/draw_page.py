"""Draw a digit: the bundled digit reader reads it as you draw, next to your own network."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from playground import charts, checkpoints, digits, reader
from playground import config as cfg
from playground.checkpoints import CheckpointError, Predictor
from playground.jobs import Snapshot
from playground.ui import common

log = logging.getLogger(__name__)

PAGE = "draw"
MNIST_PAGE = "mnist"
CANVAS_SIDE = 280
STROKE = 20             # at 280 px this is about MNIST's stroke at 28 px (2-3 px of the 20 px digit box)
TEST_IMAGE = "draw:test_image"    # tests put a drawing here instead of using the canvas
WAITING = "draw:waiting"          # set while the model this page asked for is training
UPLOADED = "draw:uploaded"        # the uploaded model (a Predictor)
PICK = "draw:model"               # the picker: "reader", "mnist" or "upload"
PENDING_PICK = "draw:pick-next"   # set by an upload, applied before the picker is drawn
NO_TOOLBAR = {"displayModeBar": False}
TRAIN_LABEL = "Train a good model for me (about 10-30 s)"


def render() -> None:
    st.title("Draw a digit")
    models = available_models()
    if not models:
        your_own_network(models)
        upload_model()
        return
    primary = pick_model(models)
    st.caption(f"Model: {primary.description}")
    still_training()
    left, right = st.columns([1, 1.3])
    with left:
        drawing = canvas()
    with right:
        image = read(drawing, primary)
    if image is not None and len(models) > 1:
        side_by_side(image, models)
    your_own_network(models)
    model_files(primary.predictor)


# ------------------------------------------------------------------ which models
@dataclass(frozen=True)
class Model:
    """A model the page can read drawings with."""
    key: str                 # "reader", "mnist" or "upload"
    label: str               # the picker's words
    description: str
    predictor: Predictor


def available_models() -> list[Model]:
    """The bundled reader, always; the MNIST page's network once it has one; an uploaded file."""
    try:
        models = [Model("reader", "Digit reader (bundled CNN)", bundled_description(), reader.load())]
    except (reader.ReaderMissingError, CheckpointError) as e:
        st.error(f"The digit reader could not be loaded: {e}")
        models = []
    mnist = mnist_model()
    if mnist is not None:
        models.append(mnist)
    uploaded = st.session_state.get(UPLOADED)
    if uploaded is not None:
        models.append(Model("upload", "Uploaded file", f"uploaded file ({describe(uploaded.config)})", uploaded))
    return models


def bundled_description() -> str:
    record = reader.record()
    acc = record.get("mnist_test_accuracy")
    made = f", {acc:.2%} on the MNIST test set" if acc else ""
    return (f"{reader.NAME}: {describe(reader.load().config)} trained with drawing-like "
            f"augmentation{made} (scripts/train_digit_reader.py)")


def mnist_model() -> Model | None:
    """The MNIST page's latest network (after its first epoch), unless this page is waiting
    for the one it asked for."""
    snap = _mnist_snapshot()
    if snap is None or snap.predictor is None or snap.config.dataset != "mnist":
        return None
    if snap.active and st.session_state.get(WAITING):
        return None          # the model trained for this page: wait until it is done
    st.session_state.pop(WAITING, None)
    last = snap.latest
    acc = f", test accuracy {last['test_acc']:.1%}" if last and last.get("test_acc") is not None else ""
    sample = " (bundled sample)" if snap.used_sample else ""
    return Model("mnist", "Your MNIST network", (
        f"the network trained on the MNIST page{sample}: {describe(snap.config)}, "
        f"{snap.epoch} epoch{'s' if snap.epoch != 1 else ''} done{acc}"), snap.predictor)


def pick_model(models: list[Model]) -> Model:
    """The picker (shown when there is a choice); the bundled reader unless a file was just uploaded."""
    by_key = {m.key: m for m in models}
    if st.session_state.get(PICK) not in by_key:
        st.session_state[PICK] = "upload" if "upload" in by_key else "reader"
    if PENDING_PICK in st.session_state:
        st.session_state[PICK] = st.session_state.pop(PENDING_PICK)
    if len(models) > 1:
        st.radio("Read with", list(by_key), format_func=lambda k: by_key[k].label, horizontal=True, key=PICK)
    return by_key[st.session_state[PICK]]


def _mnist_snapshot() -> Snapshot | None:
    """The Images page's run, when it learns digits (a Fashion-MNIST or CIFAR-10 one cannot read drawings)."""
    job = common.get_job(MNIST_PAGE)
    return job.snapshot() if job is not None and job.config.dataset == "mnist" else None


def describe(config: cfg.Config) -> str:
    dense = "-".join(map(str, config.hidden))
    if config.model == "cnn":
        conv = "-".join(block.split("-")[0] for block in config.conv)
        return f"CNN ({conv} conv{f', {dense} dense' if dense else ''})"
    return "-".join(map(str, (784, *config.hidden, 10))) + " MLP"


# ------------------------------------------------------------------ your own network
def your_own_network(models: list[Model]) -> None:
    """Train the MNIST page's draw-ready MLP here, to compare with the reader; its progress."""
    snap = _mnist_snapshot()
    if snap is not None and snap.active:
        if st.session_state.get(WAITING):
            st.info("Training your own network: it appears next to the digit reader when it is done.",
                    icon=":material/hourglass_top:")
            common.live(MNIST_PAGE, _training_progress, True)
        return
    st.session_state.pop(WAITING, None)
    if any(m.key == "mnist" for m in models):
        return
    if snap is not None and snap.status in ("failed", "diverged"):
        common.status_line(snap)
    st.markdown("#### Compare with a network you train\nTrain one on the Images page (MNIST), or here: the "
                "tutorial-style MLP then reads your drawing next to the digit reader.")
    other = common.get_job(MNIST_PAGE)
    if other is not None and other.config.dataset != "mnist":
        st.caption(f"The Images page's network learns {common.dataset_label(other.config.dataset)}, not digits, "
                   "so it cannot read a drawing. Training one here replaces it.")
    st.button(TRAIN_LABEL, icon=":material/bolt:", key=f"{PAGE}:train", on_click=train_for_me,
              help=f"{describe(cfg.preset(cfg.DRAW_PRESET))} with augmented digits, "
                   "trained on the Images page")


def train_for_me() -> None:
    """The MNIST page's job, with the draw-ready preset (its form shows these settings too)."""
    config = cfg.preset(cfg.DRAW_PRESET)
    common.set_widgets(MNIST_PAGE, config)
    st.session_state[f"{MNIST_PAGE}:preset"] = cfg.DRAW_PRESET
    st.session_state[WAITING] = True
    common.reset_job(MNIST_PAGE, config).play()


def _training_progress(snap: Snapshot) -> None:
    common.status_line(snap)
    if snap.status == "loading" and snap.progress is not None:
        st.progress(min(1.0, snap.progress), text=snap.message or "downloading")
    done = (snap.epoch + snap.epoch_fraction) / snap.config.epochs
    st.progress(min(1.0, max(0.0, done)), text=f"epoch {min(snap.epoch + 1, snap.config.epochs)} "
                                               f"of {snap.config.epochs}")


def still_training() -> None:
    """While the MNIST job goes on (and its model is shown), say so."""
    snap = _mnist_snapshot()
    if snap is None or not snap.active or st.session_state.get(WAITING):
        return

    def note(s: Snapshot) -> None:
        st.caption(f":material/hourglass_top: your MNIST network is still training (epoch "
                   f"{min(s.epoch + 1, s.config.epochs)} of {s.config.epochs}): it is updated after each epoch")
    common.live(MNIST_PAGE, note, True)


# ------------------------------------------------------------------ drawing
def canvas() -> np.ndarray | None:
    if TEST_IMAGE in st.session_state:
        return st.session_state[TEST_IMAGE]
    st.space("medium")                   # room for the canvas's own toolbar, which floats above it
    board = st.container()               # the canvas above, its buttons below
    clear, ink = st.columns([1, 2.5], vertical_alignment="center")
    clear.button("Clear", icon=":material/ink_eraser:", key=f"{PAGE}:clear", on_click=_clear)
    dark = ink.toggle("White ink on black (like MNIST)", value=True, key=f"{PAGE}:dark",
                      help="Off: black ink on white paper. Either way the digit is turned "
                           "white-on-black before the network reads it.")
    version = st.session_state.setdefault(f"{PAGE}:canvas-version", 0)
    try:
        from streamlit_drawable_canvas import st_canvas
        with board:
            result = st_canvas(stroke_width=STROKE, stroke_color="#ffffff" if dark else "#000000",
                               background_color="#000000" if dark else "#ffffff", width=CANVAS_SIDE,
                               height=CANVAS_SIDE, drawing_mode="freedraw", update_streamlit=True,
                               return_image_data=True,
                               key=f"{PAGE}:canvas-{version}-{'dark' if dark else 'light'}")
    except Exception:  # noqa: BLE001 - the component is optional: no traceback on the page
        log.exception("the drawing canvas could not be shown")
        board.warning("The drawing canvas could not be shown here.")
        return None
    return None if result is None else result.image_data


def _clear() -> None:
    """A new canvas key gives an empty canvas."""
    key = f"{PAGE}:canvas-version"
    st.session_state[key] = st.session_state.get(key, 0) + 1


def read(drawing: np.ndarray | None, model: Model) -> np.ndarray | None:
    """The drawing as the net sees it (28x28, the CLI's preprocessing), its ten probabilities,
    the verdict; returns the 28x28 image (None when there is nothing to read)."""
    if drawing is None:
        prompt()
        return None
    start = time.perf_counter()
    try:
        image = digits.to_mnist(drawing)
    except digits.EmptyDrawingError:
        prompt()
        return None
    except digits.ImageError as e:
        st.error(f"That drawing could not be read: {e}")
        return None
    reading = reader.read(model.predictor, image)
    ms = 1000 * (time.perf_counter() - start)
    if reading.sure:
        st.markdown(f"## It's a **{reading.digit}**\n{reading.confidence:.0%} sure.")
    else:
        st.markdown(f"## Not sure: is this a digit?\nMaybe a **{reading.digit}**, "
                    f"but only {reading.confidence:.0%} sure.")
    small, bars = st.columns([1, 1.5])
    small.plotly_chart(charts.digit_image(image, "what the net sees (28x28)"), key=f"{PAGE}-chart:seen",
                       config=NO_TOOLBAR)
    bars.plotly_chart(charts.probability_bars(reading.probabilities), key=f"{PAGE}-chart:bars",
                      config=NO_TOOLBAR)
    st.caption(f"read in {ms:.0f} ms" if ms >= 1 else f"read in {ms:.1f} ms")
    return image


def side_by_side(image: np.ndarray, models: list[Model]) -> None:
    """Every model's reading of the same drawing, next to each other."""
    st.subheader("Side by side: the same drawing, each model's reading")
    for column, model in zip(st.columns(len(models)), models):
        reading = reader.read(model.predictor, image)
        with column:
            st.markdown(f"**{model.label}**: {short_verdict(reading)}")
            st.caption(describe(model.predictor.config))
            st.plotly_chart(charts.probability_bars(reading.probabilities), config=NO_TOOLBAR,
                            key=f"{PAGE}-chart:compare-{model.key}")


def short_verdict(reading: reader.Reading) -> str:
    if reading.sure:
        return f"reads **{reading.digit}** ({reading.confidence:.0%} sure)"
    return f"not sure (maybe {reading.digit}, {reading.confidence:.0%})"


def prompt() -> None:
    st.markdown("### Draw a digit on the canvas\nOne digit, 0 to 9, as big as the box.")


# ------------------------------------------------------------------ model files
def model_files(predictor: Predictor) -> None:
    with st.expander("Save or load a model", icon=":material/save:"):
        st.download_button("Download this model (.pt)", predictor.to_bytes(), file_name="digits.pt",
                           mime="application/octet-stream", key=f"{PAGE}:download")
        upload_model()


def upload_model() -> None:
    upload = st.file_uploader("Upload a model saved with `python -m playground train --save` (.pt)",
                              type=["pt"], key=f"{PAGE}:upload")
    error_key, id_key = f"{PAGE}:upload-error", f"{PAGE}:upload-id"
    if upload is not None and st.session_state.get(id_key) != upload.file_id:
        st.session_state[id_key] = upload.file_id
        try:
            predictor = checkpoints.load(upload.getvalue())
            if predictor.config.dataset != "mnist":
                raise CheckpointError(f"that model was trained on {predictor.config.dataset}, not on digits")
        except CheckpointError as e:
            st.session_state[error_key] = f"That file was not used: {e}"
        else:
            st.session_state[error_key] = None
            st.session_state[UPLOADED] = predictor   # one uploaded model per session
            st.session_state[PENDING_PICK] = "upload"
            st.rerun()
    if st.session_state.get(error_key):
        st.error(st.session_state[error_key])


if __name__ == "__main__":   # run as a page by st.navigation
    render()
