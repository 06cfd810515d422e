"""Builders of the drawn-digit test sets (scripts/build_drawn_sets.py writes them to the repo).

- redrawn: MNIST digits thinned to their skeleton and drawn again with a round pen of the
  canvas's width (and thinner, thicker), then through digits.to_mnist;
- fonts: digits (and, as not-digits, letters) set in handwriting-style fonts, several weights
  and slants;
- scribbles: random pen strokes, dots and dashes on the canvas (not digits).
Every image goes through digits.to_mnist, as a drawing on the Draw page does.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from playground import digits

CANVAS = 280
CANVAS_PEN = 20            # the Draw page's stroke width on its 280 px canvas
REDRAW_SIDE = 140          # redrawing happens at half the canvas's size: pens are halved too
PENS = {"thin": 12, "canvas": 20, "thick": 30}   # in canvas pixels


# ------------------------------------------------------------------ skeletons
def _neighbours(m: torch.Tensor) -> list[torch.Tensor]:
    """P2..P9 of Zhang-Suen (N, NE, E, SE, S, SW, W, NW) for a batch (n, H, W) of 0/1 floats."""
    p = F.pad(m, (1, 1, 1, 1))
    h, w = m.shape[1:]
    at = lambda dy, dx: p[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]  # noqa: E731
    return [at(-1, 0), at(-1, 1), at(0, 1), at(1, 1), at(1, 0), at(1, -1), at(0, -1), at(-1, -1)]


def thin(mask: torch.Tensor) -> torch.Tensor:
    """Zhang-Suen thinning of a batch of masks (n, H, W) -> one-pixel-wide skeletons (bool)."""
    m = mask.float()
    while True:
        changed = False
        for first in (True, False):
            n = _neighbours(m)
            count = sum(n)
            ring = n + n[:1]
            turns = sum((ring[i] == 0) & (ring[i + 1] == 1) for i in range(8)).float()
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0) if first else \
                   (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            drop = (m == 1) & (count >= 2) & (count <= 6) & (turns == 1) & side
            if drop.any():
                m = m.masked_fill(drop, 0.0)
                changed = True
        if not changed:
            return m.bool()


def _disc(radius: float) -> torch.Tensor:
    r = int(np.ceil(radius))
    ys, xs = torch.meshgrid(torch.arange(-r, r + 1.0), torch.arange(-r, r + 1.0), indexing="ij")
    return (xs * xs + ys * ys <= radius * radius).float()[None, None]


def skeletons(images: np.ndarray) -> torch.Tensor:
    """MNIST-style digits (n, 28, 28) in [0, 1] -> their skeletons at REDRAW_SIDE (n, 1, S, S)."""
    x = torch.as_tensor(np.asarray(images, np.float32))[:, None]
    big = F.interpolate(x, size=(REDRAW_SIDE, REDRAW_SIDE), mode="bilinear", align_corners=False)
    return thin(big[:, 0] > 0.5).float()[:, None]


def redraw(skeleton: torch.Tensor, pen: int) -> np.ndarray:
    """Skeletons drawn again with a round pen of `pen` canvas pixels, then through
    digits.to_mnist, as drawings are: (n, 28, 28) float32."""
    kernel = _disc(pen * REDRAW_SIDE / CANVAS / 2)
    inked = F.conv2d(skeleton, kernel, padding=kernel.shape[-1] // 2) > 0
    drawings = (inked[:, 0].numpy() * 255).astype(np.uint8)
    return np.stack([digits.to_mnist(d) for d in drawings])


# ------------------------------------------------------------------ fonts
def glyph(font_path: str, text: str, stroke: int = 0, slant: float = 0.0, size: int = 160) -> np.ndarray:
    """One character set in a font (white on black, `stroke` px bolder, sheared by `slant`)
    -> the 28x28 digits.to_mnist gives for it."""
    font = ImageFont.truetype(font_path, size)
    side = size * 2
    image = Image.new("L", (side, side), 0)
    ImageDraw.Draw(image).text((side // 2, side // 2), text, font=font, fill=255, anchor="mm",
                               stroke_width=stroke, stroke_fill=255)
    if slant:
        image = image.transform(image.size, Image.AFFINE, (1, slant, -slant * side / 2, 0, 1, 0),
                                resample=Image.BILINEAR)
    return digits.to_mnist(np.asarray(image))


# ------------------------------------------------------------------ pen paths
def draw_paths(strokes: list[np.ndarray], pen: int = CANVAS_PEN, side: int = CANVAS) -> np.ndarray:
    """Strokes (each (k, 2) points in canvas pixels) drawn like the canvas draws them:
    white round pen on black -> (side, side) uint8."""
    image = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(image)
    r = pen / 2
    for points in strokes:
        pts = [tuple(map(float, p)) for p in points]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=pen, joint="curve")
        for x, y in (pts[0], pts[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image)


def random_scribble(rng: np.random.Generator, side: int = CANVAS) -> list[np.ndarray]:
    """A random pen path: a dot, a short dash, or a wandering stroke of 2-4 turns per 100 px."""
    kind = rng.choice(["dot", "dash", "wander", "wander", "wander", "zigzag"])
    centre = rng.uniform(0.3, 0.7, 2) * side
    if kind == "dot":
        return [centre[None]]
    if kind == "dash":
        angle = rng.uniform(0, np.pi)
        step = rng.uniform(5, 20) * np.array([np.cos(angle), np.sin(angle)])
        return [np.stack([centre, centre + step])]
    if kind == "zigzag":
        return [np.clip(rng.uniform(0.15, 0.85, (int(rng.integers(6, 12)), 2)) * side, 0, side - 1)]
    return [_wander(rng, centre, side)]


def _wander(rng: np.random.Generator, start: np.ndarray, side: int) -> np.ndarray:
    points, heading = [start], rng.uniform(0, 2 * np.pi)
    turn_rate = rng.uniform(-0.5, 0.5)
    for _ in range(int(rng.integers(40, 120))):
        turn_rate = np.clip(turn_rate + rng.normal(0, 0.15), -0.6, 0.6)
        heading += turn_rate
        nxt = points[-1] + 8 * np.array([np.cos(heading), np.sin(heading)])
        points.append(np.clip(nxt, 10, side - 10))
    return np.stack(points)


def to_mnist_strokes(strokes: list[np.ndarray]) -> np.ndarray:
    """Strokes on the canvas -> the 28x28 the Draw page reads."""
    return digits.to_mnist(draw_paths(strokes))
