"""Widgets shared by the pages: the generated settings form, the session's jobs, the controls
and the metrics strip. The only place besides the pages that imports streamlit."""
from __future__ import annotations

import gc
import os
import time
from typing import Any, Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import config as cfg
from playground import lesson as lessons
from playground.config import Config, ConfigError
from playground import workers
from playground.jobs import Job, Snapshot
from playground.ui import streamlit_speedups

workers.warm_up()   # training runs in worker processes: start them with the server

POLL_SECONDS = 0.5   # how often a page re-reads a running job's snapshot

STATUS_TEXT = {
    "idle": (":material/radio_button_unchecked:", "ready: press Play"),
    "queued": (":material/schedule:", "waiting for a free slot"),
    "loading": (":material/hourglass_top:", "loading data"),
    "running": (":green[:material/play_circle:]", "training"),
    "paused": (":material/pause_circle:", "paused"),
    "finished": (":green[:material/check_circle:]", "finished"),
    "diverged": (":material/error:", "diverged"),
    "stopped": (":material/pause_circle:", "stopped"),
    "failed": (":material/error:", "failed"),
}


# ------------------------------------------------------------- settings form
def settings_form(page: str, base: Config, datasets: tuple[str, ...],
                  hidden: frozenset[str] = frozenset()) -> tuple[Config | None, str | None]:
    """Sidebar widgets for every knob that applies, grouped Data / Network / Training,
    generated from config.py. Returns (config, None) or (None, what is wrong)."""
    _seed_from_url(page, base)
    lesson = current_lesson()
    if lesson is not None:
        hidden = hidden | lesson.hide
    values: dict[str, Any] = {}
    current = base
    for group in cfg.GROUPS:
        st.sidebar.subheader(group)
        for name, knob in cfg.KNOBS.items():
            if knob.group != group or name in hidden:
                continue
            if not _applies(name, current, values):
                continue
            values[name] = _widget(page, name, knob, base, datasets)
    try:
        return cfg.from_dict(values, base), None
    except ConfigError as e:
        st.sidebar.error(str(e))
        return None, str(e)


def _applies(name: str, base: Config, values: dict[str, Any]) -> bool:
    try:
        probe = base.replace(**{k: v for k, v in values.items() if k in ("dataset", "model", "optimizer", "init")})
    except ConfigError:
        probe = base
    return probe.applies(name)


def _key(page: str, name: str) -> str:
    return f"{page}:{name}"


def _widget(page: str, name: str, knob: cfg.Knob, base: Config, datasets: tuple[str, ...]) -> Any:
    key, label, kind = _key(page, name), cfg.label(name).capitalize(), cfg.kind_of(name)
    value = getattr(base, name)
    if key not in st.session_state:
        st.session_state[key] = _widget_value(name, value)
    side = st.sidebar
    if name == "dataset":
        return side.selectbox(label, datasets, key=key, help=knob.help, format_func=dataset_label)
    if kind == "str":
        return side.selectbox(label, knob.choices, key=key, help=knob.help)
    if kind == "bool":
        return side.toggle(label, key=key, help=knob.help)
    if kind == "strs" and name == "activation":
        return side.selectbox(label, knob.choices, key=key, help=knob.help) if \
            st.session_state[key] in knob.choices else side.text_input(label, key=key, help=knob.help)
    if kind == "strs":
        return side.multiselect(label, knob.choices, key=key, help=knob.help)
    if kind in ("ints", "convs"):
        return side.text_input(label, key=key, help=knob.help)
    if knob.step is not None:
        return side.slider(label, float(knob.low), float(knob.high), step=float(knob.step), key=key, help=knob.help)
    if kind == "int":
        return side.number_input(label, int(knob.low), int(knob.high), step=1, key=key, help=knob.help)
    return side.number_input(label, min_value=None, max_value=float(knob.high), step=None,
                             format="%g", key=key, help=knob.help)


