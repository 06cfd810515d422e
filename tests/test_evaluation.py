"""Accuracy, confusion matrices and decision-surface grids."""
import numpy as np
import torch

from playground import config as cfg
from playground import evaluation
from playground.models import build_model, head_for


def test_confusion_matrix_and_per_class_accuracy():
    true = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    cm = evaluation.confusion_matrix(true, pred, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert evaluation.per_class_accuracy(cm).tolist() == [0.5, 1.0, 0.5]
    assert evaluation.accuracy(true, pred) == 4 / 6


def test_grid_points_orientation():
    points = evaluation.grid_points((-1, 1), 3)
    assert points.shape == (9, 2)
    assert points[0].tolist() == [-1, -1] and points[2].tolist() == [1, -1] and points[6].tolist() == [-1, 1]


def test_surface_shapes_by_task():
    for dataset, shape in (("xor", (20, 20)), ("quadrants", (20, 20, 4)), ("prod", (20, 20))):
        config = cfg.from_dict(dict(dataset=dataset, features=("x1x2",)))
        n_classes = {"quadrants": 4, "prod": 1}.get(dataset, 2)
        model = build_model(config, 3, n_classes, torch.Generator().manual_seed(0))
        grid = evaluation.surface(model, head_for(config, n_classes), config.features, (-1, 1), 20)
        assert grid.shape == shape
        if dataset == "quadrants":
            assert np.allclose(grid.sum(-1), 1, atol=1e-5)
        if dataset == "xor":
            assert 0 <= grid.min() and grid.max() <= 1


def test_loss_and_accuracy_leave_the_mode_alone():
    config = cfg.from_dict(dict(dataset="xor", dropout=0.5))
    model = build_model(config, 2, 2, torch.Generator().manual_seed(0))
    head = head_for(config, 2)
    x, y = torch.rand(50, 2) * 2 - 1, torch.randint(0, 2, (50,))
    model.train()
    first = evaluation.loss_and_accuracy(model, head, x, head.targets(y), y)
    assert model.training and first == evaluation.loss_and_accuracy(model, head, x, head.targets(y), y)
    assert 0 <= first[1] <= 1


def test_neuron_maps_per_column():
    config = cfg.from_dict(dict(dataset="circle", hidden=(5, 3), features=("x1sq",), dropout=0.2, loss="nll"))
    model = build_model(config, 3, 2, torch.Generator().manual_seed(0))
    maps = evaluation.neuron_maps(model, config.features, (-1, 1), 12)
    assert [m.shape for m in maps] == [(3, 12, 12), (5, 12, 12), (3, 12, 12)]
    assert all(np.abs(m).max() <= 1 + 1e-6 for m in maps)
    assert np.allclose(maps[0][0][0], np.linspace(-1, 1, 12), atol=1e-6)   # x1 grows along a row


def test_dead_relu_units_are_found_per_hidden_layer():
    import torch
    from playground.evaluation import dead_units
    # 2 -> 4 ReLU -> 3 tanh -> 1. Units 1 and 3 of the first layer have a bias of -100: for inputs
    # in [-1, 1]^2 they never fire. The tanh layer cannot die that way.
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3), torch.nn.Tanh(),
                                torch.nn.Linear(3, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 2.0]]))
        model[0].bias.copy_(torch.tensor([0.0, -100.0, 0.0, -100.0]))
        model[2].bias.fill_(-100.0)
    x = torch.rand(500, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1
    first, second = dead_units(model, x)
    assert first.tolist() == [False, True, False, True] and second.tolist() == [False, False, False]
    model[0].bias.data[1] = 0.0                                       # revived: active for some inputs
    assert dead_units(model, x)[0].tolist() == [False, False, False, True]
    assert model.training                                             # left as it was
