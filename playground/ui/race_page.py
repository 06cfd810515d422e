"""Race and compare: one setting, several values, trained at once side by side; and any of the
session's kept runs overlaid, with the settings that differ and their results."""
from __future__ import annotations

import json

import streamlit as st

from datasets import toy
from playground import charts, race
from playground import config as cfg
from playground.config import ConfigError
from playground.jobs import Job, Snapshot
from playground.ui import common

PAGE = "race"
LIVE_EVERY = 1.0          # seconds between redraws of a running race
SURFACES_EVERY = 2.0      # the runs' decision surfaces (toy data)
RACEABLE = ("optimizer", "lr", "hidden", "model", "conv", "activation", "batch_size", "dropout", "init",
            "weight_decay", "momentum", "l1", "features", "noise", "n_points")
BASES = {"2D playground": "2d", "Images": "mnist"}
RACE = f"{PAGE}:runs"     # session_state: [(label, Job)] of the current race


def render() -> None:
    st.title("Race and compare")
    st.caption("Pick one setting and a few values: every value trains at once on the same data, seed and "
               "starting weights, side by side. Finished runs are kept below to compare.")
    base = race_settings()
    live_race(base)
    compare()


# ------------------------------------------------------------------ starting a race
def base_config(page: str) -> cfg.Config:
    """The settings the race starts from: that page's current run, else its defaults."""
    job = common.get_job(page)
    if job is not None:
        return job.config
    return cfg.Config() if page == "2d" else cfg.preset("784-100-10, SGD (tutorial)")


def race_settings() -> cfg.Config:
    left, middle, right = st.columns([1, 1, 2])
    page = BASES[left.radio("Start from the settings of", list(BASES), key=f"{PAGE}:base", horizontal=True)]
    base = base_config(page)
    names = [n for n in RACEABLE if base.applies(n) and (n != "model" or base.is_image)]   # a CNN needs images
    name = middle.selectbox("Setting to race", names, key=f"{PAGE}:setting", format_func=cfg.label)
    values = race_values(right, name, base)
    st.caption(f"Everything else as on the {'2D playground' if page == '2d' else 'Images page'}: "
               f"{base.dataset}, {model_words(base)}"
               f"{cfg.format_value('hidden', base.hidden) or 'no'} hidden, {base.optimizer}, "
               f"lr {base.lr:g}, {base.epochs} epochs, seed {base.seed}.")
    start, stop = st.columns([1, 1])
    start.button("Start the race", icon=":material/flag:", type="primary", key=f"{PAGE}:start",
                 on_click=start_race, args=(base, name, values), disabled=len(values) < 2)
    stop.button("Stop", icon=":material/stop:", key=f"{PAGE}:stop", on_click=stop_race,
                disabled=not any(job.snapshot().active for _, job in st.session_state.get(RACE, [])))
    error = st.session_state.pop(f"{PAGE}:error", None)
    if error:
        st.error(error)
    return base


def model_words(base: cfg.Config) -> str:
    """"cnn 16-3-1-max,32-3-1-max, " or "mlp, " for image data; nothing for the 2D sets."""
    if not base.is_image:
        return ""
    return f"cnn {cfg.format_value('conv', base.conv)}, " if base.model == "cnn" else "mlp, "


def race_values(where, name: str, base: cfg.Config) -> list[str]:
    knob = cfg.KNOBS[name]
    if cfg.kind_of(name) == "str" and knob.choices:
        options = list(knob.choices) + list(race.ALIASES.get(name, {}))
        default = [v for v in ("sgd", "sgd+momentum", "adam", "rmsprop") if v in options] if name == "optimizer" \
            else options[:3]
        return where.multiselect("Values", options, default=default, key=f"{PAGE}:values:{name}",
                                 max_selections=race.MAX_RUNS)
    list_setting = cfg.kind_of(name) in ("ints", "strs", "convs")
    hint = "separate the values with ';', e.g. 4; 8,8; 16,16,16" if list_setting else "e.g. 0.3, 0.03, 0.003"
    example = {"lr": "0.3, 0.03, 0.003", "hidden": "4; 8,8; 16,16,16", "batch_size": "1, 10, 100",
               "dropout": "0, 0.2, 0.5", "activation": "relu; tanh; sigmoid",
               "conv": "8-3-1-max; 16-3-1-max,32-3-1-max; 6-5-2-max,16-5-0-max"}.get(name, "")
    text = where.text_input("Values", value=example, key=f"{PAGE}:values:{name}", help=hint)
    sep = race.LIST_SEPARATOR if list_setting else ","
    return [v.strip() for v in text.split(sep) if v.strip()]


def start_race(base: cfg.Config, name: str, values: list[str]) -> None:
    try:
        race.check_values(name, values)
        runs = race.entrants(base, name, values)
    except ConfigError as e:
        st.session_state[f"{PAGE}:error"] = str(e)
        return
    close_race()
    jobs = []
    page_job = common.get_job("2d") if base.is_toy else None
    points = page_job.points if page_job is not None else None    # your own data, if the 2D page has it
    for entrant in runs:
        job = Job(entrant.config, points=points)
        job.alive = common._session_alive()
        jobs.append((entrant.label, job))
    st.session_state[RACE] = jobs
    st.session_state[f"{PAGE}:setting-raced"] = name
    for _, job in jobs:
        job.play()


def stop_race() -> None:
    for _, job in st.session_state.get(RACE, []):
        job.pause()


def close_race() -> None:
    for _, job in st.session_state.pop(RACE, []):
        job.close()


