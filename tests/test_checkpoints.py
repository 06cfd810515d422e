"""Checkpoints: round trip, safe loading, clear errors for anything else."""
import pickle

import numpy as np
import pytest
import torch

from playground import checkpoints
from playground import config as cfg
from playground.checkpoints import CheckpointError, Predictor
from playground.training import Trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    trainer = Trainer(cfg.from_dict(dict(dataset="quadrants", hidden=(8,), epochs=3, device="cpu")))
    trainer.run()
    path = tmp_path_factory.mktemp("ckpt") / "run.pt"
    checkpoints.save(path, trainer.config, trainer.model, 2, 4)
    return trainer, path


def test_round_trip_predicts_the_same(trained):
    trainer, path = trained
    predictor = checkpoints.load(path)
    assert predictor.config == trainer.config
    points = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]], np.float32)
    with torch.no_grad():
        expected = torch.softmax(trainer.model(torch.from_numpy(points)), 1).numpy()
    assert np.allclose(predictor.proba(points), expected, atol=1e-6)
    assert checkpoints.load(path.read_bytes()).config == trainer.config


class Evil:
    def __reduce__(self):
        return (print, ("this code ran",))


@pytest.mark.parametrize("make, words", [
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200)), "not a file saved by PyTorch"),
    (lambda p: p.write_bytes(b""), "not a file saved by PyTorch"),
    (lambda p: p.write_bytes(pickle.dumps(Evil())), "not a file saved by PyTorch"),
    (lambda p: torch.save({"a": 1}, p), "no format marker"),
])
def test_bad_files_are_rejected(tmp_path, make, words, capsys):
    path = tmp_path / "upload.pt"
    make(path)
    with pytest.raises(CheckpointError, match=words):
        checkpoints.load(path)
    assert "this code ran" not in capsys.readouterr().out


def test_code_inside_a_torch_file_never_runs(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": checkpoints.FORMAT, "payload": Evil()}, path)
    with pytest.raises(CheckpointError, match="holds code or objects other than weights"):
        checkpoints.load(path)
    assert "this code ran" not in capsys.readouterr().out


def test_truncated_and_mismatched_checkpoints(trained, tmp_path):
    _, path = trained
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        checkpoints.load(truncated)
    payload = torch.load(path, weights_only=True)
    payload["config"] = cfg.to_json(cfg.from_dict(dict(dataset="quadrants", hidden=(16,))))
    other = tmp_path / "other.pt"
    torch.save(payload, other)
    with pytest.raises(CheckpointError, match="do not match"):
        checkpoints.load(other)


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "MAX_CHECKPOINT_BYTES", 100)
    big = tmp_path / "big.pt"
    big.write_bytes(bytes(1000))
    with pytest.raises(CheckpointError, match="larger than"):
        checkpoints.load(big)


def test_predictor_from_model_is_a_detached_copy(trained):
    trainer, _ = trained
    predictor = Predictor.from_model(trainer.config, trainer.model, 2, 4)
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.add_(1.0)
    assert not torch.equal(next(predictor.model.parameters()), next(trainer.model.parameters()))
