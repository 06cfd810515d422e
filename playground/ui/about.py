"""About: what every control means, and the maths behind the loss and the optimizer."""
from __future__ import annotations

import streamlit as st

from playground import config as cfg

LOSSES = {
    "mse": r"L = \frac{1}{n}\sum_{i=1}^{n} (\hat y_i - y_i)^2",
    "l1": r"L = \frac{1}{n}\sum_{i=1}^{n} |\hat y_i - y_i|",
    "bce_with_logits": r"L = -\frac{1}{n}\sum_{i} \big[y_i \log \sigma(z_i) + (1-y_i)\log(1-\sigma(z_i))\big],"
                       r"\quad \sigma(z) = \frac{1}{1+e^{-z}}",
    "cross_entropy": r"L = -\frac{1}{n}\sum_{i} \log \frac{e^{z_{i,y_i}}}{\sum_k e^{z_{i,k}}}",
    "nll": r"L = -\frac{1}{n}\sum_{i} \log p_{i,y_i}, \quad \log p = \mathrm{log\_softmax}(z)",
}
LOSS_WORDS = {
    "mse": "Squares each error: big mistakes cost a lot. For numbers (regression); on classes it "
           "compares the predicted probabilities with 0/1 targets.",
    "l1": "Absolute error: less swayed by a few wild points than MSE.",
    "bce_with_logits": "Binary cross-entropy on one output z: confident wrong answers cost the most.",
    "cross_entropy": "Softmax turns k outputs into probabilities; the loss is minus the log of the "
                     "probability of the right class.",
    "nll": "The same as cross-entropy, with the log-softmax as the network's last layer "
           "(as in the PyTorch tutorials).",
}
OPTIMIZERS = {
    "sgd": [r"v_t = \mu v_{t-1} + g_t", r"w_t = w_{t-1} - \eta\, v_t",
            r"\text{Nesterov: } w_t = w_{t-1} - \eta\,(g_t + \mu v_t)"],
    "adam": [r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2",
             r"\hat m_t = \frac{m_t}{1-\beta_1^t}, \quad \hat v_t = \frac{v_t}{1-\beta_2^t}",
             r"w_t = w_{t-1} - \eta \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}"],
    "adamw": [r"w_t = w_{t-1} - \eta\Big(\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon} + \lambda w_{t-1}\Big)",
              r"\text{(Adam with the weight decay applied to the weights directly)}"],
    "rmsprop": [r"v_t = \alpha v_{t-1} + (1-\alpha) g_t^2",
                r"w_t = w_{t-1} - \eta \frac{g_t}{\sqrt{v_t} + \epsilon}"],
    "adagrad": [r"G_t = G_{t-1} + g_t^2", r"w_t = w_{t-1} - \eta \frac{g_t}{\sqrt{G_t} + \epsilon}"],
}
OPTIMIZER_WORDS = {
    "sgd": "Step against the gradient g. Momentum μ keeps some of the last step's direction.",
    "adam": "Keeps running averages of the gradient and its square: each weight gets its own step size "
            "(β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸).",
    "adamw": "Adam with decoupled weight decay λ (the L2 setting), taken from the weights directly "
             "instead of through the gradient: often generalises better.",
    "rmsprop": "Divides each step by a running average of recent gradient sizes (α = 0.99).",
    "adagrad": "Steps shrink for weights that have had large gradients so far.",
}
REGULARISATION = r"L_{\text{total}} = L + \lambda_1 \sum_{W} |w| + \frac{\lambda_2}{2} \sum w^2"
REGULARISATION_WORDS = ("λ₁ is the L1 setting (weight matrices only, not biases): it pushes small weights "
                        "to exactly 0. λ₂ is the L2 setting: PyTorch adds λ₂·w to every gradient, "
                        "which pulls all weights towards 0 (with AdamW it shrinks the weights directly).")


def render() -> None:
    st.title("About Neural Playground")
    st.markdown("A network is layers of neurons; each computes a weighted sum of its inputs and "
                "passes it through an **activation**. Training shows it examples, measures how "
                "wrong it is with a **loss**, and nudges every weight downhill with an **optimizer**.")
    current = _current_config()
    maths(current)
    controls_reference()


def _current_config() -> cfg.Config:
    for page in ("2d", "mnist"):
        job = st.session_state.get(f"job:{page}")
        if job is not None:
            return job.config
    return cfg.Config()


def maths(current: cfg.Config) -> None:
    st.header("The maths")
    left, right = st.columns(2)
    with left:
        losses = list(LOSSES)
        loss = st.selectbox("Loss", losses, index=losses.index(current.resolved_loss), key="about:loss")
        st.latex(LOSSES[loss])
        st.caption(LOSS_WORDS[loss])
        st.markdown("**Regularisation** (L1 and L2 settings)")
        st.latex(REGULARISATION)
        st.caption(REGULARISATION_WORDS)
    with right:
        names = list(OPTIMIZERS)
        optimizer = st.selectbox("Optimizer", names, index=names.index(current.optimizer), key="about:opt")
        for line in OPTIMIZERS[optimizer]:
            st.latex(line)
        st.caption(OPTIMIZER_WORDS[optimizer] + "  η is the learning rate; g the gradient of the loss.")


def controls_reference() -> None:
    st.header("Every control")
    st.caption("Settings marked *live* take effect at once, even while the network trains. Changing "
               "epochs needs no Reset either; any other change needs Reset (new weights).")
    for group in cfg.GROUPS:
        st.subheader(group)
        rows = [_row(name, knob) for name, knob in cfg.KNOBS.items() if knob.group == group]
        st.table(rows, hide_index=True, border="horizontal")


ONLY_FOR = {"": "always", "toy": "2D data", "generated": "generated 2D data", "image": "image data", "cnn": "CNN model", "sgd": "SGD",
            "normal": "normal init"}


def _row(name: str, knob: cfg.Knob) -> dict[str, str]:
    return {"setting": cfg.label(name), "what it does": knob.help, "allowed": _allowed(name, knob),
            "default": _default(name),
            "used for": ONLY_FOR[knob.only_for], "live": "live" if knob.live else ""}


def _default(name: str) -> str:
    value = cfg.DEFAULTS[name]
    if isinstance(value, bool):
        return "on" if value else "off"
    return cfg.format_value(name, value) or "(none)"


def _allowed(name: str, knob: cfg.Knob) -> str:
    if knob.choices:
        return ", ".join(knob.choices)
    if cfg.kind_of(name) == "bool":
        return "on / off"
    if knob.low is None:
        return ""
    low = f"above {_number(knob.low)}" if knob.low_open else _number(knob.low)
    return f"{low} to {_number(knob.high)}"


def _number(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else f"{x:,}"


if __name__ == "__main__":   # run as a page by st.navigation
    render()
