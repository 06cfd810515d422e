"""Your own 2D data on the 2D page: upload a CSV, or click on the plane to add points of a class
(as in ConvNetJS), clear them, download them. The points are the data of the datasets `custom`
(classes) and `custom_regression` (targets); they travel with the job, not in the settings."""
from __future__ import annotations

import numpy as np
import streamlit as st

from datasets import points as pts
from datasets import toy
from playground import charts
from playground import config as cfg

POINTS = "points"          # session_state suffix: the page's Points (None: none yet)


def key(page: str, name: str) -> str:
    return f"{page}:{name}"


def current(page: str) -> pts.Points | None:
    return st.session_state.get(key(page, POINTS))


def apply_pending(page: str) -> None:
    """At the top of the page, before the form and the job see the points: take a click on the
    plane, and let new points choose their dataset in the form (a widget's value can only be set
    before it is drawn)."""
    _take_click(page)
    dataset = st.session_state.pop(key(page, "points-dataset"), None)
    if dataset is not None:
        st.session_state[key(page, "dataset")] = dataset


def _take_click(page: str) -> None:
    """A click selects the spot under the mouse; the editor then gets a new key, so the next click
    is a new selection (even on the same spot) and this one is taken once."""
    clicks = st.session_state.get(key(page, "points-clicks"), 0)
    spot = clicked_spot(st.session_state.get(key(page, f"points-editor-{clicks}")))
    if spot is None:
        return
    st.session_state[key(page, "points-clicks")] = clicks + 1
    points = current(page) or pts.empty()
    if points.task == "regression":
        value = st.session_state.get(key(page, "points-target"), 1.0)
    else:
        value = st.session_state.get(key(page, "points-class")) or 0
    try:
        points = pts.add(points, *spot, value)
    except pts.PointsError as e:
        st.session_state[key(page, "points-message")] = ("warning", str(e))
        return
    st.session_state[key(page, POINTS)] = points
    st.session_state[key(page, "points-dataset")] = points.dataset


def for_config(page: str, config: cfg.Config) -> tuple[cfg.Config | None, pts.Points | None, str | None]:
    """(config, points, problem): with a custom dataset, the config sized to the page's points,
    or a problem to show instead of training."""
    if config.dataset not in cfg.CUSTOM_DATASETS:
        return config, None, None
    points = current(page)
    if points is None or len(points) < pts.MIN_POINTS:
        have = 0 if points is None else len(points)
        return None, None, (f"Your own data: upload a CSV file or click at least {pts.MIN_POINTS} points on the "
                            f"plane in **Your own data** below ({have} so far).")
    if points.dataset != config.dataset:
        return None, None, (f"Your points are {'targets' if points.task == 'regression' else 'classes'}: "
                            f"choose dataset {points.dataset}, or clear them and start again.")
    try:
        return config.replace(n_points=len(points)), points, None
    except cfg.ConfigError as e:
        return None, None, f"Fix the settings in the sidebar first: {e}"


def render(page: str, config: cfg.Config) -> None:
    """The 'Your own data' box: upload, click to add, clear, download."""
    custom = config.dataset in cfg.CUSTOM_DATASETS
    with st.expander("Your own data", icon=":material/scatter_plot:", expanded=custom):
        st.caption("A CSV file with the columns x1,x2,label (classes 0, 1, 2 ...) or x1,x2,target (numbers, "
                   "regression); the header is optional. Points are rescaled to fill the plane. Or click on "
                   "the plane below to add points.")
        _upload(page)
        if not custom:        # the plane to click on only with your own data (a full rerun draws it)
            st.button("Click your own points", icon=":material/ads_click:", key=key(page, "points-start"),
                      on_click=_start, args=(page, "classes"), help="An empty plane: click to add points")
            return
        points = current(page)
        task = points.task if points is not None else "classes"
        _value_picker(page, task, points)
        _editor(page, points, task)
        _buttons(page, points)


