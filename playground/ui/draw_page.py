"""Draw a digit: the net trained on the MNIST page reads it as you draw."""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

from playground import charts, checkpoints, digits
from playground import config as cfg
from playground.checkpoints import CheckpointError, Predictor
from playground.ui import common

PAGE = "draw"
MNIST_PAGE = "mnist"
CANVAS_SIDE = 280
STROKE = 20             # at 280 px this is about MNIST's stroke at 28 px
UNSURE = 0.6            # below this confidence the page says it is not sure
TEST_IMAGE = "draw:test_image"   # tests put a drawing here instead of using the canvas


def render() -> None:
    st.title("Draw a digit")
    predictor, source = model_in_use()
    if predictor is None:
        offer_training()
        return
    st.caption(f"Model: {source}")
    left, right = st.columns([1, 1.3])
    with left:
        drawing = canvas()
    with right:
        read(drawing, predictor)
    model_files(predictor)


def model_in_use() -> tuple[Predictor | None, str]:
    uploaded = st.session_state.get(f"{PAGE}:uploaded")
    if uploaded is not None:
        return uploaded, f"uploaded file ({describe(uploaded.config)})"
    job = common.get_job(MNIST_PAGE)
    snap = job.snapshot() if job else None
    if snap is None or snap.predictor is None or snap.config.dataset != "mnist":
        return None, ""
    last = snap.latest
    acc = f", test accuracy {last['test_acc']:.1%}" if last and last.get("test_acc") is not None else ""
    return snap.predictor, f"trained on the MNIST page: {describe(snap.config)}, {snap.epoch} epochs{acc}"


def describe(config: cfg.Config) -> str:
    if config.model == "cnn":
        return f"CNN {'-'.join(map(str, config.channels))} conv"
    return "-".join(map(str, (784, *config.hidden, 10))) + " MLP"


def offer_training() -> None:
    job = common.get_job(MNIST_PAGE)
    snap = job.snapshot() if job else None
    if snap is not None and snap.active:
        st.info("Training a model for you: drawing opens when it finishes.")
        common.live(MNIST_PAGE, _training_progress, True)
        return
    st.info("There is no trained digit model in this session yet. Train one on the MNIST page, "
            "upload one, or let the app train a good one now.")
    if st.button("Train a good model for me (about 10-30 s)", type="primary", key=f"{PAGE}:train"):
        config = cfg.preset(cfg.DRAW_PRESET)
        common.set_widgets(MNIST_PAGE, config)
        common.reset_job(MNIST_PAGE, config).play()
        st.rerun()
    upload_model()


def _training_progress(snap) -> None:
    common.status_line(snap)
    done = (snap.epoch + snap.epoch_fraction) / snap.config.epochs
    st.progress(min(1.0, done), text=f"epoch {snap.epoch} of {snap.config.epochs}")


def canvas() -> np.ndarray | None:
    if TEST_IMAGE in st.session_state:
        return st.session_state[TEST_IMAGE]
    from streamlit_drawable_canvas import st_canvas
    dark = st.toggle("White ink on black (like MNIST)", value=True, key=f"{PAGE}:dark")
    version = st.session_state.setdefault(f"{PAGE}:canvas-version", 0)
    result = st_canvas(stroke_width=STROKE, stroke_color="#ffffff" if dark else "#000000",
                       background_color="#000000" if dark else "#ffffff", width=CANVAS_SIDE,
                       height=CANVAS_SIDE, drawing_mode="freedraw", update_streamlit=True,
                       return_image_data=True, key=f"{PAGE}:canvas-{version}-{dark}")
    if st.button("Clear", key=f"{PAGE}:clear"):
        st.session_state[f"{PAGE}:canvas-version"] = version + 1
        st.rerun()
    return None if result is None else result.image_data


def read(drawing: np.ndarray | None, predictor: Predictor) -> None:
    if drawing is None:
        st.markdown("### Draw a digit on the canvas")
        return
    start = time.perf_counter()
    try:
        image = digits.to_mnist(drawing)
    except digits.EmptyDrawingError:
        st.markdown("### Draw a digit on the canvas")
        return
    except digits.ImageError as e:
        st.error(str(e))
        return
    probs = predictor.proba(image)[0]
    ms = 1000 * (time.perf_counter() - start)
    digit, confidence = int(probs.argmax()), float(probs.max())
    if confidence < UNSURE:
        st.markdown(f"## Not sure: is this a digit? Maybe **{digit}** ({confidence:.0%})")
    else:
        st.markdown(f"## It's a **{digit}** ({confidence:.0%} sure)")
    small, bars = st.columns([1, 1.5])
    small.plotly_chart(charts.digit_image(image, "what the net sees"), key=f"{PAGE}-chart:seen")
    bars.plotly_chart(charts.probability_bars(probs), key=f"{PAGE}-chart:bars")
    st.caption(f"read in {ms:.1f} ms")


def model_files(predictor: Predictor) -> None:
    with st.expander("Save or load a model"):
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
