"""The drawn-digit test sets: the skeleton redrawing, font glyphs, pen paths, the committed file."""
from pathlib import Path

import numpy as np
import pytest
import torch

from playground import drawn_sets, mouse_digits
from playground.pen import segments

ROOT = Path(__file__).resolve().parents[1]


def sample_digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    with np.load(ROOT / "datasets" / "mnist_sample.npz") as data:
        picks = np.arange(0, 1000, 1000 // n)[:n]           # one digit of each class for n = 10
        return data["x_test"][picks].astype(np.float32) / 255, data["y_test"][picks]


def test_thinning_leaves_a_one_pixel_line():
    bar = torch.zeros(1, 20, 40, dtype=torch.bool)
    bar[0, 7:14, 5:35] = True                                  # a 7 px thick horizontal bar
    skeleton = drawn_sets.thin(bar)[0]
    assert (skeleton & ~bar[0]).sum() == 0                     # inside the shape
    columns = skeleton[:, 10:30].sum(0)
    assert (columns == 1).all() and skeleton[:, 10:30].nonzero()[:, 0].unique().tolist() == [10]


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                                   # small tensors: faster, and no spinning
    yield
    torch.set_num_threads(threads)


def test_redrawn_digits_are_drawings_of_the_same_digit(one_thread):
    x, y = sample_digits(10)
    skeleton = drawn_sets.skeletons(x)
    assert skeleton.shape == (10, 1, drawn_sets.REDRAW_SIDE, drawn_sets.REDRAW_SIDE)
    ink = {}
    for name, pen in drawn_sets.PENS.items():
        redrawn = drawn_sets.redraw(skeleton, pen)
        assert redrawn.shape == (10, 28, 28) and redrawn.dtype == np.float32
        assert redrawn.min() >= 0 and np.allclose(redrawn.max((1, 2)), 1, atol=0.05)
        ink[name] = redrawn.sum((1, 2))
        # like MNIST's own: the digit overlaps its original strongly
        overlap = (redrawn * x).sum((1, 2)) / np.sqrt((redrawn ** 2).sum((1, 2)) * (x ** 2).sum((1, 2)))
        assert overlap.min() > 0.3 and overlap.mean() > 0.6, overlap
    assert (ink["thin"] < ink["canvas"]).all() and (ink["canvas"] < ink["thick"]).all()


def test_a_dot_is_a_round_pen_mark():
    dot = drawn_sets.draw_paths([np.array([[140.0, 140.0]])])
    area = (dot > 127).sum()
    assert abs(area - np.pi * 10 ** 2) < 40                    # a disc of the canvas pen's radius, 10 px


def test_pen_segments_are_round_capped_lines():
    ink = segments(torch.tensor([[[5.0, 10.5]]]), torch.tensor([[[20.0, 10.5]]]), torch.tensor([3.0]))[0, 0]
    assert ink[10:12, 5:21].min() == 1 and ink[13, 12] == 0 and ink[10, 23] == 0
    assert ink[12, 12] == pytest.approx(0.5) and ink[9, 12] == pytest.approx(0.5)   # 1.5 px from the line
    assert ink[10, 21] == pytest.approx(2 - 1.25 ** 0.5)                             # round cap
    none = segments(torch.full((1, 1, 2), float("nan")), torch.zeros(1, 1, 2), torch.tensor([3.0]))
    assert none.sum() == 0


def test_mouse_digits_cover_every_digit_and_several_styles():
    drawings, labels = mouse_digits.replays(copies=2, seed=0)
    assert sorted(set(labels.tolist())) == list(range(10)) and len(drawings) == len(labels)
    assert len(mouse_digits.STYLES[1]) >= 3 and len(mouse_digits.STYLES[7]) >= 2
    assert all(0 <= p.min() and p.max() <= 280 for strokes in drawings for p in strokes)


def test_the_committed_sets():
    with np.load(ROOT / "datasets" / "drawn_digits.npz") as data:
        sets = {k: data[k] for k in data.files}
    assert sets["redrawn_x"].shape == (3000, 28, 28) and sets["redrawn_x"].dtype == np.uint8
    assert (np.bincount(sets["redrawn_y"]) == 300).all()
    assert sorted(set(sets["redrawn_pen"].tolist())) == [12, 20, 30]
    assert (np.bincount(sets["fonts_y"]) == len(sets["fonts"]) * 9).all()
    assert len(sets["letters_x"]) >= 1000 and len(sets["scribbles_x"]) == 500
    assert sorted(set(sets["mouse_y"].tolist())) == list(range(10))


@pytest.mark.skipif(not Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").is_file(), reason="no DejaVu font")
def test_a_font_glyph_goes_through_to_mnist():
    seven = drawn_sets.glyph("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "7", stroke=4, slant=0.2)
    assert seven.shape == (28, 28) and seven.max() == pytest.approx(1, abs=0.05)
    rows, cols = np.nonzero(seven > 0.1)
    assert rows.max() - rows.min() + 1 in (19, 20, 21)         # MNIST's 20 px box