def _upload(page: str) -> None:
    upload = st.file_uploader("Upload points (.csv)", type=["csv", "txt"], key=key(page, "points-upload"))
    if upload is not None and st.session_state.get(key(page, "points-upload-id")) != upload.file_id:
        st.session_state[key(page, "points-upload-id")] = upload.file_id
        try:
            points = pts.parse_csv(upload.getvalue())
        except pts.PointsError as e:
            st.session_state[key(page, "points-message")] = ("error", f"{upload.name} was not used: {e}")
        else:
            use(page, points, f"Loaded {len(points)} points from {upload.name}")
            st.rerun()       # the form shows the points' dataset before it is drawn
    kind, message = st.session_state.pop(key(page, "points-message"), None) or (None, None)
    if kind:
        getattr(st, kind)(message)


def use(page: str, points: pts.Points, message: str = "") -> None:
    """Make `points` the page's data (and switch the form to their dataset on the next run)."""
    st.session_state[key(page, POINTS)] = points
    st.session_state[key(page, "points-dataset")] = points.dataset
    if message:
        classes = "targets" if points.task == "regression" else f"{points.n_classes} classes"
        st.session_state[key(page, "points-message")] = ("success", f"{message} ({classes}), dataset {points.dataset}.")


def _value_picker(page: str, task: str, points: pts.Points | None) -> None:
    if task == "regression":
        st.number_input("Target of the next point you click", value=1.0, step=0.5,
                               key=key(page, "points-target"))
    k = points.n_classes if points is not None and len(points) else 2
    choices = list(range(min(k + 1, pts.MAX_CLASSES)))
    st.segmented_control("Class of the next point you click", choices, default=0, key=key(page, "points-class"),
                         format_func=lambda c: f"class {c}" + (" (new)" if c == k else ""))


def _editor(page: str, points: pts.Points | None, task: str) -> None:
    """The plane to click on (a click is taken at the top of the next run: `_take_click`)."""
    clicks = st.session_state.get(key(page, "points-clicks"), 0)
    shown = points if points is not None else pts.empty(task)
    figure = charts.points_editor(toy.DOMAIN, shown.x, shown.y, "regression" if task == "regression" else "multiclass")
    st.plotly_chart(figure, key=key(page, f"points-editor-{clicks}"), on_select="rerun", selection_mode="points",
                    width="content", config={"displayModeBar": False})


def clicked_spot(selection) -> tuple[float, float] | None:
    """Where a click on the editor landed, from its selection state (None: no click)."""
    try:
        point = selection["selection"]["points"][0]
        x1, x2 = float(point["x"]), float(point["y"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return (x1, x2) if np.isfinite(x1) and np.isfinite(x2) else None


def _buttons(page: str, points: pts.Points | None) -> None:
    left, middle, right = st.columns(3)
    if points is not None and len(points):
        right.download_button("Download points.csv", points.to_csv(), file_name="points.csv", mime="text/csv",
                              icon=":material/download:", key=key(page, "points-download"),
                              help="The points as the app uses them; the code for this run reads this file")
    left.button("Clear points", icon=":material/delete:", key=key(page, "points-clear"), on_click=_clear,
                args=(page,), disabled=points is None or not len(points))
    task = "regression" if points is not None and points.task == "regression" else "classes"
    other = "classes" if task == "regression" else "regression"
    middle.button(f"Start {'class' if other == 'classes' else 'regression'} points", key=key(page, "points-kind"),
                  on_click=_start, args=(page, other), icon=":material/swap_horiz:",
                  help="Clear the points and click new ones: classes (labels) or targets (regression)")


def _clear(page: str) -> None:
    points = current(page)
    st.session_state[key(page, POINTS)] = pts.empty(points.task if points is not None else "classes")


def _start(page: str, task: str) -> None:
    points = current(page)
    keep = points is not None and points.task == task and st.session_state.get(key(page, "dataset")) != points.dataset
    st.session_state[key(page, POINTS)] = points if keep else pts.empty(task)   # back to points set aside
    st.session_state[key(page, "points-dataset")] = pts.DATASET_FOR_TASK[task]