def _widget_value(name: str, value: Any) -> Any:
    """The config value as its widget holds it."""
    kind = cfg.kind_of(name)
    if kind in ("ints", "convs"):
        return cfg.format_value(name, value)
    if name == "activation":
        return value[0] if len(value) == 1 else cfg.format_value(name, value)
    if kind == "strs":
        return list(value)
    return value


DATASET_LABELS = {"mnist": "MNIST (handwritten digits)", "fashion_mnist": "Fashion-MNIST (clothes)",
                  "cifar10": "CIFAR-10 (colour photos)"}


def dataset_label(name: str) -> str:
    """The dataset picker's words for a dataset (the 2D sets go by their names)."""
    return DATASET_LABELS.get(name, name)


def preset_picker(page: str, presets: dict[str, dict]) -> None:
    """A named starting point; choosing one fills the settings form."""
    key = f"{page}:preset"

    def apply() -> None:
        name = st.session_state[key]
        if name in presets:
            set_widgets(page, cfg.preset(name))
    st.sidebar.selectbox("Preset", ["(your settings)", *presets], key=key, on_change=apply,
                         help="Start from a known network; then change anything.")


def code_box(config: Config) -> None:
    """The standalone PyTorch script for these settings."""
    from playground import codegen
    with st.expander("Code for this run (standalone PyTorch)", icon=":material/code:"):
        script = codegen.script(config)
        st.download_button("Download train.py", script, file_name="train.py", mime="text/x-python")
        st.code(script, language="python")


def set_widgets(page: str, config: Config) -> None:
    """Put a config's values into the page's widgets (presets, URL links)."""
    for name in cfg.KNOBS:
        st.session_state[_key(page, name)] = _widget_value(name, getattr(config, name))


def _seed_from_url(page: str, base: Config) -> None:
    """On a session's first run, settings in the URL (?dataset=spiral&hidden=8,8) fill the form."""
    flag = f"{page}:url-read"
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    params = {k: v for k, v in st.query_params.to_dict().items() if k in cfg.KNOBS}
    if not params:
        return
    try:
        set_widgets(page, cfg.from_params(params, base))
    except ConfigError as e:
        st.session_state[f"{page}:url-error"] = f"The link's settings were not used: {e}"


def url_error(page: str) -> None:
    message = st.session_state.pop(f"{page}:url-error", None)
    if message:
        st.warning(message)


def share_link(config: Config) -> None:
    """Keep the address bar in step with the settings, so a copied URL reproduces the run (and,
    in a classroom link, the lesson)."""
    lesson = current_lesson()
    params = {**cfg.to_params(config), **(lessons.to_params(lesson) if lesson else {})}
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


# ------------------------------------------------------------- classroom links
def current_lesson() -> lessons.Lesson | None:
    """The classroom link this session was opened with (read once: the address bar changes)."""
    if "lesson" not in st.session_state:
        st.session_state["lesson"] = lessons.from_params(st.query_params.to_dict())
    return st.session_state["lesson"][0]


def lesson_banner() -> None:
    """The teacher's task, and what was wrong with the link."""
    lesson = current_lesson()
    problems = st.session_state["lesson"][1]
    if lesson is not None and lesson.task:
        st.info(f"**Task:** {plain(lesson.task)}", icon=":material/school:")
    if problems:
        st.warning("The classroom link: " + "; ".join(plain(p) for p in problems) + ".")


def plain(text: str) -> str:
    """Text from a link shown as itself, not as Markdown (no links, pictures or formatting)."""
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~$:" else c for c in text)


def classroom_link_maker(page: str, config: Config) -> None:
    """For the teacher: this page as it is, some controls hidden, a task -> a link and a QR code."""
    if current_lesson() is not None:
        return
    with st.sidebar.expander("Classroom link", icon=":material/school:"):
        hide = st.multiselect("Hide these controls", list(cfg.KNOBS), format_func=cfg.label, key=f"{page}:lesson-hide")
        task = st.text_area("Task for the students", key=f"{page}:lesson-task", max_chars=lessons.MAX_TASK,
                            placeholder="Find the smallest network that separates the spiral")
        lesson = lessons.Lesson(frozenset(hide), " ".join(task.split()))
        link = lesson_link(page, config, lesson)
        st.code(link, language=None, wrap_lines=True)
        st.image(lessons.qr_png(link), caption="Show this on the projector", width=200)


