"""What a job and a Trainer report besides the training itself: an image job's confusion matrix,
download progress, a job whose worker died, the Trainer's summary (the CLI's JSON) and the short
reason shown when the CUDA graph path falls back to eager."""
import types

import numpy as np

from playground import config as cfg
from playground import jobs as jobs_module
from playground.jobs import Job
from playground.training import Trainer, _first_line
from tests.test_jobs import pool, small, wait_for  # noqa: F401 - pool is a fixture


def test_an_image_job_publishes_the_confusion_matrix_of_its_own_predictions(pool):
    config = cfg.from_dict(dict(dataset="mnist", hidden=(16,), epochs=1, batch_size=128, device="cpu"))
    job = Job(config, pool=pool)
    job.play()
    snap = wait_for(job, {"finished", "failed"}, timeout=120)
    assert snap.status == "finished", snap.message
    view = snap.mnist
    n_test = len(view.labels)
    assert view.probs.shape == (n_test, 10) and view.confusion.shape == (10, 10)
    counted = np.zeros((10, 10), np.int64)
    for true, guess in zip(view.labels, view.probs.argmax(1)):
        counted[true, guess] += 1
    assert (view.confusion == counted).all() and view.confusion.sum() == n_test
    job.close()


def test_download_progress_is_published_as_loading_with_the_file_name():
    sent = []
    run = jobs_module.Run(types.SimpleNamespace(config=None), None, sent.append)
    run._on_download("train-images-idx3-ubyte.gz", 50, 200)
    run._on_download("t10k-labels-idx1-ubyte.gz", 10, None)        # no size known yet
    assert sent == [{"status": "loading", "progress": 0.25, "message": "downloading train-images-idx3-ubyte.gz"},
                    {"status": "loading", "progress": None, "message": "downloading t10k-labels-idx1-ubyte.gz"}]


def test_after_its_worker_died_a_job_says_so_and_plays_again_from_fresh_weights(pool):
    job = Job(small(epochs=3), pool=pool)
    job.play()
    wait_for(job, {"finished"})
    job.worker_died("the training process stopped (out of memory?)")
    snap = job.snapshot()
    assert snap.status == "failed" and snap.message == "the training process stopped (out of memory?)"
    job.play()
    snap = wait_for(job, {"finished", "failed"})
    assert snap.status == "finished" and snap.epoch == 3, snap.message
    job.close()


def test_the_summary_reports_the_run_under_its_documented_names():
    trainer = Trainer(small(epochs=2))
    trainer.run()
    last = trainer.history[-1]
    summary = trainer.summary()
    assert summary == {
        "dataset": "xor", "task": "binary", "device": "cpu", "epochs": 2, "status": "ok", "message": "",
        "final_train_loss": last.train_loss, "final_test_loss": last.test_loss,
        "train_accuracy": last.train_acc, "test_accuracy": last.test_acc,
        "seconds": round(trainer.seconds, 4), "steps": trainer.steps,
        "steps_per_second": round(trainer.steps / trainer.train_seconds, 1),
        "used_sample": False, "fast_path": trainer.fast_path, "data_source": trainer.split.source}
    assert summary["seconds"] == round(summary["seconds"], 4) > 0
    assert summary["steps"] == 2 * -(-150 // 16)    # 300 points, half for the test, batches of 16


def test_a_summary_before_any_training_has_no_speed_or_losses():
    summary = Trainer(small()).summary()
    assert summary["epochs"] == 0 and summary["steps_per_second"] is None
    assert summary["final_train_loss"] is None and summary["test_accuracy"] is None


def test_the_fallback_reason_is_the_first_line_of_the_error_cut_to_160_characters():
    assert _first_line(RuntimeError("\n  CUDA error: operation not permitted\nsecond line")) == \
        "CUDA error: operation not permitted"
    assert _first_line(RuntimeError("x" * 200)) == "x" * 160
    assert _first_line(RuntimeError("")) == "RuntimeError"
