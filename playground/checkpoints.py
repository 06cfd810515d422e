"""Save and load trained models; a CPU predictor for drawings and the CLI."""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from playground import config as cfg
from playground.config import IMAGE_SHAPES, Config, ConfigError
from playground.models import build_model, head_for

FORMAT = "neural-playground/1"
MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024


class CheckpointError(ValueError):
    """A file that is not a checkpoint of this app, or not of this network."""


def to_bytes(config: Config, model: torch.nn.Module, n_inputs: int, n_classes: int) -> bytes:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "config": cfg.to_json(config), "n_inputs": n_inputs,
               "n_classes": n_classes, "state_dict": state}
    handle = io.BytesIO()
    torch.save(payload, handle)
    return handle.getvalue()


def save(path: str | os.PathLike, config: Config, model: torch.nn.Module, n_inputs: int,
         n_classes: int) -> None:
    tmp = Path(f"{path}.tmp")
    tmp.write_bytes(to_bytes(config, model, n_inputs, n_classes))
    os.replace(tmp, path)


def load(source: str | os.PathLike | bytes) -> "Predictor":
    """Read a checkpoint (a path or the bytes of an upload) safely: weights only."""
    raw = _read_bytes(source)
    if not raw.startswith(b"PK\x03\x04"):   # torch.save writes a zip archive
        raise CheckpointError("not a Neural Playground checkpoint (not a file saved by PyTorch)")
    try:
        payload = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError("not a Neural Playground checkpoint (it holds code or objects other than "
                              "weights, so it was not loaded)") from None
    except (RuntimeError, zipfile.BadZipFile, EOFError, ValueError, AttributeError, TypeError, KeyError,
            IndexError, OSError):
        raise CheckpointError("the checkpoint is damaged or truncated") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError("not a Neural Playground checkpoint (no format marker)")
    try:
        config = cfg.from_json(payload["config"])
        n_inputs, n_classes = int(payload["n_inputs"]), int(payload["n_classes"])
    except (ConfigError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"the checkpoint's settings are invalid: {e}") from None
    return Predictor.from_state(config, payload.get("state_dict"), n_inputs, n_classes)


def require_dataset(predictor: "Predictor", datasets: tuple[str, ...]) -> None:
    """A page loads only models of its own data: digits on the MNIST page, points on the 2D one."""
    if predictor.config.dataset not in datasets:
        raise CheckpointError(f"that model was trained on {predictor.config.dataset}; "
                              f"this page trains on {', '.join(datasets)}")


def _read_bytes(source: str | os.PathLike | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"no checkpoint file at {path}")
        if path.stat().st_size > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(f"{path.name} is larger than {MAX_CHECKPOINT_BYTES >> 20} MB")
        raw = path.read_bytes()
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"the file is larger than {MAX_CHECKPOINT_BYTES >> 20} MB")
    return raw


@dataclass(frozen=True)
class Predictor:
    """A trained model on the CPU, for reading drawings and images; safe to share read-only."""
    config: Config
    model: torch.nn.Module
    n_inputs: int
    n_classes: int

    @classmethod
    def from_state(cls, config: Config, state: dict | None, n_inputs: int, n_classes: int) -> "Predictor":
        model = build_model(config, n_inputs, n_classes)
        if not isinstance(state, dict):
            raise CheckpointError("the checkpoint holds no weights")
        expected = model.state_dict()
        if set(state) != set(expected):
            raise CheckpointError("the checkpoint's weights do not match its network settings "
                                  "(different layers)")
        for name, tensor in state.items():
            if not isinstance(tensor, torch.Tensor) or tensor.shape != expected[name].shape:
                raise CheckpointError(f"the checkpoint's weights do not match its network settings "
                                      f"(layer {name} has another shape)")
        model.load_state_dict(state)
        model.eval()
        return cls(config, model, n_inputs, n_classes)

    @classmethod
    def from_model(cls, config: Config, model: torch.nn.Module, n_inputs: int, n_classes: int) -> "Predictor":
        state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        return cls.from_state(config, state, n_inputs, n_classes)

    @torch.no_grad()
    def proba(self, inputs: np.ndarray) -> np.ndarray:
        """Images in [0, 1] ((n, 28, 28) or (28, 28) for the grey sets, (n, 3, 32, 32) for
        CIFAR-10), or 2D points (n, 2) -> (n, k) probabilities (for regression: (n,) values)."""
        x = torch.as_tensor(np.asarray(inputs, np.float32))
        if self.config.is_image:
            x = x.reshape(-1, *IMAGE_SHAPES[self.config.dataset])
        else:
            from datasets.toy import add_features
            x = add_features(x.reshape(-1, 2), self.config.features)
        head = head_for(self.config, self.n_classes)
        return head.proba(self.model(x)).numpy()

    def save(self, path: str | os.PathLike) -> None:
        save(path, self.config, self.model, self.n_inputs, self.n_classes)

    def to_bytes(self) -> bytes:
        return to_bytes(self.config, self.model, self.n_inputs, self.n_classes)