def lesson_link(page: str, config: Config, lesson: lessons.Lesson) -> str:
    import urllib.parse
    base = (getattr(st.context, "url", None) or "").split("?")[0]
    query = urllib.parse.urlencode({**cfg.to_params(config), **lessons.to_params(lesson)})
    return f"{base}?{query}"


# ------------------------------------------------------------- the session's jobs
def get_job(page: str) -> Job | None:
    return st.session_state.get(f"job:{page}")


def ensure_job(page: str, config: Config, weights: dict | None = None, points=None) -> Job:
    """The page's job for this config: live changes go to the running job; others need Reset."""
    job = get_job(page)
    if job is None:
        job = Job(config, data_dir=None, weights=weights, points=points)
        job.alive = _session_alive()
        st.session_state[f"job:{page}"] = job
    return job


def _session_alive():
    """A check the job's reaper can call from any thread: is this browser tab still connected?
    (A closed tab's training stops within seconds.) None outside a real server (AppTest)."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return None
    server, session_id = runtime.get_instance(), ctx.session_id
    return lambda: server.is_active_session(session_id)


def reset_job(page: str, config: Config, weights: dict | None = None, points=None) -> Job:
    old = get_job(page)
    if old is not None:
        old.close()
    st.session_state.pop(f"job:{page}", None)
    return ensure_job(page, config, weights, points)


# ------------------------------------------------------------- save and load a model
def model_box(page: str, job: Job, datasets: tuple[str, ...]) -> None:
    """Download the run's model; upload one (same safe loader as the Draw page) to look at it and
    to train on from its weights."""
    from playground import checkpoints
    with st.expander("Save or load the model", icon=":material/save:"):
        predictor = job.snapshot().predictor
        if predictor is not None:
            st.download_button("Download this model (.pt)", predictor.to_bytes(), file_name=f"{page}-model.pt",
                               mime="application/octet-stream", icon=":material/download:", key=f"{page}:model-download")
        else:
            st.caption("Press Play or Step first: then this run's model can be downloaded.")
        upload = st.file_uploader("Load a model saved here or with `python -m playground train --save` (.pt)",
                                  type=["pt"], key=f"{page}:model-upload")
        if upload is not None and st.session_state.get(f"{page}:model-upload-id") != upload.file_id:
            st.session_state[f"{page}:model-upload-id"] = upload.file_id
            try:
                loaded = checkpoints.load(upload.getvalue())
                checkpoints.require_dataset(loaded, datasets)
            except checkpoints.CheckpointError as e:
                st.session_state[f"{page}:model-message"] = ("error", f"That file was not used: {e}")
            else:
                st.session_state[f"{page}:model-loaded"] = (upload.name, loaded)
                st.rerun()      # the settings form takes the model's settings before it is drawn
        kind, message = st.session_state.get(f"{page}:model-message") or (None, None)
        if kind:
            getattr(st, kind)(message)


def apply_loaded_model(page: str) -> None:
    """At the top of the page: a model just loaded becomes the page's run (its settings, its
    weights), and its views are drawn at once."""
    pending = st.session_state.pop(f"{page}:model-loaded", None)
    if pending is None:
        return
    name, loaded = pending
    set_widgets(page, loaded.config)
    reset_job(page, loaded.config, weights=loaded.model.state_dict()).evaluate()
    st.session_state[f"{page}:model-message"] = (
        "success", f"Loaded {name}: press Play to train on from its weights, or look at what it does.")


def request_reset(page: str) -> None:
    """Reset the page's job on this run, before anything is drawn (for button callbacks)."""
    st.session_state[f"{page}:reset"] = True


