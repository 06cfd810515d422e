"""The bundled digit reader's augmentation: MNIST digits made to look drawn on a canvas.

All on the device, from the run's own generator:
- styles people draw that MNIST rarely has: 1 with a flag and a base, 7 with a bar;
- a uniform round pen of a random width instead of MNIST's soft pencil;
- slant, rotation, scale, squeeze and position (one affine map);
- elastic distortion (a smooth random displacement field);
- scribbles that are not digits (the reader learns to be unsure of them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from playground import pen


@dataclass(frozen=True)
class Recipe:
    """How strongly each distortion is applied (printed by the training script)."""
    rotation_deg: float = 15.0
    slant: float = 0.3              # horizontal shear, as x += slant * y
    scale: tuple[float, float] = (0.8, 1.12)
    squeeze: float = 0.15           # +- change of width against height
    shift_px: float = 2.5
    elastic_px: float = 1.5         # largest displacement of the smooth random field
    elastic_cells: int = 4          # control points per side of that field
    pen_share: float = 0.6          # share of digits redrawn with a uniform pen
    pen_threshold: tuple[float, float] = (0.25, 0.7)   # ink level the pen's edge follows
    pen_thicken: float = 0.25       # share of redrawn digits thickened by a pixel first
    style_share: float = 0.5        # share of 1s given a flag (and often a base), of 7s a bar
    scribble_share: float = 0.08    # scribbles added to each batch, per digit
    clean_share: float = 0.0        # share of digits left as MNIST drew them


def _uniform(shape, gen: torch.Generator, device, low: float = -1.0, high: float = 1.0) -> torch.Tensor:
    return torch.rand(shape, generator=gen, device=device) * (high - low) + low


def augment(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, recipe: Recipe = Recipe()) -> torch.Tensor:
    """x (n, 1, 28, 28) in [0, 1], y (n,) labels -> distorted digits, same shape."""
    out = warp(pen_strokes(styles(x, y, gen, recipe), gen, recipe), gen, recipe)
    if recipe.clean_share == 0:
        return out
    clean = (_uniform(len(x), gen, x.device, 0, 1) < recipe.clean_share)[:, None, None, None]
    return torch.where(clean, x, out)


# ------------------------------------------------------------------ styles
def _extent(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Top and bottom ink rows, and the ink's mean column in each: (n,) each."""
    rows = (x[:, 0] > 0.4).any(2).float()                                   # (n, 28)
    top = rows.argmax(1)
    bottom = 27 - rows.flip(1).argmax(1)
    cols = torch.arange(28, device=x.device, dtype=x.dtype)

    def column(row: torch.Tensor) -> torch.Tensor:
        line = x[torch.arange(len(x), device=x.device), 0, row]            # (n, 28)
        return (line * cols).sum(1) / line.sum(1).clamp_min(1e-6)
    return top.to(x.dtype), bottom.to(x.dtype), column(top), column(bottom)


def styles(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, recipe: Recipe) -> torch.Tensor:
    n, dev = len(x), x.device
    top, bottom, col_top, col_bottom = _extent(x)
    height = (bottom - top).clamp_min(8)
    pick = _uniform(n, gen, dev, 0, 1) < recipe.style_share
    one, seven = pick & (y == 1), pick & (y == 7)
    base = one & (_uniform(n, gen, dev, 0, 1) < 0.6)
    flag_len = height * _uniform(n, gen, dev, 0.2, 0.35)
    down = torch.stack([col_bottom - col_top, bottom - top], 1)
    down = down / down.norm(dim=1, keepdim=True).clamp_min(1e-6)          # along the stem
    turn = _uniform(n, gen, dev, math.radians(40), math.radians(75))      # the flag leaves it leftwards
    flag = torch.stack([down[:, 0] * torch.cos(turn) - down[:, 1] * torch.sin(turn),
                        down[:, 0] * torch.sin(turn) + down[:, 1] * torch.cos(turn)], 1) * flag_len[:, None]
    half_base = height * _uniform(n, gen, dev, 0.15, 0.3)
    mid = top + height * _uniform(n, gen, dev, 0.45, 0.6)
    bar = height * _uniform(n, gen, dev, 0.15, 0.28)
    col_mid = col_top + (col_bottom - col_top) * (mid - top) / height
    nan = torch.full_like(top, float("nan"))
    starts = torch.stack([
        torch.stack([torch.where(one, col_top, nan), top], 1),
        torch.stack([torch.where(base, col_bottom - half_base, nan), bottom], 1),
        torch.stack([torch.where(seven, col_mid - bar, nan), mid], 1)], 1)
    ends = torch.stack([
        torch.stack([col_top + flag[:, 0], top + flag[:, 1]], 1),
        torch.stack([col_bottom + half_base, bottom], 1),
        torch.stack([col_mid + bar, mid], 1)], 1)
    width = _uniform(n, gen, dev, 1.6, 2.6)
    chosen = torch.nonzero(one | seven)[:, 0]
    strokes = pen.segments(starts[chosen], ends[chosen], width[chosen])
    return x.index_put((chosen,), torch.maximum(x[chosen], strokes))


