"""What the downloadable image sets without a bundled sample share (Fashion-MNIST, CIFAR-10):
find the files, read them, else download them, else say plainly how to get them."""
from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from datasets.base import Split
from datasets.mnist import Progress


def load(dataset: ModuleType, data_dir: str | os.PathLike | None, download: bool, progress: Progress | None) -> Split:
    """The set `dataset` (its module) describes, found or downloaded; else its Error saying how to
    get it. A damaged copy in the user's own folder is reported, never rewritten."""
    error = dataset.Error
    target = Path(data_dir) if data_dir else dataset.cache_dir()   # where a download goes
    folder = dataset.find_dir(data_dir)
    if folder is not None:
        try:
            return dataset.read_dir(folder)
        except error as e:
            if not (download and folder == target):
                raise error(f"{dataset.TITLE} in {folder} cannot be used: {e}. {dataset.replace_hint()}, "
                            f"or delete it to download it again.") from None
    if not download:
        raise error(dataset.missing_message(data_dir, target, "downloading is off"))
    try:
        dataset.fetch(target, progress)
    except (error, OSError) as e:
        raise error(dataset.missing_message(data_dir, target, f"the download failed: {e}")) from None
    return dataset.read_dir(target)
