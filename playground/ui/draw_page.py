"""Draw a digit: the net trained on the MNIST page reads it as you draw."""
from __future__ import annotations

import logging
import time

import numpy as np
import streamlit as st

from playground import charts, checkpoints, digits
from playground import config as cfg
from playground.checkpoints import CheckpointError, Predictor
from playground.jobs import Snapshot
from playground.ui import common

log = logging.getLogger(__name__)

PAGE = "draw"
MNIST_PAGE = "mnist"
CANVAS_SIDE = 280
STROKE = 20             # at 280 px this is about MNIST's stroke at 28 px (2-3 px of the 20 px digit box)
UNSURE = 0.6            # below this confidence the page says it is not sure
TEST_IMAGE = "draw:test_image"    # tests put a drawing here instead of using the canvas
WAITING = "draw:waiting"          # set while the model this page asked for is training
NO_TOOLBAR = {"displayModeBar": False}
TRAIN_LABEL = "Train a good model for me (about 10-30 s)"


def render() -> None:
    st.title("Draw a digit")
    predictor, source = model_in_use()
    if predictor is None:
        offer_training()
        return
    st.caption(f"Model: {source}")
    still_training()
    left, right = st.columns([1, 1.3])
    with left:
        drawing = canvas()
    with right:
        read(drawing, predictor)
    model_files(predictor)


# ------------------------------------------------------------------ which model
def model_in_use() -> tuple[Predictor | None, str]:
    """An uploaded model, else the MNIST page's latest one (after its first epoch)."""
    uploaded = st.session_state.get(f"{PAGE}:uploaded")
    if uploaded is not None:
        return uploaded, f"uploaded file ({describe(uploaded.config)})"
    snap = _mnist_snapshot()
    if snap is None or snap.predictor is None or snap.config.dataset != "mnist":
        return None, ""
    if snap.active and st.session_state.get(WAITING):
        return None, ""          # the model trained for this page: wait until it is done
    st.session_state.pop(WAITING, None)
    last = snap.latest
    acc = f", test accuracy {last['test_acc']:.1%}" if last and last.get("test_acc") is not None else ""
    sample = " (bundled sample)" if snap.used_sample else ""
    return snap.predictor, (f"the network trained on the MNIST page{sample}: {describe(snap.config)}, "
                            f"{snap.epoch} epoch{'s' if snap.epoch != 1 else ''} done{acc}")


def _mnist_snapshot() -> Snapshot | None:
    job = common.get_job(MNIST_PAGE)
    return job.snapshot() if job is not None else None


def describe(config: cfg.Config) -> str:
    dense = "-".join(map(str, config.hidden))
    if config.model == "cnn":
        conv = "-".join(map(str, config.channels))
        return f"CNN ({conv} conv{f', {dense} dense' if dense else ''})"
    return "-".join(map(str, (784, *config.hidden, 10))) + " MLP"


# ------------------------------------------------------------------ no model yet
def offer_training() -> None:
    snap = _mnist_snapshot()
    if snap is not None and snap.active:
        if st.session_state.get(WAITING):
            st.info("Training a digit reader for you: the canvas opens when it is done.",
                    icon=":material/hourglass_top:")
        else:
            st.info("The MNIST page is training a network: the canvas opens after its first epoch.",
                    icon=":material/hourglass_top:")
        common.live(MNIST_PAGE, _training_progress, True)
        return
    st.session_state.pop(WAITING, None)
    if snap is not None and snap.status in ("failed", "diverged"):
        common.status_line(snap)
    st.info("There is no trained digit model in this session yet. Train one on the MNIST page, "
            "upload one, or let the app train a good one now.", icon=":material/info:")
    st.button(TRAIN_LABEL, type="primary", icon=":material/bolt:", key=f"{PAGE}:train", on_click=train_for_me,
              help=f"{describe(cfg.preset(cfg.DRAW_PRESET))} with augmented digits, "
                   "so it also reads hand-drawn ones")
    upload_model()


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
    if snap.predictor is not None and not st.session_state.get(WAITING):
        st.rerun()        # a model exists now: open the canvas


def still_training() -> None:
    """While the MNIST job goes on, say so; the page reloads the better model when it ends."""
    snap = _mnist_snapshot()
    if st.session_state.get(f"{PAGE}:uploaded") is not None or snap is None or not snap.active:
        return

    def note(s: Snapshot) -> None:
        st.caption(f":material/hourglass_top: still training (epoch {min(s.epoch + 1, s.config.epochs)} of "
                   f"{s.config.epochs}): the model is updated after each epoch")
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


def read(drawing: np.ndarray | None, predictor: Predictor) -> None:
    """The drawing as the net sees it (28x28, the CLI's preprocessing), its ten probabilities, the verdict."""
    if drawing is None:
        prompt()
        return
    start = time.perf_counter()
    try:
        image = digits.to_mnist(drawing)
    except digits.EmptyDrawingError:
        prompt()
        return
    except digits.ImageError as e:
        st.error(f"That drawing could not be read: {e}")
        return
    probs = predictor.proba(image)[0]
    ms = 1000 * (time.perf_counter() - start)
    digit, confidence = int(probs.argmax()), float(probs.max())
    if confidence < UNSURE:
        st.markdown(f"## Not sure: is this a digit?\nMaybe a **{digit}**, but only {confidence:.0%} sure.")
    else:
        st.markdown(f"## It's a **{digit}**\n{confidence:.0%} sure.")
    small, bars = st.columns([1, 1.5])
    small.plotly_chart(charts.digit_image(image, "what the net sees (28x28)"), key=f"{PAGE}-chart:seen",
                       config=NO_TOOLBAR)
    bars.plotly_chart(charts.probability_bars(probs), key=f"{PAGE}-chart:bars", config=NO_TOOLBAR)
    st.caption(f"read in {ms:.0f} ms" if ms >= 1 else f"read in {ms:.1f} ms")


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
            st.session_state[f"{PAGE}:uploaded"] = predictor   # one uploaded model per session
            st.rerun()
    if st.session_state.get(error_key):
        st.error(st.session_state[error_key])


if __name__ == "__main__":   # run as a page by st.navigation
    render()
