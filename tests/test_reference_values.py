"""Numbers checked against references computed outside the code under test.

Every loss of every task (config.LOSSES_FOR_TASK) is compared with torch.nn.functional written
out here, on hand-made tensors, through the whole chain a run uses: config -> model -> Head ->
loss, evaluation.loss_and_accuracy, and one real Trainer step (the weights must move by the
gradient of the reference loss). The confusion matrix, per-class accuracy, the decision surface
and the confusion-matrix chart are checked on cases small enough to count by hand.

These are the tests that catch a loss silently swapped for another (l1 -> mse), a loss taken on
the wrong quantity (binary mse on logits instead of probabilities) or a transposed matrix.
"""
import base64
import math

import numpy as np
import plotly.io
import pytest
import torch
import torch.nn.functional as F

from playground import charts, evaluation
from playground import config as cfg
from playground.models import Head, build_model, head_for

# The reference of every (task, loss) pair, from the raw scores `z` of the last Linear layer (before
# the LogSoftmax that "nll" models end with) and the labels or targets `y`. Written from the
# definitions, not from playground.models.
REFERENCE = {
    ("regression", "mse"): lambda z, y: F.mse_loss(z[:, 0], y.float()),
    ("regression", "l1"): lambda z, y: F.l1_loss(z[:, 0], y.float()),
    ("binary", "bce_with_logits"): lambda z, y: F.binary_cross_entropy_with_logits(z[:, 0], y.float()),
    # squared error on the probability of class 1, as TensorFlow Playground does
    ("binary", "mse"): lambda z, y: F.mse_loss(torch.sigmoid(z[:, 0]), y.float()),
    ("binary", "cross_entropy"): lambda z, y: F.cross_entropy(z, y),
    ("binary", "nll"): lambda z, y: F.nll_loss(F.log_softmax(z, 1), y),
    ("multiclass", "cross_entropy"): lambda z, y: F.cross_entropy(z, y),
    ("multiclass", "nll"): lambda z, y: F.nll_loss(F.log_softmax(z, 1), y),
    ("multiclass", "mse"): lambda z, y: F.mse_loss(F.softmax(z, 1), F.one_hot(y, z.shape[1]).float()),
}
# How many numbers the network outputs for each pair (one logit for bce and binary mse).
N_OUT = {("regression", "mse"): 1, ("regression", "l1"): 1, ("binary", "bce_with_logits"): 1,
         ("binary", "mse"): 1, ("binary", "cross_entropy"): 2, ("binary", "nll"): 2,
         ("multiclass", "cross_entropy"): 4, ("multiclass", "nll"): 4, ("multiclass", "mse"): 4}
DATASET_OF = {"regression": "prod", "binary": "xor", "multiclass": "quadrants"}   # quadrants: 4 classes
N_CLASSES = {"regression": 1, "binary": 2, "multiclass": 4}
PAIRS = sorted(REFERENCE)


def test_every_loss_of_every_task_has_a_reference():
    declared = {(task, loss) for task, losses in cfg.LOSSES_FOR_TASK.items() for loss in losses}
    assert declared == set(REFERENCE), "a new loss needs a reference in REFERENCE (and N_OUT)"


