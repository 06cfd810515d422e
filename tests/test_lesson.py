"""Classroom links: parameters in, a lesson (hidden controls, task) and plain-words problems out."""
import io
import urllib.parse

import pytest

from PIL import Image

from playground import lesson


def test_a_classroom_link_round_trips():
    made = lesson.Lesson(frozenset({"lr", "optimizer"}), "Find the smallest network that separates the spiral")
    query = urllib.parse.urlencode(lesson.to_params(made))
    assert query == "classroom=1&hide=optimizer%2Clr&task=Find+the+smallest+network+that+separates+the+spiral"
    params = dict(urllib.parse.parse_qsl(query))
    assert lesson.from_params(params) == (made, [])


def test_without_classroom_1_there_is_no_lesson():
    assert lesson.from_params({"dataset": "xor"}) == (None, [])
    got, problems = lesson.from_params({"hide": "lr", "task": "x"})
    assert got is None and problems == ["hide and task only work in a classroom link (with classroom=1)"]


def test_bad_parameters_are_reported_and_left_out():
    got, problems = lesson.from_params({"classroom": "true", "hide": "lr, speed ,Optimizer,learning-rate"})
    assert got.hide == frozenset({"lr", "optimizer"})
    assert len(problems) == 1 and "unknown controls to hide, left visible: speed, learning_rate" in problems[0]
    got, problems = lesson.from_params({"classroom": "1", "task": "x" * 5000 + "\n\t<script>"})
    assert len(got.task) == lesson.MAX_TASK + 1 and got.task.endswith("…")
    assert problems == [f"the task has 5,009 characters; the first {lesson.MAX_TASK} are shown"]
    got, _ = lesson.from_params({"classroom": ["0", "1"], "task": "line one\nline two"})
    assert got.task == "line one line two"                          # the last value, on one line


def test_the_qr_code_is_a_png():
    pytest.importorskip("segno")    # in requirements.txt; the GPU machine's bare torch lacks it
    picture = Image.open(io.BytesIO(lesson.qr_png("http://127.0.0.1:8501/?classroom=1&task=hello")))
    assert picture.format == "PNG" and picture.size[0] == picture.size[1] > 100
