"""Drawings -> MNIST-style 28x28: polarity, cropping, scaling, centring, bad input."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from playground import config as cfg
from playground import digits
from playground.digits import EmptyDrawingError, ImageError

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "mnist_sample.npz"


def stroke_canvas(side=280, top=60, left=150, height=150, width=22) -> np.ndarray:
    """A white "1" on a black RGBA canvas, off-centre, like st_canvas returns it."""
    canvas = np.zeros((side, side, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[top:top + height, left:left + width, :3] = 255
    return canvas


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    return (ys * image).sum() / image.sum(), (xs * image).sum() / image.sum()


def test_output_is_mnist_shaped_and_centred():
    out = digits.to_mnist(stroke_canvas())
    assert out.shape == (28, 28) and out.dtype == np.float32 and 0 <= out.min() and out.max() == pytest.approx(1, abs=0.01)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1
    rows = np.flatnonzero(out.max(1) > 0.1)
    assert 19 <= rows[-1] - rows[0] + 1 <= 21          # longer side scaled to 20 px


def test_both_polarities_and_transparency_agree():
    white_on_black = stroke_canvas()
    black_on_white = white_on_black.copy()
    black_on_white[..., :3] = 255 - black_on_white[..., :3]
    transparent = np.zeros_like(white_on_black)
    transparent[..., 3] = white_on_black[..., 0]        # ink only in alpha, as on a clear canvas
    gray = white_on_black[..., 0]
    reference = digits.to_mnist(white_on_black)
    for other in (black_on_white, transparent, gray, Image.fromarray(255 - gray)):
        assert np.allclose(digits.to_mnist(other), reference, atol=0.02)


def test_files_and_bytes(tmp_path):
    path = tmp_path / "one.png"
    Image.fromarray(255 - stroke_canvas()[..., 0]).save(path)
    assert np.allclose(digits.to_mnist(path), digits.to_mnist(path.read_bytes()))


def test_empty_and_bad_images():
    with pytest.raises(EmptyDrawingError, match="draw a digit first"):
        digits.to_mnist(np.zeros((280, 280, 4), np.uint8) + np.array([0, 0, 0, 255], np.uint8))
    with pytest.raises(EmptyDrawingError):
        digits.to_mnist(np.full((100, 100), 255, np.uint8))      # a blank white page
    with pytest.raises(ImageError, match="not an image"):
        digits.to_mnist(b"PK\x03\x04 definitely not an image")
    with pytest.raises(ImageError, match="no such file"):
        digits.to_mnist("/nonexistent/digit.png")
    with pytest.raises(ImageError, match="at most"):
        digits.to_mnist(Image.new("L", (cfg.MAX_IMAGE_SIDE + 1, 10)))


def shift_scale_thicken(image28: np.ndarray, rng) -> np.ndarray:
    """An MNIST digit made canvas-like: 10x bigger, thicker, moved off-centre, RGBA."""
    big = np.kron(image28, np.ones((10, 10), np.float32))
    thick = np.maximum.reduce([np.roll(np.roll(big, dy, 0), dx, 1) for dy in (-6, 0, 6) for dx in (-6, 0, 6)])
    canvas = np.zeros((420, 420), np.float32)
    top, left = rng.integers(0, 140, 2)
    canvas[top:top + 280, left:left + 280] = thick
    rgba = np.zeros((420, 420, 4), np.uint8)
    rgba[..., :3] = (canvas * 255).astype(np.uint8)[..., None]
    rgba[..., 3] = 255
    return rgba


@pytest.mark.skipif(not SAMPLE.exists(), reason="the bundled MNIST sample is missing")
def test_drawn_versions_of_test_digits_are_read_like_the_originals():
    from datasets import mnist
    from playground.training import Trainer
    split = mnist.load_sample()
    trainer = Trainer(cfg.from_dict(dict(cfg.MNIST_BASE, hidden=(128,), optimizer="adam", lr=0.002,
                                         epochs=4, augment=True, device="cpu")), split)
    trainer.run()
    rng = np.random.default_rng(0)
    originals = split.test.x[:100, 0]
    drawn = np.stack([digits.to_mnist(shift_scale_thicken(img, rng)) for img in originals])
    for image in drawn:
        cy, cx = centre_of_mass(image)
        assert abs(cy - 13.5) <= 1.5 and abs(cx - 13.5) <= 1.5
    with torch.no_grad():
        trainer.model.eval()
        on_originals = trainer.model(torch.from_numpy(originals[:, None])).argmax(1).numpy()
        on_drawn = trainer.model(torch.from_numpy(drawn[:, None])).argmax(1).numpy()
    labels = split.test.y[:100]
    assert (on_drawn == on_originals).mean() >= 0.8
    assert (on_drawn == labels).mean() >= (on_originals == labels).mean() - 0.15