def hand_made(task: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs, weights, bias and labels small enough to read: 6 points, 2 inputs."""
    x = torch.tensor([[0.5, -1.0], [1.0, 1.0], [-0.5, 0.25], [0.0, 0.75], [-1.0, -0.5], [0.25, 0.5]])
    n_out = N_OUT[(task, "cross_entropy" if task != "regression" else "mse")]
    w = torch.tensor([[1.5, -2.0], [-0.5, 1.0], [0.25, 0.75], [-1.0, -0.25]])
    b = torch.tensor([0.1, -0.2, 0.3, 0.0])
    y = {"regression": torch.tensor([0.3, -1.2, 0.0, 2.0, 0.7, -0.1]),
         "binary": torch.tensor([1, 0, 0, 1, 1, 0]),
         "multiclass": torch.tensor([0, 3, 1, 2, 2, 0])}[task]
    return x, w[:n_out], b[:n_out], y


def linear_model(task: str, loss: str, w: torch.Tensor, b: torch.Tensor):
    """The app's own network for this task and loss, with no hidden layer and the given weights."""
    config = cfg.from_dict(dict(dataset=DATASET_OF[task], loss=loss, hidden=""))
    model = build_model(config, 2, N_CLASSES[task])
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 1
    with torch.no_grad():
        linears[0].weight.copy_(w[:N_OUT[(task, loss)]])
        linears[0].bias.copy_(b[:N_OUT[(task, loss)]])
    return config, model


@pytest.mark.parametrize("task, loss", PAIRS)
def test_loss_matches_torch_functional(task, loss):
    x, w, b, y = hand_made(task)
    config, model = linear_model(task, loss, w, b)
    head = head_for(config, N_CLASSES[task])
    z = x @ w[:N_OUT[(task, loss)]].T + b[:N_OUT[(task, loss)]]       # the scores, by hand
    expected = REFERENCE[(task, loss)](z, y).item()
    out = model(x)
    assert out.shape == (6, N_OUT[(task, loss)])
    assert head.loss(out, head.targets(y)).item() == pytest.approx(expected, rel=1e-6, abs=1e-7)
    # the same number through evaluation, which the curves and the test loss show
    loss_value, acc = evaluation.loss_and_accuracy(model, head, x, head.targets(y), y)
    assert loss_value == pytest.approx(expected, rel=1e-6, abs=1e-7)
    if task == "regression":
        assert acc is None
    else:
        predicted = (z[:, 0] > 0).long() if N_OUT[(task, loss)] == 1 else z.argmax(1)
        assert acc == pytest.approx((predicted == y).float().mean().item())


@pytest.mark.parametrize("task, loss", PAIRS)
def test_one_training_step_follows_the_reference_gradient(task, loss):
    """A real Trainer, full-batch plain SGD on a linear model: after one step the weights are
    w - lr * d(reference loss)/dw, so the loss that is minimised is the one the student chose."""
    from playground.training import Trainer
    lr = 0.5
    config = cfg.from_dict(dict(dataset=DATASET_OF[task], loss=loss, hidden="", optimizer="sgd", lr=lr,
                                n_points=40, test_ratio=0.5, batch_size=20, epochs=1, seed=3, device="cpu"))
    trainer = Trainer(config, device="cpu", fast_path="eager")
    layer = next(m for m in trainer.model.modules() if isinstance(m, torch.nn.Linear))
    w = layer.weight.detach().clone().requires_grad_(True)
    b = layer.bias.detach().clone().requires_grad_(True)
    x, y = trainer.x_train.clone(), trainer.y_train.clone()
    assert len(x) == 20                                             # the whole training split in one batch
    reference = REFERENCE[(task, loss)](x @ w.T + b, y)
    reference.backward()
    trainer.step(1)
    assert torch.allclose(layer.weight.detach(), w.detach() - lr * w.grad, atol=1e-6)
    assert torch.allclose(layer.bias.detach(), b.detach() - lr * b.grad, atol=1e-6)
    assert trainer.epoch == 1                                       # one batch is the whole epoch
    assert trainer.history[-1].train_loss == pytest.approx(reference.item(), rel=1e-5)


def test_losses_on_numbers_worked_out_by_hand():
    """A few values with no library at all, so the references above are checked too."""
    reg = Head("regression", 1, "mse")
    out, y = torch.tensor([[0.5], [-1.0], [2.0]]), torch.tensor([1.0, 0.0, 2.5])
    assert reg.loss(out, reg.targets(y)).item() == pytest.approx((0.25 + 1 + 0.25) / 3)
    l1 = Head("regression", 1, "l1")
    assert l1.loss(out, l1.targets(y)).item() == pytest.approx((0.5 + 1 + 0.5) / 3)
    # binary mse on probabilities: logits 0, 0, ln 3 are probabilities 1/2, 1/2, 3/4
    mse = Head("binary", 2, "mse")
    logits, labels = torch.tensor([[0.0], [0.0], [math.log(3)]]), torch.tensor([1, 0, 1])
    assert mse.loss(logits, mse.targets(labels)).item() == pytest.approx((0.25 + 0.25 + 0.0625) / 3)
    bce = Head("binary", 2, "bce_with_logits")
    assert bce.loss(logits, bce.targets(labels)).item() == pytest.approx((2 * math.log(2) + math.log(4 / 3)) / 3)
    ce = Head("multiclass", 3, "cross_entropy")
    assert ce.loss(torch.zeros(2, 3), ce.targets(torch.tensor([0, 2]))).item() == pytest.approx(math.log(3))
    mse3 = Head("multiclass", 3, "mse")   # softmax of zeros is 1/3 each: (4/9 + 1/9 + 1/9) / 3 per row
    assert mse3.loss(torch.zeros(2, 3), mse3.targets(torch.tensor([0, 2]))).item() == pytest.approx(2 / 9)


@pytest.mark.parametrize("task, loss", PAIRS)
def test_probabilities_and_predictions_by_hand(task, loss):
    x, w, b, y = hand_made(task)
    config, model = linear_model(task, loss, w, b)
    head = head_for(config, N_CLASSES[task])
    z = x @ w[:N_OUT[(task, loss)]].T + b[:N_OUT[(task, loss)]]
    proba = evaluation.predict_proba(model, head, x)
    if task == "regression":
        expected, predicted = z[:, 0], z[:, 0]
    elif N_OUT[(task, loss)] == 1:
        p1 = 1 / (1 + torch.exp(-z[:, 0]))
        expected, predicted = torch.stack([1 - p1, p1], 1), (z[:, 0] > 0).long()
    else:
        expected, predicted = torch.exp(z) / torch.exp(z).sum(1, keepdim=True), z.argmax(1)
    assert np.allclose(proba, expected.numpy(), atol=1e-6)
    assert torch.equal(head.predict(model(x)), predicted)


# ------------------------------------------------------------------ confusion matrix
TRUE = np.array([0, 0, 0, 1, 2, 2, 1, 0])
PRED = np.array([0, 1, 2, 1, 2, 0, 1, 0])
# counted by hand: row = true class, column = predicted class; class 3 never occurs
HAND_CM = np.array([[2, 1, 1, 0],
                    [0, 2, 0, 0],
                    [1, 0, 1, 0],
                    [0, 0, 0, 0]])


def test_confusion_matrix_rows_are_the_true_class():
    cm = evaluation.confusion_matrix(TRUE, PRED, 4)
    assert cm.tolist() == HAND_CM.tolist()
    assert cm.sum() == len(TRUE) and cm.dtype.kind == "i"
    # one example, true 2 read as 0: row 2, column 0 (a transposed matrix puts it at row 0, column 2)
    one = evaluation.confusion_matrix(np.array([2]), np.array([0]), 3)
    assert one[2, 0] == 1 and one.sum() == 1


def test_per_class_accuracy_is_recall_per_true_class():
    acc = evaluation.per_class_accuracy(HAND_CM)
    # class 0: 2 of 4 right; class 1: 2 of 2; class 2: 1 of 2; class 3: no examples, shown as 0
    assert acc.tolist() == pytest.approx([0.5, 1.0, 0.5, 0.0])
    assert evaluation.accuracy(TRUE, PRED) == pytest.approx(5 / 8)


def typed(value) -> np.ndarray:
    """A plotly array as a chart carries it: plotly's typed-array form or a plain list."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), np.dtype(value["dtype"]).newbyteorder("<"))
        return flat.reshape([int(n) for n in value["shape"].split(",")]) if "shape" in value else flat
    return np.asarray(value, dtype=float)


def confusion_chart_cells(figure) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(shares, counts, x title, y title) of a confusion-matrix figure, as Streamlit sends it."""
    import json
    spec = json.loads(plotly.io.to_json(figure, validate=False))
    heatmap = next(trace for trace in spec["data"] if trace["type"] == "heatmap")
    layout = spec["layout"]
    return (typed(heatmap["z"]), np.asarray(heatmap["text"]), layout["xaxis"]["title"]["text"],
            layout["yaxis"]["title"]["text"])


def cell_at(z: np.ndarray, x_title: str, y_title: str, true: int, predicted: int):
    """The value the chart draws at (true class, predicted class), whichever axis its titles name
    the true class: plotly draws z[i][j] at y = i, x = j."""
    if "true" in y_title.lower() and "predict" in x_title.lower():
        return z[true][predicted]
    if "true" in x_title.lower() and "predict" in y_title.lower():
        return z[predicted][true]
    raise AssertionError(f"the axis titles ({x_title!r}, {y_title!r}) do not say which is the true class")


def test_confusion_chart_draws_each_count_where_its_axes_say():
    figure = charts.confusion_matrix(HAND_CM[:3, :3])
    z, text, x_title, y_title = confusion_chart_cells(figure)
    rows = HAND_CM[:3, :3].sum(1)
    for true in range(3):
        for predicted in range(3):
            count = HAND_CM[true, predicted]
            assert cell_at(text, x_title, y_title, true, predicted) == count
            assert cell_at(z, x_title, y_title, true, predicted) == pytest.approx(count / rows[true])
    # the asymmetric cells: true 0 read as 2 (1 of 4) and true 2 read as 0 (1 of 2)
    assert cell_at(z, x_title, y_title, 0, 2) == pytest.approx(0.25)
    assert cell_at(z, x_title, y_title, 2, 0) == pytest.approx(0.5)


# ------------------------------------------------------------------ decision surface
def hand_linear(n_in: int, weight, bias, tail: torch.nn.Module | None = None) -> torch.nn.Sequential:
    layer = torch.nn.Linear(n_in, len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight, dtype=torch.float32))
        layer.bias.copy_(torch.tensor(bias, dtype=torch.float32))
    return torch.nn.Sequential(layer, *([tail] if tail is not None else []))