def _command(page: str, action: str) -> None:
    """Button callbacks run before the page is drawn, so the buttons show the new state."""
    if action == "reset":
        request_reset(page)
        return
    job = get_job(page)
    if job is not None:
        getattr(job, action)()


def controls(page: str, config: Config, points=None) -> Job:
    """Play / Pause / Step / Reset, and the rule for changed settings (and changed points: the
    data of the custom datasets)."""
    if st.session_state.pop(f"{page}:reset", False):
        reset_job(page, config, points=points)
    job = ensure_job(page, config, points=points)
    snap = job.snapshot()
    new_points = _digest(job.points) != _digest(points)
    stale = cfg.needs_reset(job.config, config) or new_points
    if stale and snap.status == "idle":     # nothing trained yet: nothing to lose
        job, stale = reset_job(page, config, points=points), False
        snap = job.snapshot()
    if not stale and config != job.config:
        job.update(config)
    running = snap.active
    cols = st.columns([1, 1, 1, 1, 3])
    cols[0].button("Play", icon=":material/play_arrow:", key=f"{page}:play", type="primary", disabled=running or stale,
                   width="stretch", help="Train until the set number of epochs",
                   on_click=_command, args=(page, "play"))
    cols[1].button("Pause", icon=":material/pause:", key=f"{page}:pause", disabled=not running, width="stretch",
                   on_click=_command, args=(page, "pause"))
    cols[2].button("Step", icon=":material/skip_next:", key=f"{page}:step", disabled=running or stale, width="stretch",
                   help="Train one epoch, then pause", on_click=_command, args=(page, "step"))
    cols[3].button("Reset", icon=":material/restart_alt:", key=f"{page}:reset-button", width="stretch",
                   help="Start again from new random weights", on_click=_command, args=(page, "reset"))
    if stale:
        same = cfg.LIVE_FIELDS | {"epochs"} | ({"n_points"} if new_points else set())
        changed = cfg.describe(sorted(cfg.diff(job.config, config) - same))
        changed = ", ".join(filter(None, [changed, "your points" if new_points else ""]))
        cols[4].info(f"You changed {changed}: press Reset to apply.")
    return job


def _digest(points) -> str:
    return "" if points is None else points.digest


@st.cache_data(max_entries=64, show_spinner=False)
def _split_xy(dataset: str, n_points: int, noise: float, test_ratio: float, seed: int, digest: str, _points):
    import datasets
    config = cfg.from_dict(dict(dataset=dataset, n_points=n_points, noise=noise, test_ratio=test_ratio, seed=seed,
                                batch_size=1))
    split = datasets.load(config, points=_points)
    return (split.train.x, split.train.y), (split.test.x, split.test.y)


def toy_points(config: Config, points=None):
    """((train x, y), (test x, y)) of a 2D config, the same split the worker makes (cheap and
    deterministic: drawn, never trained on here); `points` are the custom datasets' data."""
    custom = config.dataset in cfg.CUSTOM_DATASETS
    return _split_xy(config.dataset, config.n_points, config.noise, config.test_ratio, config.seed,
                     _digest(points) if custom else "", points if custom else None)


def n_classes(config: Config, points=None) -> int:
    from datasets import toy
    return points.n_classes if config.dataset in cfg.CUSTOM_DATASETS and points is not None else \
        toy.n_classes(config.dataset)


# ------------------------------------------------------------- status and metrics
def status_line(snap: Snapshot) -> None:
    icon, text = STATUS_TEXT.get(snap.status, ("", snap.status))
    if snap.status == "queued":
        text = _queue_text(snap.queue_position, getattr(snap, "queue_eta", None)) or text
    detail = f": {snap.message}" if snap.message and snap.status in ("diverged", "failed") else ""
    line = f"{icon} **{text}**{detail}"
    if snap.status in ("diverged", "failed"):
        st.error(line)
    else:
        st.markdown(line)


