"""A small MNIST look-alike in IDX files: each class is a bright bar at its own row, with
noise, so a network can learn it and a wrong reader cannot."""

import gzip
import struct

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(np.uint8).tobytes()


def images(labels: np.ndarray, rng: np.random.Generator, side: int = 12) -> np.ndarray:
    out = rng.integers(0, 60, size=(len(labels), side, side))
    for k, label in enumerate(labels):
        out[k, label + 1, 1:-1] = 255
    return out.astype(np.uint8)


def write_mnist(folder, n_train=300, n_test=100, seed=0, gz=False, side=12):
    """Write the four files into ``folder``; returns the test labels."""
    rng = np.random.default_rng(seed)
    train_labels = rng.integers(0, 10, n_train).astype(np.uint8)
    test_labels = rng.integers(0, 10, n_test).astype(np.uint8)
    files = {
        "train-images-idx3-ubyte": images(train_labels, rng, side),
        "train-labels-idx1-ubyte": train_labels,
        "t10k-images-idx3-ubyte": images(test_labels, rng, side),
        "t10k-labels-idx1-ubyte": test_labels,
    }
    for name, array in files.items():
        data = idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return test_labels
