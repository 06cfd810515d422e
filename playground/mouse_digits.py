"""Digits as mouse paths, the way tests/test_browser.py draws on the canvas: pen down, a
few straight mouse moves, pen up. Coordinates are fractions of the canvas (x right, y down).

Several ways people write each digit (1 with a flag and a base, crossed 7, open and closed 4,
9 with a straight or a curved stem...). `replays` jitters them (size, place, slant, wobble)
the way different hands would.
"""
from __future__ import annotations

import math

import numpy as np

Path = list[tuple[float, float]]


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 16) -> Path:
    """Points along an ellipse, angles in degrees, 0 = right, 90 = down (screen y)."""
    angles = np.radians(np.linspace(start, end, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def line(*points: tuple[float, float], n: int = 6) -> Path:
    out: Path = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        out += [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in np.linspace(0, 1, n)][bool(out):]
    return out


STYLES: dict[int, list[list[Path]]] = {
    0: [[arc(0.5, 0.5, 0.22, 0.33, -90, 275)], [arc(0.5, 0.5, 0.15, 0.35, -100, 260)]],
    1: [[line((0.5, 0.15), (0.5, 0.85))],                                          # the browser test's
        [line((0.38, 0.3), (0.55, 0.15), (0.55, 0.85))],                            # with a flag
        [line((0.38, 0.3), (0.55, 0.15), (0.55, 0.85)), line((0.38, 0.85), (0.72, 0.85))],  # and a base
        [line((0.58, 0.15), (0.45, 0.85))]],                                        # slanted
    2: [[arc(0.5, 0.33, 0.2, 0.18, 200, 360) + line((0.7, 0.35), (0.3, 0.85), (0.72, 0.85))],
        [arc(0.48, 0.35, 0.2, 0.2, 190, 400) + line((0.62, 0.5), (0.3, 0.85), (0.75, 0.82))]],
    3: [[arc(0.48, 0.32, 0.18, 0.16, 200, 450) + arc(0.48, 0.66, 0.21, 0.19, -90, 160)],
        [line((0.3, 0.15), (0.68, 0.15), (0.45, 0.42)) + arc(0.48, 0.64, 0.2, 0.21, -80, 160)]],
    4: [[line((0.5, 0.15), (0.28, 0.6), (0.75, 0.6)), line((0.62, 0.35), (0.62, 0.85))],   # open
        [line((0.62, 0.85), (0.62, 0.15), (0.27, 0.62), (0.76, 0.62))],                    # closed
        [line((0.33, 0.15), (0.3, 0.55), (0.72, 0.55)), line((0.66, 0.15), (0.66, 0.85))]],  # two strokes
    5: [[line((0.7, 0.15), (0.35, 0.15), (0.32, 0.45)) + arc(0.48, 0.63, 0.2, 0.2, -120, 150)],
        [line((0.35, 0.15), (0.32, 0.45)) + arc(0.48, 0.63, 0.2, 0.2, -120, 150),
         line((0.35, 0.15), (0.7, 0.15))]],
    6: [[arc(0.62, 0.5, 0.3, 0.36, -80, -180, 8) + arc(0.5, 0.65, 0.19, 0.19, 180, 540)],
        [line((0.62, 0.15), (0.33, 0.6)) + arc(0.5, 0.66, 0.18, 0.18, 200, 560)]],
    7: [[line((0.3, 0.17), (0.7, 0.17), (0.42, 0.85))],
        [line((0.3, 0.17), (0.7, 0.17), (0.45, 0.85)), line((0.42, 0.5), (0.7, 0.5))],      # crossed
        [line((0.3, 0.25), (0.32, 0.17), (0.7, 0.17), (0.5, 0.85))]],
    8: [[arc(0.5, 0.32, 0.17, 0.16, 90, 450) + arc(0.5, 0.66, 0.21, 0.19, -90, 270)],
        [arc(0.5, 0.31, 0.16, 0.15, 0, -180) + line((0.34, 0.33), (0.66, 0.68))
         + arc(0.5, 0.68, 0.17, 0.16, 0, 180) + line((0.34, 0.68), (0.66, 0.33))]],
    9: [[arc(0.48, 0.33, 0.19, 0.17, 0, -360) + line((0.67, 0.33), (0.66, 0.85))],           # straight stem
        [arc(0.48, 0.33, 0.19, 0.17, 0, -360) + line((0.67, 0.33), (0.62, 0.7))
         + arc(0.48, 0.7, 0.14, 0.15, 0, 150, 8)],                                           # curved stem
        [arc(0.5, 0.32, 0.18, 0.16, 10, -350) + line((0.68, 0.3), (0.55, 0.85))]],          # slanted
}


def replays(copies: int, seed: int = 0, side: int = 280) -> tuple[list[list[np.ndarray]], np.ndarray]:
    """Each style `copies` times, jittered (size 0.6-1, place, slant, rotation, wobble), as
    strokes in canvas pixels; and their labels."""
    rng = np.random.default_rng(seed)
    drawings, labels = [], []
    for digit, styles in STYLES.items():
        for strokes in styles:
            for _ in range(copies):
                drawings.append(_jitter(strokes, rng, side))
                labels.append(digit)
    return drawings, np.array(labels, np.int64)


def _jitter(strokes: list[Path], rng: np.random.Generator, side: int) -> list[np.ndarray]:
    scale = rng.uniform(0.6, 1.0)
    slant, angle = rng.uniform(-0.25, 0.25), math.radians(rng.uniform(-10, 10))
    shift = rng.uniform(-0.1, 0.1, 2) * (1 - scale + 0.2)
    rotate = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    out = []
    for path in strokes:
        p = np.array(path) - 0.5
        p[:, 0] -= slant * p[:, 1]
        p = p @ rotate.T * scale + 0.5 + shift
        p += rng.normal(0, 0.006, p.shape)
        out.append(np.clip(p, 0.02, 0.98) * side)
    return out
