"""Classroom links through AppTest: hidden controls absent, the task shown, the metrics kept, the
link kept in the address bar, bad parameters reported; the teacher's link maker."""
import urllib.parse

from streamlit.testing.v1 import AppTest

from conftest import APP, close_jobs
from playground import lesson


def open_link(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def sidebar_keys(at: AppTest) -> set[str]:
    return {w.key for w in at.sidebar if getattr(w, "key", None)}


def test_a_classroom_link_hides_controls_and_shows_the_task():
    at = open_link(classroom="1", hide="optimizer,lr", task="Find the smallest network that separates the spiral",
                   dataset="spiral")
    try:
        assert not at.exception
        keys = sidebar_keys(at)
        assert "2d:optimizer" not in keys and "2d:lr" not in keys and "2d:hidden" in keys
        assert any("Find the smallest network that separates the spiral" in i.value for i in at.info)
        assert {m.label for m in at.metric} >= {"Epoch", "Train loss", "Test loss", "Test accuracy"}
        assert at.session_state["job:2d"].config.dataset == "spiral"
        assert at.query_params["classroom"] == "1" and at.query_params["hide"] == "optimizer,lr"
        assert not [e for e in at.sidebar.expander if "Classroom link" in e.label]   # students get no link maker
        assert not at.warning
    finally:
        close_jobs(at)


def test_bad_classroom_parameters_are_reported_not_fatal():
    at = open_link(classroom="1", hide="optimizer,speed", task="*bold* [link](http://x) " + "y" * 400)
    try:
        assert not at.exception
        warning = " ".join(w.value for w in at.warning).replace("\\", "")   # as shown (Markdown escapes)
        assert "unknown controls to hide, left visible: speed" in warning and "the first 300 are shown" in warning
        assert "2d:optimizer" not in sidebar_keys(at)
        task = next(i.value for i in at.info if "Task" in i.value)
        assert "\\*bold\\* \\[link\\]\\(http" in task                 # shown as text, not as Markdown
    finally:
        close_jobs(at)


def test_the_teacher_makes_a_link_that_opens_the_page_that_way():
    at = open_link(dataset="circle")
    try:
        at.sidebar.multiselect(key="2d:lesson-hide").set_value(["optimizer", "lr"])
        at.sidebar.text_area(key="2d:lesson-task").input("Make it learn in 20 epochs")
        at.run()
        link = next(c.value for c in at.sidebar.code if "classroom=1" in c.value)
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
        assert params["dataset"] == "circle"
        assert lesson.from_params(params) == (lesson.Lesson(frozenset({"optimizer", "lr"}),
                                                            "Make it learn in 20 epochs"), [])
        assert len(at.sidebar.get("image")) == 1                                  # the QR code
    finally:
        close_jobs(at)
    student = open_link(**params)
    try:
        assert "2d:lr" not in sidebar_keys(student)
        assert any("Make it learn in 20 epochs" in i.value for i in student.info)
    finally:
        close_jobs(student)