def _queue_text(position: int | None, eta: float | None) -> str:
    """"waiting for a free slot (position 2, starts in about 40 s)"; "" when nothing is known."""
    parts = [f"position {position}"] if position else []
    if eta is not None:
        parts.append(f"starts in about {max(1, round(eta))} s")
    return f"waiting for a free slot ({', '.join(parts)})" if parts else ""


def metrics_strip(snap: Snapshot) -> None:
    last = snap.latest or {}
    regression = snap.config.task == "regression"
    cols = st.columns(6)
    cols[0].metric("Epoch", f"{snap.epoch} / {snap.config.epochs}")
    cols[1].metric("Train loss", _fmt(last.get("train_loss")))
    cols[2].metric("Test loss", _fmt(last.get("test_loss")))
    if regression:
        cols[3].metric("Steps", f"{snap.steps:,}")
    else:
        cols[3].metric("Test accuracy", _pct(last.get("test_acc")),
                       help=f"train accuracy {_pct(last.get('train_acc'))}")
    cols[4].metric("Steps / s", f"{snap.steps_per_second:,.0f}" if snap.steps_per_second else "–")
    cols[5].metric("Device", snap.device or "–")


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.4f}" if x >= 1e-3 else f"{x:.2e}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


# ------------------------------------------------------------- the live view
# A running page's live view is ONE st.fragment: status, numbers and charts. It reruns every
# `every` seconds while the job trains (the page's fastest part), every STATUS_EVERY while it waits,
# never at rest; when the job's phase changes (queued -> training -> finished...) it redraws the
# whole page once, which declares it again with the new phase's cadence. One fragment, because a
# full rerun requested by one fragment while other fragments' timers fire crashed pages in
# Chromium ("Cannot set a node at a delta path", streamlit#15084-like). Parts with a slower
# cadence draw the snapshot they drew last (`due`), so their cached chart is sent again unchanged:
# sending a cached figure costs ~0.3-0.9 ms, a fragment run itself ~7 ms.
STATUS_EVERY = {"queued": 1.0, "loading": POLL_SECONDS, "running": 1.0}
DUE_SLACK = 0.1        # a part due every 1 s in a 0.5 s view is redrawn every other run, not every third
NO_TOOLBAR = {"displayModeBar": False}
LIVE_LOG = "PLAYGROUND_LIVE_LOG"   # a file: each live refresh appends "time page part thread-ms" (measuring)


def phase(snap: Snapshot) -> str:
    """"training", "waiting" (queued, loading) or "resting": what the live view polls for."""
    return "training" if snap.status == "running" else "waiting" if snap.active else "resting"


def cadence(snap: Snapshot, every: float | None = None) -> float | None:
    """Seconds between runs of the live view: `every` while training, STATUS_EVERY while waiting,
    None (no polling) at rest."""
    if not snap.active:
        return None
    if phase(snap) == "training" and every is not None:
        return every
    return STATUS_EVERY.get(snap.status, POLL_SECONDS)


def live(page: str, body: Callable[[Snapshot], None], active: bool, every: float | None = None) -> None:
    """The live view: `body(snapshot)` now, and again while the job is active (see `cadence`);
    the whole page is redrawn once when the job's phase changes."""
    job = get_job(page)
    drawn = job.snapshot() if job is not None else None
    run_every = cadence(drawn, every) if active and drawn is not None else None

    @st.fragment(run_every=run_every)
    def _live() -> None:
        job = get_job(page)
        if job is None:
            return
        snap = job.snapshot()
        _measured(page, "live", body, snap)
        if not snap.active:
            keep_page_run(page, job, snap)     # once per stretch of training
        if run_every is not None and (phase(snap) != phase(drawn) or not snap.active):
            st.rerun()   # e.g. queued -> training: the view polls faster; training ended: buttons
    _live()


