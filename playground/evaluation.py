"""Accuracy, confusion matrices, predictions and decision-surface grids."""
from __future__ import annotations

import numpy as np
import torch

from playground.models import Dropout, Head

CHUNK = 8192   # examples per forward pass when evaluating


@torch.no_grad()
def outputs(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's raw outputs in eval mode, in chunks; restores the previous mode."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(x[i:i + CHUNK]) for i in range(0, len(x), CHUNK)])
    finally:
        model.train(was_training)


def loss_and_accuracy(model, head: Head, x: torch.Tensor, targets: torch.Tensor,
                      labels: torch.Tensor) -> tuple[float, float | None]:
    """Mean loss and accuracy (None for regression), read with one host sync."""
    if len(x) == 0:
        return float("nan"), None
    out = outputs(model, x)
    loss = head.loss(out, targets)
    if head.task == "regression":
        return float(loss), None
    correct = (head.predict(out) == labels).float().mean()
    loss_acc = torch.stack([loss.float(), correct]).tolist()
    return loss_acc[0], loss_acc[1]


def predict_proba(model, head: Head, x: torch.Tensor) -> np.ndarray:
    """(n, k) class probabilities (or (n,) values for regression) as numpy."""
    return head.proba(outputs(model, x)).float().cpu().numpy()


def confusion_matrix(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(k, k) counts: rows are the true class, columns the predicted one."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(true, np.int64), np.asarray(pred, np.int64)), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    totals = cm.sum(1)
    return np.divide(np.diag(cm), totals, out=np.zeros(len(cm)), where=totals > 0)


def accuracy(true: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.asarray(true) == np.asarray(pred))) if len(true) else float("nan")


def grid_points(domain: tuple[float, float], size: int) -> np.ndarray:
    """(size*size, 2) points: row i has x2 = axis[i], column j has x1 = axis[j]."""
    axis = np.linspace(domain[0], domain[1], size, dtype=np.float32)
    x1, x2 = np.meshgrid(axis, axis)
    return np.stack([x1.ravel(), x2.ravel()], 1)


@torch.no_grad()
def surface(model, head: Head, features: tuple[str, ...], domain: tuple[float, float],
            size: int = 100, device: torch.device | str = "cpu") -> np.ndarray:
    """The model output over a size x size grid of the plane, in one batched pass.

    binary: (G, G) P(class 1); multiclass: (G, G, k) probabilities; regression: (G, G) values.
    """
    from datasets.toy import add_features
    points = torch.from_numpy(grid_points(domain, size)).to(device)
    probs = head.proba(outputs(model, add_features(points, features))).float().cpu().numpy()
    if head.task == "binary":
        probs = probs[:, 1]
    return probs.reshape(size, size, *probs.shape[1:])


@torch.no_grad()
def neuron_maps(model: torch.nn.Sequential, features: tuple[str, ...], domain: tuple[float, float],
                size: int = 24, device: torch.device | str = "cpu") -> list[np.ndarray]:
    """What each neuron computes over the plane (TensorFlow Playground's little squares).

    One array (n_neurons, size, size) per column of the diagram: the inputs, then each hidden
    layer after its activation; each neuron scaled to [-1, 1] by its largest magnitude.
    """
    from datasets.toy import add_features
    was_training = model.training
    model.eval()
    x = add_features(torch.from_numpy(grid_points(domain, size)).to(device), features)
    columns = [x]
    for layer in model:
        x = layer(x)
        if not isinstance(layer, (torch.nn.Linear, Dropout)) and layer is not model[-1]:
            columns.append(x)   # after an activation
    model.train(was_training)
    maps = []
    for values in columns:
        values = values.float().T.reshape(-1, size, size).cpu().numpy()
        scale = np.abs(values).reshape(len(values), -1).max(1)[:, None, None]
        maps.append(values / np.maximum(scale, 1e-12))
    return maps


@torch.no_grad()
def dead_units(model: torch.nn.Sequential, x: torch.Tensor) -> list[np.ndarray]:
    """For each hidden layer of the MLP, which units are dead: never active (output 0) on any
    example of x, so no gradient reaches their weights and they stop learning. Only ReLU units
    die this way; for other activations the mask is all False."""
    was_training = model.training
    model.eval()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    masks, h, after_hidden = [], x, False
    for layer in model:
        h = layer(h)
        if isinstance(layer, torch.nn.Linear):
            after_hidden = layer is not linears[-1]
        elif after_hidden and not isinstance(layer, Dropout):
            dead = ~(h > 0).any(0) if isinstance(layer, torch.nn.ReLU) else torch.zeros(h.shape[1], dtype=torch.bool)
            masks.append(dead.cpu().numpy())
            after_hidden = False
    model.train(was_training)
    return masks