# ------------------------------------------------------------------ pen
def pen_strokes(x: torch.Tensor, gen: torch.Generator, recipe: Recipe) -> torch.Tensor:
    """Some digits redrawn with a hard-edged pen of another width: a random ink threshold
    at 2x (low: a broad pen, high: a fine one; some thickened first), averaged back down."""
    n, dev = len(x), x.device
    lo, hi = recipe.pen_threshold
    thick = (_uniform(n, gen, dev, 0, 1) < recipe.pen_thicken).to(x.dtype)[:, None, None, None]
    x2 = thick * F.max_pool2d(x, 3, 1, 1) + (1 - thick) * x
    big = F.interpolate(x2, scale_factor=2, mode="bilinear", align_corners=False)
    level = _uniform((n, 1, 1, 1), gen, dev, lo, hi)
    redrawn = F.avg_pool2d(((big - level) * 8 + 0.5).clamp(0, 1), 2)   # no grey background
    use = (_uniform(n, gen, dev, 0, 1) < recipe.pen_share).to(x.dtype)[:, None, None, None]
    return use * redrawn + (1 - use) * x


# ------------------------------------------------------------------ geometry
def warp(x: torch.Tensor, gen: torch.Generator, recipe: Recipe) -> torch.Tensor:
    n, dev = len(x), x.device
    grid = F.affine_grid(_affine(n, gen, dev, recipe), list(x.shape), align_corners=False)
    grid = grid + _elastic(n, gen, dev, recipe)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def _affine(n: int, gen: torch.Generator, dev, r: Recipe) -> torch.Tensor:
    """Output -> input coordinates (what affine_grid wants): the inverse of the distortion."""
    angle = _uniform(n, gen, dev) * math.radians(r.rotation_deg)
    scale = _uniform(n, gen, dev, *r.scale)
    squeeze = 1 + _uniform(n, gen, dev) * r.squeeze
    slant = _uniform(n, gen, dev) * r.slant
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx, sy = 1 / (scale * squeeze), 1 / (scale / squeeze)
    a11, a12 = cos * sx, -sin * sx + slant * sx
    a21, a22 = sin * sy, cos * sy
    shift = _uniform((n, 2), gen, dev) * (r.shift_px / 14)
    return torch.stack([torch.stack([a11, a12, shift[:, 0]], 1),
                        torch.stack([a21, a22, shift[:, 1]], 1)], 1)


def _elastic(n: int, gen: torch.Generator, dev, r: Recipe) -> torch.Tensor:
    """(n, 28, 28, 2) smooth displacements of at most about elastic_px pixels."""
    coarse = _uniform((n, 2, r.elastic_cells, r.elastic_cells), gen, dev) * (r.elastic_px / 14)
    field = F.interpolate(coarse, size=(28, 28), mode="bicubic", align_corners=True)
    return field.permute(0, 2, 3, 1)


# ------------------------------------------------------------------ not digits
def scribbles(n: int, gen: torch.Generator, dev) -> torch.Tensor:
    """n random 6-9 point zigzags and blobs inside the 20 px box: (n, 1, 28, 28)."""
    points = _uniform((n, 9, 2), gen, dev, 4, 24)
    keep = torch.randint(6, 10, (n, 1), generator=gen, device=dev)
    index = torch.arange(9, device=dev)[None].expand(n, 9)
    last = points[torch.arange(n, device=dev), keep[:, 0] - 1]
    points = torch.where((index < keep)[..., None], points, last[:, None])    # repeat the last point
    width = _uniform(n, gen, dev, 1.5, 4.5)
    blob = (_uniform(n, gen, dev, 0, 1) < 0.15)[:, None]
    width = torch.where(blob[:, 0], width * 3, width)
    return pen.polylines(points, width)