def plane(size: int, domain=(-1.0, 1.0)):
    """x1 grows along a row (column j), x2 down the rows (row i), as evaluation.grid_points says."""
    axis = np.linspace(domain[0], domain[1], size)
    return np.meshgrid(axis, axis)          # x1[i, j] = axis[j], x2[i, j] = axis[i]


def test_binary_surface_is_the_sigmoid_of_a_known_plane():
    model = hand_linear(2, [[2.0, -1.0]], [0.5])
    grid = evaluation.surface(model, Head("binary", 2, "bce_with_logits"), (), (-1, 1), 5)
    x1, x2 = plane(5)
    expected = 1 / (1 + np.exp(-(2 * x1 - x2 + 0.5)))
    assert grid.shape == (5, 5)
    assert np.allclose(grid, expected, atol=1e-6)
    assert grid[0, 4] > 0.9 and grid[4, 0] < 0.1          # x1 = 1, x2 = -1 is class 1; the other corner 0


def test_binary_surface_with_two_outputs_is_the_class_1_softmax():
    model = hand_linear(2, [[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0])    # class-1 score x1, class-0 score x2
    grid = evaluation.surface(model, Head("binary", 2, "cross_entropy"), (), (-1, 1), 4)
    x1, x2 = plane(4)
    assert np.allclose(grid, np.exp(x1) / (np.exp(x1) + np.exp(x2)), atol=1e-6)


def test_multiclass_surface_with_extra_features_by_hand():
    # inputs: x1, x2, x1², x1·x2 (config.FEATURES order); three classes
    weight = [[1.0, 0.0, 0.0, 2.0], [0.0, -1.0, 1.0, 0.0], [0.5, 0.5, -1.0, -1.0]]
    bias = [0.0, 0.1, -0.1]
    model = hand_linear(4, weight, bias, torch.nn.LogSoftmax(dim=1))
    grid = evaluation.surface(model, Head("multiclass", 3, "nll"), ("x1x2", "x1sq"), (-2, 2), 6)
    x1, x2 = plane(6, (-2, 2))
    inputs = np.stack([x1, x2, x1 * x1, x1 * x2], -1)
    scores = inputs @ np.array(weight).T + np.array(bias)
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    assert grid.shape == (6, 6, 3)
    assert np.allclose(grid, expected, atol=1e-5)


def test_regression_surface_is_the_output_itself():
    model = hand_linear(2, [[3.0, 0.5]], [-1.0])
    grid = evaluation.surface(model, Head("regression", 1, "l1"), (), (-1, 1), 3)
    x1, x2 = plane(3)
    assert np.allclose(grid, 3 * x1 + 0.5 * x2 - 1, atol=1e-6)
    assert grid[1, 2] == pytest.approx(2.0)                # x1 = 1, x2 = 0
