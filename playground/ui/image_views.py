"""The Images page's look inside a CNN: the first conv layer's filters, and the feature maps each
conv layer makes of one test image. Also the class names of each image set, and the helpers that
keep a widget's value while its tab is closed."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch
from torch import nn

from playground import charts
from playground.checkpoints import Predictor
from playground.jobs import MnistView, Snapshot
from playground.ui import common

PAGE = "mnist"
TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


def class_names(dataset: str) -> tuple[str, ...]:
    """What each class is called: the digits for MNIST, the set's own names for the others."""
    if dataset == "fashion_mnist":
        from datasets import fashion_mnist
        return fashion_mnist.CLASSES
    if dataset == "cifar10":
        from datasets import cifar10
        return cifar10.CLASSES
    return tuple(str(d) for d in range(10))


def noun(dataset: str) -> str:
    """One test item: "digit" (MNIST) or "image"."""
    return "digit" if dataset == "mnist" else "image"


def with_article(name: str) -> str:
    """"an airplane", "a cat", "a 7" (digits as the MNIST page always said them)."""
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def kind_word(dataset: str) -> str:
    """What a class is: "digit" (MNIST) or "class"."""
    return "digit" if dataset == "mnist" else "class"


# ------------------------------------------------------------------ widgets in tabs
def remember(key: str, default) -> None:
    """A widget in a closed tab is not drawn, and Streamlit forgets its value: bring it back."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(f"{key}:kept", default)


def keep(key: str, value):
    st.session_state[f"{key}:kept"] = value
    return value


# ------------------------------------------------------------------ inside the CNN
def first_conv(model: nn.Module) -> nn.Conv2d | None:
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


@torch.no_grad()
def conv_outputs(model: nn.Module, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """What each conv layer of a CNN (an nn.Sequential, as models.build_model makes it) makes of
    one image in [0, 1] ((c, h, w)): per conv layer (name, its maps after its activation, before
    pooling, (channels, h, w)). The layers run one by one up to the Flatten, on the CPU copy."""
    x = torch.tensor(np.asarray(image, np.float32))[None]      # a copy: the test images are read-only
    found, previous = [], None
    for layer in model.children():
        if isinstance(layer, nn.Flatten):
            break
        x = layer(x)
        if isinstance(previous, nn.Conv2d):      # the layer after a conv is its activation
            act = type(layer).__name__.replace("Identity", "no activation")
            c, h, w = x.shape[1:]
            found.append((f"conv layer {len(found) + 1}: {c} maps of {h}x{w}, after {act}",
                          x[0].numpy().copy()))
        previous = layer
    return found


def cached_outputs(predictor: Predictor, index: int, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """conv_outputs once per (model copy, test image): polls that draw the same ones reuse them."""
    slot = f"{PAGE}:maps-held"
    held = st.session_state.get(slot)
    if held is not None and held[0] is predictor and held[1] == index:
        return held[2]
    outputs = conv_outputs(predictor.model, image)
    st.session_state[slot] = (predictor, index, outputs)
    return outputs


def inside_cnn(snap: Snapshot) -> None:
    """The 'Inside the CNN' tab: the first conv layer's filters, and on request one test image's
    feature maps (computed here, in the web process, on the snapshot's CPU copy of the model)."""
    predictor, view = snap.predictor, snap.mnist
    conv = first_conv(predictor.model) if predictor is not None else None
    if conv is None or view is None:
        st.caption("The filters appear once the CNN has a model: press Play or Step.")
        return
    st.caption("Each conv filter slides over the image and lights up where the image looks like it. "
               "These are the first layer's filters, as the training has shaped them so far.")
    common.chart(PAGE, "filters", (predictor,),
                 lambda: charts.conv_filters(conv.weight.detach().numpy()))
    key = f"{PAGE}:maps"
    remember(key, False)
    if not keep(key, st.toggle("Show the feature maps of a test image", key=key,
                               help="What each conv layer makes of one test image: one small picture "
                                    "per filter (bright: where that filter responds strongly).")):
        return
    feature_maps(snap, predictor, view)


def feature_maps(snap: Snapshot, predictor: Predictor, view: MnistView) -> None:
    n, dataset = len(view.labels), snap.config.dataset
    key = f"{PAGE}:maps-index"
    remember(key, int(st.session_state.get(f"{PAGE}:index:kept", 0)))
    if not 0 <= st.session_state[key] < n:
        st.session_state[key] = 0
    index = keep(key, int(st.number_input(f"Test {noun(dataset)} (0 to {n - 1})", min_value=0,
                                          max_value=n - 1, step=1, key=key)))
    names = class_names(dataset)
    true, guess = names[int(view.labels[index])], names[int(view.predicted[index])]
    outputs = cached_outputs(predictor, index, view.images[index])
    left, right = st.columns([1, 4])
    with left:
        common.chart(PAGE, "maps-image", (view.images, index),
                     lambda: charts.image_picture(view.images[index], with_article(true), height=240))
        st.caption(f"The network says **{guess}**.")
    with right:
        for i, (title, maps) in enumerate(outputs):
            common.chart(PAGE, f"maps-{i}", (maps,), lambda t=title, m=maps: charts.feature_maps(m, t))
