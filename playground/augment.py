"""Random on-device distortions of digit batches, so hand-drawn digits are read well."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_ROTATION = math.radians(10)
MAX_SCALE = 0.1         # +-10% size
MAX_SHIFT = 2 / 14      # +-2 pixels, in affine_grid units ([-1, 1] spans 28 px)
THICKEN_P = 0.25        # share of digits whose strokes are thickened


def _rand(gen, shape: tuple, device) -> torch.Tensor:
    """Uniform [0, 1): `gen` is a torch.Generator, or the trainer's draws (called with shape, device)."""
    return gen(shape, device) if callable(gen) else torch.rand(shape, generator=gen, device=device)


def _uniform(n: int, gen, device) -> torch.Tensor:
    return _rand(gen, (n,), device) * 2 - 1


def digits(x: torch.Tensor, gen) -> torch.Tensor:
    """x: (n, 1, 28, 28) images in [0, 1] -> shifted, rotated, scaled, some thickened."""
    n, dev = x.shape[0], x.device
    angle = _uniform(n, gen, dev) * MAX_ROTATION
    scale = 1 + _uniform(n, gen, dev) * MAX_SCALE
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    shift = torch.stack([_uniform(n, gen, dev), _uniform(n, gen, dev)], 1) * MAX_SHIFT
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    thick = (_rand(gen, (n, 1, 1, 1), dev) < THICKEN_P).to(x.dtype)
    return out + thick * (F.max_pool2d(out, 3, 1, 1) - out)
