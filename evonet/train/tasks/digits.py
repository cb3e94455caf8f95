"""``digits``: classify handwritten digits, softmax over ten classes.

By default the 8x8 digits that ship with scikit-learn (1,797 images, the optional extra
``evonet[digits]``); with ``--data FOLDER``, MNIST's own IDX files the user already has
(28x28, 60,000 training and 10,000 test images). Nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from evonet.nn import recurrent
from evonet.nn.mlp import Topology
from evonet.train.fit import TrainConfig
from evonet.train.losses import accuracy
from evonet.train.task import Data, Task
from evonet.train.tasks import idx

TARGET_ACCURACY = 0.97
SPLIT_SEED = 20260101  # the same validation and test images in every run, whatever --seed
VAL_SHARE, TEST_SHARE = 0.2, 0.2  # of the 8x8 set; MNIST has its own test files
MNIST_VAL = 5_000  # training images held out for validation


class MissingData(ValueError):
    """The digits are not available: scikit-learn is not installed."""


def _standardise(train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Inputs centred and scaled per pixel with the training set's statistics (a pixel
    that is always blank stays 0). Returns the arrays, then ``shift``, ``scale``."""
    shift = train.mean(axis=0)
    # + 0.1 keeps rarely-inked border pixels from being blown up into noise.
    scale = train.std(axis=0) + 0.1
    return (*((a - shift) / scale for a in (train, *others)), shift, scale)


def _one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


def _data(
    x: np.ndarray, labels: np.ndarray, parts: tuple[np.ndarray, np.ndarray, np.ndarray], side: int
) -> Data:
    """A Data from raw inputs ``(N, n_in)`` in [0, 1], labels ``(N,)`` and the row
    indices of the train, validation and test parts."""
    k = max(10, int(labels.max()) + 1)
    tr, va, te = parts
    x_tr, x_va, x_te, shift, scale = _standardise(x[tr], x[va], x[te])
    return Data(
        x_tr,
        _one_hot(labels[tr], k),
        x_te,
        _one_hot(labels[te], k),
        x_va,
        _one_hot(labels[va], k),
        shift,
        scale,
        classes=tuple(str(c) for c in range(k)),
        image=(side, side),
    )


def load_bundled() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits: pixels ``(1797, 64)`` in [0, 1] and labels ``(1797,)``.

    Read from the file scikit-learn ships (``datasets/data/digits.csv.gz``: per row 64
    pixels from 0 to 16, then the label) without importing scikit-learn, whose import
    (SciPy's with it) takes longer than the training; through scikit-learn only if that
    file has moved."""
    import importlib.util

    missing = MissingData(
        "the 8x8 digits ship with scikit-learn: pip install 'evonet[digits]' "
        "(or give --data FOLDER with MNIST's IDX files)"
    )
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):  # ValueError: a module without a spec
        raise missing from None
    if spec is None:
        raise missing
    for folder in spec.submodule_search_locations or ():
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            try:
                rows = np.loadtxt(path, delimiter=",", ndmin=2)
            except (OSError, EOFError, ValueError):  # damaged, or not numbers
                break  # left to scikit-learn, which says what it makes of the file
            # The layout load_digits reads; anything else is left to scikit-learn itself.
            if rows.shape[1] == 65 and rows.min() >= 0 and rows[:, :-1].max() <= 16:
                return rows[:, :-1] / 16.0, rows[:, -1].astype(np.int64)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise missing from None
    x, y = load_digits(return_X_y=True)
    return x / 16.0, y.astype(np.int64)


def make_data(rng: np.random.Generator) -> Data:
    """The 8x8 digits split 60/20/20 into train, validation and test by a fixed seed;
    ``rng`` is not used, so every run sees the same split."""
    x, y = load_bundled()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    n_test, n_val = round(TEST_SHARE * len(x)), round(VAL_SHARE * len(x))
    parts = (order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test])
    return _data(x, y, parts, 8)


def mnist_data(folder: Path) -> Data:
    """MNIST from ``folder``: its training files less ``MNIST_VAL`` images held out (by
    a fixed seed) for validation, and its test files."""
    images, labels = idx.read_pair(folder, "train")
    test_images, test_labels = idx.read_pair(folder, "t10k")
    if images.shape[1:] != test_images.shape[1:]:
        raise idx.IdxError(
            f"{folder}: training images are {images.shape[1]}x{images.shape[2]}, test images "
            f"{test_images.shape[1]}x{test_images.shape[2]}"
        )
    if len(images) < 2:
        raise idx.IdxError(f"{folder}: needs at least 2 training images")
    n_val = min(MNIST_VAL, len(images) // 10 or 1)
    x = np.concatenate([images, test_images]).reshape(len(images) + len(test_images), -1)
    y = np.concatenate([labels, test_labels]).astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    parts = (order[n_val:], order[:n_val], np.arange(len(images), len(x)))
    return _data(x / 255.0, y, parts, images.shape[1])


def from_folder(folder: str | Path) -> Task:
    """The digits task on MNIST's IDX files in ``folder``. The files are read and checked
    here, once; every run then shares the arrays."""
    data = mnist_data(Path(folder))
    return dataclasses.replace(
        TASK, n_in=data.x.shape[1], n_out=data.y.shape[1], make_data=lambda rng: data
    )


def metrics(theta: np.ndarray, topo: Topology, data: Data) -> dict:
    acc = accuracy(recurrent.run(theta, data.x_test, topo), data.y_test)
    return {"accuracy": acc, "solved": acc >= TARGET_ACCURACY}


TASK = Task(
    "digits",
    64,
    10,
    (128,),
    "relu",
    "softmax",
    TrainConfig(
        loss="cross_entropy",
        optimizer="adam",
        lr=0.003,
        epochs=60,
        batch_size=32,
        weight_decay=1e-3,
    ),
    make_data,
    metrics,
    summary="classify handwritten digits (8x8 from scikit-learn, or MNIST with --data)",
    fixed_data=True,  # the split does not depend on --seed: read the images once
)
