"""The Race and compare page through AppTest: a race of three optimizers (each its own job, the
job limit respected, numbers equal to solo runs), the winner, kept runs compared, bad values."""
import time

import pytest
from streamlit.testing.v1 import AppTest

from playground import config as cfg
from playground import race, workers
from playground.training import Trainer

RACE_PAGE = "playground/ui/race_page.py"
SMALL = dict(dataset="circle", n_points=200, hidden=(4,), lr=0.05, epochs=3, batch_size=10)


def small_2d(at: AppTest) -> AppTest:
    """The 2D page's settings, which a race starts from."""
    at.sidebar.selectbox(key="2d:dataset").select(SMALL["dataset"])
    at.sidebar.number_input(key="2d:n_points").set_value(SMALL["n_points"])
    at.sidebar.text_input(key="2d:hidden").input("4")
    at.sidebar.number_input(key="2d:lr").set_value(SMALL["lr"])
    at.sidebar.number_input(key="2d:epochs").set_value(SMALL["epochs"])
    at.sidebar.number_input(key="2d:batch_size").set_value(SMALL["batch_size"])
    return at.run()


def race_jobs(at: AppTest):
    return at.session_state["race:runs"] if "race:runs" in at.session_state else []


def poll_until_done(at: AppTest, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if race_jobs(at) and not any(job.snapshot().active for _, job in race_jobs(at)):
            at.run()
            return
        time.sleep(0.1)
    raise AssertionError("the race did not end")


def test_a_race_of_three_optimizers_runs_as_jobs_and_is_kept_to_compare(at, most_running):
    small_2d(at)
    base = at.session_state["job:2d"].config
    at.switch_page(RACE_PAGE).run()
    assert not at.exception
    at.selectbox(key="race:setting").select("optimizer").run()
    at.multiselect(key="race:values:optimizer").set_value(["sgd", "adam", "rmsprop"]).run()
    with most_running(workers.default_pool()) as most:
        at.button(key="race:start").click().run()
        runs = race_jobs(at)
        assert [label for label, _ in runs] == ["sgd", "adam", "rmsprop"] and len({j.id for _, j in runs}) == 3
        poll_until_done(at)
    assert 1 <= most[0] <= workers.default_max_jobs()
    for label, job in runs:                       # each run: the 2D settings with one value changed
        trainer = Trainer(base.replace(optimizer=label))
        trainer.run()
        assert job.snapshot().history[-1]["test_loss"] == pytest.approx(trainer.history[-1].test_loss, abs=1e-6)
    assert any("Winner: **optimizer =" in s.value for s in at.success)
    kept = at.session_state["runs:kept"]
    assert [r["label"] for r in kept] == ["#1 race: optimizer=sgd", "#2 race: optimizer=adam",
                                          "#3 race: optimizer=rmsprop"]
    table = at.dataframe[-1].value                 # the comparison: what differs, and the results
    assert list(table["optimizer"]) == ["sgd", "adam", "rmsprop"] and "test loss" in table.columns
    assert "hidden" not in table.columns
    for _, job in runs:
        job.close()


def test_bad_race_values_are_explained(at):
    small_2d(at)
    at.switch_page(RACE_PAGE).run()
    at.selectbox(key="race:setting").select("lr").run()
    at.text_input(key="race:values:lr").input("0.1, -1").run()
    at.button(key="race:start").click().run()
    assert any("race value lr=-1: learning rate must be" in e.value for e in at.error)
    assert race_jobs(at) == []


def test_a_finished_2d_run_is_kept_for_comparison(at):
    small_2d(at)
    at.button(key="2d:play").click().run()
    deadline = time.monotonic() + 30
    while at.session_state["job:2d"].snapshot().active and time.monotonic() < deadline:
        time.sleep(0.05)
        at.run()
    at.run()
    kept = at.session_state["runs:kept"]
    assert len(kept) == 1 and kept[0]["label"].startswith("#1 2D: circle 4 ") and kept[0]["epochs"] == 3
    at.switch_page(RACE_PAGE).run()
    assert at.multiselect(key="race:compare").value == [kept[0]["label"]]


def test_differing_lists_only_the_settings_that_differ():
    a, b = cfg.Config(), cfg.Config().replace(lr=0.1, hidden=(4,))
    runs = [{"config": cfg.to_dict(a)}, {"config": cfg.to_dict(b)}]
    assert race.differing(runs) == ["hidden", "lr"] or race.differing(runs) == ["lr", "hidden"]
    assert set(race.differing(runs)) == {"hidden", "lr"} and race.differing(runs[:1]) == []
