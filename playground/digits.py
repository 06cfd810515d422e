"""Any drawing or image -> an MNIST-style 28x28 digit.

MNIST's recipe: white ink on black, cropped to the ink, the longer side scaled to
20 px with anti-aliasing, pasted into 28x28 with the centre of mass at the centre.
numpy + PIL only, so it runs anywhere (the Draw page, the CLI).
"""
from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from playground.config import MAX_IMAGE_SIDE

INK_THRESHOLD = 0.1     # of the brightest ink: fainter pixels are background
MIN_INK_PIXELS = 4      # fewer than this is noise, not a drawing
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE


class ImageError(ValueError):
    """Not an image we can read."""


class EmptyDrawingError(ValueError):
    """Nothing drawn."""


def load_image(source) -> np.ndarray:
    """A path, file bytes or a PIL image -> a numpy array (H, W[, C])."""
    if isinstance(source, np.ndarray):
        return source
    if isinstance(source, Image.Image):
        return _from_pil(source)
    try:
        handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(os.fspath(source), "rb")
        with handle, Image.open(handle) as image:
            return _from_pil(image)
    except ImageError:                  # too large: keep its message (ImageError is a ValueError)
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, FileNotFoundError):
            raise ImageError(f"no such file: {source}") from None
        raise ImageError("not an image that can be read (PNG, JPEG, BMP, GIF...)") from None


def _from_pil(image: Image.Image) -> np.ndarray:
    if max(image.size) > MAX_IMAGE_SIDE:
        raise ImageError(f"the image is {image.size[0]}x{image.size[1]} pixels; at most "
                         f"{MAX_IMAGE_SIDE} per side is allowed")
    return np.asarray(image.convert("RGBA" if "A" in image.getbands() else "L"))


def ink(image: np.ndarray) -> np.ndarray:
    """(H, W) float ink intensity in [0, 1], white-on-black, whatever the input polarity."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 4:
        alpha = array[..., 3].astype(np.float32) / 255
        if alpha.min() < 0.5:                 # a transparent background: the ink is where alpha is
            return alpha
        array = array[..., :3]
    gray = array.astype(np.float32)
    if gray.ndim == 3:
        gray = gray[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    if gray.max() > 1.0:
        gray = gray / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1.0 - gray if np.median(border) > 0.5 else gray


def to_mnist(image) -> np.ndarray:
    """A drawing (canvas RGBA, RGB, grayscale, PIL image, bytes or path) -> float32 (28, 28)."""
    array = load_image(image)
    if array.ndim not in (2, 3) or min(array.shape) < 1:
        raise ImageError(f"expected an image, got an array of shape {array.shape}")
    if max(array.shape[:2]) > MAX_IMAGE_SIDE:
        raise ImageError(f"the image is larger than {MAX_IMAGE_SIDE} pixels per side")
    strokes = ink(array)
    peak = float(strokes.max())
    mask = strokes > max(peak * INK_THRESHOLD, 0.05)
    if peak < 0.1 or mask.sum() < MIN_INK_PIXELS:
        raise EmptyDrawingError("the drawing is empty: draw a digit first")
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    crop = strokes[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] / peak
    return _centre(_fit_20(crop))


def _fit_20(crop: np.ndarray) -> np.ndarray:
    """Scale so the longer side is 20 px, keeping the aspect ratio, with anti-aliasing."""
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.LANCZOS)
    return np.asarray(small, np.float32) / 255.0


def _centre(digit: np.ndarray) -> np.ndarray:
    """Paste into 28x28 so the centre of mass lands on the centre (14, 14)."""
    h, w = digit.shape
    total = digit.sum()
    ys, xs = np.indices(digit.shape)
    cy, cx = (ys * digit).sum() / total, (xs * digit).sum() / total
    top = int(round(14 - cy - 0.5)) if total else (28 - h) // 2
    left = int(round(14 - cx - 0.5)) if total else (28 - w) // 2
    top, left = min(max(top, 0), 28 - h), min(max(left, 0), 28 - w)
    out = np.zeros((28, 28), np.float32)
    out[top:top + h, left:left + w] = digit
    return np.clip(out, 0.0, 1.0)