KEPT = "runs:kept"      # session_state: the session's kept runs (race.record dicts), newest last
MAX_KEPT = 30
PAGE_NAMES = {"2d": "2D", "mnist": "Images"}


def kept_runs() -> list[dict]:
    return st.session_state.get(KEPT, [])


def keep_run(record: dict) -> None:
    """Keep a run to compare (the Race and compare page), numbered in the order kept."""
    kept = st.session_state.setdefault(KEPT, [])
    kept.append({**record, "label": f"#{len(kept) + 1} {record['label']}"})
    del kept[:-MAX_KEPT]


def keep_page_run(page: str, job: Job, snap: Snapshot) -> None:
    """A page's run that just stopped (finished, paused...), kept once per stretch of training."""
    from playground import race
    seen = st.session_state.setdefault("runs:kept-stretches", set())
    stretch = (job.id, snap.steps)
    if not snap.history or stretch in seen:
        return
    seen.add(stretch)
    c = snap.config
    what = f"{c.dataset} {cfg.format_value('hidden', c.hidden) or 'no hidden'} {c.optimizer} lr {c.lr:g}"
    keep_run(race.record(f"{PAGE_NAMES.get(page, page)}: {what} ({snap.status}, epoch {snap.epoch})", c, snap))


def due(page: str, part: str, every: float, snap: Snapshot) -> Snapshot:
    """The snapshot part `part` of the live view draws: the newest once `every` seconds have passed
    since it took one (and always when the job is not training, or when the one it drew had no
    epoch yet), else the one it drew last."""
    slot = f"{page}-due:{part}"
    held = st.session_state.get(slot)
    now = time.monotonic()
    if (held is not None and phase(snap) == "training" and phase(held[1]) == "training"
            and held[1].history and now - held[0] < every - DUE_SLACK):
        return held[1]
    st.session_state[slot] = (now, snap)
    return snap


def _measured(page: str, part: str, body: Callable[[Snapshot], None], snap: Snapshot) -> None:
    """Run one refresh; with PLAYGROUND_LIVE_LOG set, log its CPU time (this thread's) for
    scripts/measure_live_view.py."""
    path = os.environ.get(LIVE_LOG)
    if not path:
        body(snap)
        return
    start = time.thread_time()
    body(snap)
    with open(path, "a") as log:
        log.write(f"{time.time():.3f} {page} {part} {1000 * (time.thread_time() - start):.3f}\n")


def chart(page: str, name: str, key: tuple, build: Callable[[], go.Figure]) -> None:
    """Draw the page's chart `name` (element key "{page}-chart:{name}"), built by `build()` only
    when `key`, what the chart shows, differs from the last draw's (see `same_key`)."""
    st.plotly_chart(cached_figure(page, name, key, build), key=f"{page}-chart:{name}", config=NO_TOOLBAR)


def cached_figure(page: str, name: str, key: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    slot = f"{page}-figure:{name}"
    held = st.session_state.get(slot)
    if held is not None and same_key(held[0], key):
        return held[1]
    figure = build()
    st.session_state[slot] = (key, figure)
    return figure


def same_key(a: Any, b: Any) -> bool:
    """Numpy arrays match by identity: a snapshot replaces its arrays, never changes them, and the
    cache holds the old one, so a new picture is always a new object. Anything else by ==."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_key(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is b
    return bool(a == b)


def history_key(history: tuple) -> tuple:
    """What identifies a run's curves: new epochs add records, and a new run starts afresh."""
    return len(history), history[0] if history else None, history[-1] if history else None


# Streamlit runs a full garbage collection after every script run, each poll of a fragment
# included (runner.postScriptGC). With torch, plotly and Streamlit loaded, that walk of the heap
# cost ~100 ms a poll, most of a live page's CPU. What is loaded by now stays for the server's
# life: leave it out of those collections (objects made later are collected as before).
import pandas  # noqa: E402,F401 - plotly imports it lazily from each session's thread; two at once race
gc.freeze()
streamlit_speedups.install()
