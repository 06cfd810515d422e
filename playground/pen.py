"""Pen strokes drawn with tensors: round-capped line segments, anti-aliased, on the device.

Used by the digit reader's augmentation (flags on 1s, bars on 7s, scribbles that are not
digits) and by the drawn-digit test sets. Coordinates are pixels, x to the right, y down,
pixel (i, j) centred at (j, i).
"""
from __future__ import annotations

import torch


def segments(starts: torch.Tensor, ends: torch.Tensor, width: torch.Tensor, side: int = 28) -> torch.Tensor:
    """Ink of k segments per image: starts, ends (n, k, 2) as (x, y); width (n,) or (n, k) in
    pixels -> (n, 1, side, side) in [0, 1]. A segment whose start is NaN draws nothing."""
    n, k, _ = starts.shape
    coords = torch.arange(side, dtype=starts.dtype, device=starts.device)
    ys, xs = torch.meshgrid(coords, coords, indexing="ij")
    points = torch.stack([xs.flatten(), ys.flatten()], 1)                 # (P, 2)
    a, ab = starts[:, :, None, :], (ends - starts)[:, :, None, :]          # (n, k, 1, 2)
    length2 = (ab * ab).sum(-1).clamp_min(1e-6)
    t = (((points - a) * ab).sum(-1) / length2).clamp(0, 1)              # (n, k, P)
    nearest = a + t[..., None] * ab
    distance = (points - nearest).norm(dim=-1)
    half = (width if width.dim() == 2 else width[:, None].expand(n, k)) / 2
    ink = (half[..., None] + 0.5 - distance).clamp(0, 1).nan_to_num(0.0)
    return ink.amax(1).reshape(n, 1, side, side)


def polylines(points: torch.Tensor, width: torch.Tensor, side: int = 28) -> torch.Tensor:
    """points (n, m, 2) joined in order -> (n, 1, side, side) ink."""
    return segments(points[:, :-1], points[:, 1:], width, side)