# ------------------------------------------------------------------ the race, live
def live_race(base: cfg.Config) -> None:
    runs = st.session_state.get(RACE)
    if not runs:
        return
    drawn = [job.snapshot() for _, job in runs]
    running = any(s.active for s in drawn)

    @st.fragment(run_every=LIVE_EVERY if running else None)
    def _live() -> None:
        snaps = [job.snapshot() for _, job in runs]
        setting = st.session_state.get(f"{PAGE}:setting-raced", "")
        race_table(setting, runs, snaps)
        labelled = [(f"{setting}={label}", s.history) for (label, _), s in zip(runs, snaps)]
        left, right = st.columns(2)
        key = tuple(common.history_key(s.history) for s in snaps)
        with left:
            common.chart(PAGE, "race-loss", key, lambda: charts.compare_curves(labelled, "test_loss"))
        with right:
            common.chart(PAGE, "race-acc", key, lambda: charts.compare_curves(labelled, "test_acc"))
        if snaps[0].config.is_toy:
            surfaces(runs, [common.due(PAGE, f"surface-{i}", SURFACES_EVERY, s) for i, s in enumerate(snaps)])
        if running and not any(s.active for s in snaps):
            keep_race(setting, runs, snaps)
            st.rerun()          # the buttons follow: the race is over
    _live()
    if not running:
        keep_race(st.session_state.get(f"{PAGE}:setting-raced", ""), runs, drawn)


def race_table(setting: str, runs: list[tuple[str, Job]], snaps: list[Snapshot]) -> None:
    rows = []
    for (label, _), s in zip(runs, snaps):
        last = s.latest or {}
        status = f"waiting (position {s.queue_position})" if s.status == "queued" and s.queue_position else s.status
        rows.append({setting or "value": label, "status": status, "epoch": f"{s.epoch} / {s.config.epochs}",
                     "test loss": last.get("test_loss"), "test accuracy": last.get("test_acc")})
    winner = None
    if not any(s.active for s in snaps):     # the race is over
        done = [race.result(race.Entrant(label, job.config), setting, job) for label, job in runs]
        winner = race.summary(setting, done)["winner"]
    if winner is not None:
        st.success(f"Winner: **{setting} = {winner}**", icon=":material/trophy:")
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"test accuracy": st.column_config.NumberColumn(format="percent"),
                                "test loss": st.column_config.NumberColumn(format="%.5f")})


def surfaces(runs: list[tuple[str, Job]], snaps: list[Snapshot]) -> None:
    """Each run's decision surface, side by side (at most 4 a row)."""
    setting = st.session_state.get(f"{PAGE}:setting-raced", "")
    for row in range(0, len(runs), 4):
        columns = st.columns(4)
        for column, (label, job), snap in zip(columns, runs[row:row + 4], snaps[row:row + 4]):
            with column:
                common.chart(PAGE, f"surface-{row}-{label}", (snap.surface, snap.config),
                             lambda s=snap, label=label, p=job.points: small_surface(s, f"{setting}={label}", p))


def small_surface(snap: Snapshot, title: str, points=None):
    c = snap.config
    train_xy, _ = common.toy_points(c, points)
    return charts.decision_surface(snap.surface, toy.DOMAIN, c.task, train_xy, None, False,
                                   common.n_classes(c, points), title=title, height=300)


def keep_race(setting: str, runs: list[tuple[str, Job]], snaps: list[Snapshot]) -> None:
    """Keep each run of an ended race, once."""
    done = st.session_state.setdefault(f"{PAGE}:kept-jobs", set())
    for (label, job), snap in zip(runs, snaps):
        if job.id not in done and snap.history:
            done.add(job.id)
            common.keep_run(race.record(f"race: {setting}={label}", job.config, snap, setting, label))


# ------------------------------------------------------------------ compare
def compare() -> None:
    kept = common.kept_runs()
    st.subheader("Compare runs")
    if not kept:
        st.caption("Runs you finish here, on the 2D playground or on the Images page appear here to compare.")
        return
    labels = [r["label"] for r in kept]
    picked = st.multiselect("Runs", labels, default=labels[-min(len(labels), 4):], key=f"{PAGE}:compare")
    chosen = [r for r in kept if r["label"] in picked]
    if not chosen:
        return
    pairs = [(r["label"], r["history"]) for r in chosen]
    key = tuple((r["label"], len(r["history"])) for r in chosen)
    left, right = st.columns(2)
    with left:
        common.chart(PAGE, "compare-loss", key, lambda: charts.compare_curves(pairs, "test_loss"))
    with right:
        common.chart(PAGE, "compare-acc", key, lambda: charts.compare_curves(pairs, "test_acc"))
    st.dataframe(compare_rows(chosen), hide_index=True, width="stretch")
    csv_text = race.to_csv([{**r, "value": r["label"]} for r in chosen])
    a, b = st.columns(2)
    a.download_button("Download CSV (every epoch)", csv_text, file_name="runs.csv", mime="text/csv",
                      icon=":material/download:", key=f"{PAGE}:csv")
    b.download_button("Download JSON", json.dumps(chosen, indent=1), file_name="runs.json",
                      mime="application/json", icon=":material/download:", key=f"{PAGE}:json")


def compare_rows(chosen: list[dict]) -> list[dict]:
    """One row per run: the settings that differ between them, then the results."""
    differ = race.differing(chosen)
    rows = []
    for r in chosen:
        row = {"run": r["label"]}
        row.update({cfg.label(n): cfg.format_value(n, _typed(n, r["config"][n])) for n in differ})
        row.update({"status": r["status"], "epochs": r["epochs"], "test loss": r["test_loss"],
                    "test accuracy": r["test_acc"]})
        rows.append(row)
    return rows


def _typed(name: str, value):
    return tuple(value) if isinstance(value, list) else value


if __name__ == "__main__":   # run as a page by st.navigation
    render()
