"""Random on-device changes to training images: digits so hand-drawn ones are read well; shifts and mirrors for clothes and photos."""
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


CROP_PADDING = {"fashion_mnist": 2, "cifar10": 4}   # pixels: a random crop of the zero-padded image


def shift_and_flip(x: torch.Tensor, gen, padding: int) -> torch.Tensor:
    """x: (n, c, h, w) -> each image shifted by up to `padding` whole pixels each way (the same
    as a random crop of the image padded with zeros) and mirrored left-right half the time; one
    resampling on the device, exact pixel values (nearest), no host sync."""
    n, dev = x.shape[0], x.device
    h, w = x.shape[-2:]
    steps = 2 * padding + 1
    dx = torch.floor(_rand(gen, (n,), dev) * steps) - padding
    dy = torch.floor(_rand(gen, (n,), dev) * steps) - padding
    mirror = torch.where(_rand(gen, (n,), dev) < 0.5, -1.0, 1.0).to(x.dtype)
    zero, one = torch.zeros_like(mirror), torch.ones_like(mirror)
    theta = torch.stack([torch.stack([mirror, zero, dx.to(x.dtype) * 2 / w], 1),
                         torch.stack([zero, one, dy.to(x.dtype) * 2 / h], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", align_corners=False, padding_mode="zeros")


def images(x: torch.Tensor, dataset: str, gen) -> torch.Tensor:
    """The training augmentation of an image set: digits for MNIST, shifts and mirrors otherwise."""
    if dataset == "mnist":
        return digits(x, gen)
    return shift_and_flip(x, gen, CROP_PADDING[dataset])
