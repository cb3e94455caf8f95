import gzip
import struct

import numpy as np
import pytest

from evonet.train.tasks import idx
from tests.evonet.train.tasks.mnist_fixture import idx_bytes, write_mnist


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
def test_the_reader_returns_what_was_written(tmp_path, gz):
    write_mnist(tmp_path, n_train=30, n_test=10, gz=gz)
    images, labels = idx.read_pair(tmp_path, "train")
    assert images.shape == (30, 12, 12) and images.dtype == np.uint8
    assert labels.shape == (30,)
    # Each image's bright row is its label's: the bytes landed where they belong.
    assert (images[:, 1:-1, 1:-1].mean(axis=2).argmax(axis=1) == labels).all()


def test_the_dotted_file_names_some_copies_use_are_found(tmp_path):
    write_mnist(tmp_path, n_train=20, n_test=5)
    for path in list(tmp_path.iterdir()):
        path.rename(tmp_path / path.name.replace("-idx", ".idx"))
    assert len(idx.read_pair(tmp_path, "t10k")[0]) == 5


def _header(dtype=0x08, ndim=3, dims=(2, 3, 3)):
    return bytes([0, 0, dtype, ndim]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize(
    "content,needle",
    [
        (b"", "not an IDX file"),
        (b"PK\x03\x04 a zip", "not an IDX file"),
        (_header(dtype=0x0D) + bytes(18 * 4), "IDX type 0x0d"),
        (_header(ndim=1, dims=(2,)) + bytes(2), "has 1 dimensions, expected 3"),
        (_header()[:8], "ends inside its header"),
        (_header() + bytes(17), "is shorter than its header says"),
        (_header() + bytes(19), "is longer than its header says"),
        (_header(dims=(4_000_000_000, 28, 28)), "declares 4000000000 items"),
        (_header(dims=(0, 28, 28)), "declares 0 items"),
        (_header(dims=(1, 60_000, 60_000)), "declares 60000x60000 images"),
    ],
)
def test_malformed_files_are_refused_naming_the_file(tmp_path, content, needle):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(idx.IdxError, match=needle) as e:
        idx.read_idx(path, 3)
    assert str(path) in str(e.value)


def test_a_broken_gzip_and_a_label_count_mismatch_are_refused(tmp_path):
    write_mnist(tmp_path, n_train=20, n_test=5)
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(np.zeros(19, np.uint8)))
    with pytest.raises(idx.IdxError, match="20 images but 19 labels"):
        idx.read_pair(tmp_path, "train")
    labels.unlink()
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0\0\x08\x01")[:-6])
    with pytest.raises(idx.IdxError, match="cannot read"):
        idx.read_pair(tmp_path, "train")


def test_a_missing_file_names_all_four(tmp_path):
    with pytest.raises(idx.IdxError, match="has no train-images-idx3-ubyte .* t10k-labels"):
        idx.read_pair(tmp_path, "train")


def test_a_header_declaring_more_than_this_machine_holds_is_refused_before_reading(tmp_path):
    from evonet.memory import OverBudget

    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(_header(dims=(1_000_000, 128, 128)) + bytes(100))  # 16 GB declared
    with pytest.raises(OverBudget, match=r"reading its 1000000x128x128 values would need"):
        idx.read_idx(path, 3)
