"""Config -> nn.Module, and the output head that reads it (loss, probabilities)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from playground import fastpath
from playground.config import IMAGE_SHAPES, PIXEL_STATS, Config, conv_block, conv_shapes

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "linear": nn.Identity,
}
GAINS = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid",
         "gelu": "relu", "linear": "linear"}


class Normalize(nn.Module):
    """Pixel scaling inside the model, so every caller feeds plain [0, 1] images. `mean` and `std`
    are one number, or one per colour channel (kept out of the saved weights: they come from the config)."""

    def __init__(self, mean: float | tuple[float, ...], std: float | tuple[float, ...]):
        super().__init__()
        self.mean, self.std = mean, std
        if isinstance(mean, tuple):
            self.register_buffer("_mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
            self.register_buffer("_std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.mean, tuple):
            return (x - self._mean) / self._std
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class Dropout(nn.Module):
    """nn.Dropout that draws from the run's own generator, so runs in parallel threads
    stay reproducible (nn.Dropout uses the process-wide one)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.generator: torch.Generator | fastpath.Draws | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        source = self.generator
        if isinstance(source, torch.Generator) and source.device != x.device:
            source = None
        keep = fastpath.uniform(source, x.shape, x.device) >= self.p
        return x * keep / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def n_outputs(task: str, n_classes: int, loss: str) -> int:
    if task == "regression" or (task == "binary" and loss in ("bce_with_logits", "mse")):
        return 1
    return n_classes


def build_model(config: Config, n_inputs: int, n_classes: int,
                generator: torch.Generator | None = None) -> nn.Sequential:
    """The network for a config; n_inputs counts features (784 for MNIST)."""
    n_out = n_outputs(config.task, n_classes, config.resolved_loss)
    layers: list[nn.Module] = []
    if config.is_image:
        if config.normalize == "standard":
            layers.append(Normalize(*pixel_stats(config.dataset)))
        if config.model == "cnn":
            image = IMAGE_SHAPES[config.dataset]
            layers += conv_layers(config.conv, image[0], config.activation[0])
            n_inputs = math.prod(conv_shapes(config.conv, image)[-1])
        else:
            layers.append(nn.Flatten())
    layers += mlp_layers(n_inputs, config.hidden, config.activations, config.dropout, n_out)
    if config.resolved_loss == "nll":
        layers.append(nn.LogSoftmax(dim=1))
    model = nn.Sequential(*layers)
    init_weights(model, config, generator)
    return model


def pixel_stats(dataset: str) -> tuple:
    """(mean, std) for Normalize: plain numbers for grey images, per channel for colour."""
    mean, std = PIXEL_STATS[dataset]
    return (mean[0], std[0]) if len(mean) == 1 else (mean, std)


POOL_LAYERS = {"max": lambda: nn.MaxPool2d(2), "avg": lambda: nn.AvgPool2d(2), "gap": lambda: nn.AdaptiveAvgPool2d(1)}


def conv_layers(conv: tuple[str, ...], c_in: int, activation: str) -> list[nn.Module]:
    """Conv2d, activation and pooling for each conv block, then Flatten."""
    layers: list[nn.Module] = []
    for block in map(conv_block, conv):
        layers += [nn.Conv2d(c_in, block.channels, block.kernel, padding=block.padding), ACTIVATIONS[activation]()]
        if block.pool in POOL_LAYERS:
            layers.append(POOL_LAYERS[block.pool]())
        c_in = block.channels
    return layers + [nn.Flatten()]


def mlp_layers(n_in: int, hidden: tuple[int, ...], activations: tuple[str, ...],
               dropout: float, n_out: int) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for width, act in zip(hidden, activations):
        layers += [nn.Linear(n_in, width), ACTIVATIONS[act]()]
        if dropout > 0:
            layers.append(Dropout(dropout))
        n_in = width
    return layers + [nn.Linear(n_in, n_out)]


def init_weights(model: nn.Module, config: Config, generator: torch.Generator | None) -> None:
    """Initialise every Linear/Conv layer from `generator` (not the global RNG)."""
    acts = list(config.activations) + ["linear"]
    weighted = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    linear_index = 0
    for layer in weighted:
        if isinstance(layer, nn.Linear):
            act = acts[min(linear_index, len(acts) - 1)]
            linear_index += 1
        else:
            act = config.activation[0]
        init_layer(layer, config.init, config.init_std, act, generator)


@torch.no_grad()
def init_layer(layer: nn.Module, how: str, std: float, act: str, gen: torch.Generator | None) -> None:
    w, b = layer.weight, layer.bias
    if how == "default":  # what nn.Linear / nn.Conv2d do, but from our generator
        nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(w[0].numel())
        nn.init.uniform_(b, -bound, bound, generator=gen)
        return
    if how == "xavier":
        nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain(GAINS[act]), generator=gen)
    elif how == "kaiming":
        nonlin = "leaky_relu" if act == "leaky_relu" else "relu"
        nn.init.kaiming_uniform_(w, a=0.01 if act == "leaky_relu" else 0, nonlinearity=nonlin, generator=gen)
    else:
        nn.init.normal_(w, 0.0, std, generator=gen)
    nn.init.zeros_(b)


def weight_matrices(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


@dataclass(frozen=True)
class Head:
    """How the network's output is read: the loss, probabilities and predictions."""
    task: str
    n_classes: int
    loss_name: str

    @property
    def n_out(self) -> int:
        return n_outputs(self.task, self.n_classes, self.loss_name)

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        """Labels in the form the loss wants, prepared once on the device."""
        if self.task == "regression" or self.n_out == 1:
            return y.float()
        if self.loss_name == "mse":
            return F.one_hot(y.long(), self.n_classes).float()
        return y.long()

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        name = self.loss_name
        if self.n_out == 1:
            out = out.squeeze(1)
            if name == "bce_with_logits":
                return F.binary_cross_entropy_with_logits(out, target)
            if self.task == "binary":  # mse on a probability, like TF Playground's squared error
                return F.mse_loss(torch.sigmoid(out), target)
            return F.l1_loss(out, target) if name == "l1" else F.mse_loss(out, target)
        if name == "nll":
            return F.nll_loss(out, target)
        if name == "mse":
            return F.mse_loss(torch.softmax(out, 1), target)
        return F.cross_entropy(out, target)

    def proba(self, out: torch.Tensor) -> torch.Tensor:
        """(n, k) class probabilities; for regression the (n,) predicted values."""
        if self.task == "regression":
            return out.squeeze(1)
        if self.n_out == 1:
            p1 = torch.sigmoid(out.squeeze(1))
            return torch.stack([1 - p1, p1], 1)
        return out.exp() if self.loss_name == "nll" else torch.softmax(out, 1)

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        if self.task == "regression":
            return out.squeeze(1)
        if self.n_out == 1:
            return (out.squeeze(1) > 0).long()
        return out.argmax(1)


def head_for(config: Config, n_classes: int) -> Head:
    return Head(config.task, n_classes, config.resolved_loss)
