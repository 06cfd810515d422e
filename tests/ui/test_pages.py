"""The app as users open it: every page through app.py's navigation renders without an exception.
(Each page's behaviour is tested in its own file.)"""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.mark.parametrize("page, title", [
    (None, "2D playground"),
    ("playground/ui/mnist_page.py", "MNIST handwritten digits"),
    ("playground/ui/draw_page.py", "Draw a digit"),
    ("playground/ui/about.py", "About Neural Playground"),
])
def test_every_page_opens_from_the_navigation(offline, page, title):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == title
