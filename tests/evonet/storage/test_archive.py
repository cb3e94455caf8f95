"""The .npz container: bounded JSON, headers checked before data, sizes that must agree."""

import json

import numpy as np
import pytest

from evonet.evolution.config import MAX_GENERATIONS
from evonet.storage.archive import (
    MAX_INT_DIGITS,
    MAX_JSON_DEPTH,
    MAX_JSON_ITEMS,
    MAX_META_BYTES,
    Archive,
    FileError,
    json_shape,
    parse_json,
    save_arrays,
)
from evonet.storage.history import history_fields
from tests.crafted import npy, npy_header, write_zip


def test_json_depth_is_bounded_and_brackets_in_strings_do_not_count():
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json(ok.encode()) is not None
    with pytest.raises(ValueError, match="nested deeper"):
        parse_json(("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode())
    text = json.dumps({"a": "[[[[" * 100, "b": 'quote \\" [[[' * 50})
    assert parse_json(text.encode()) == json.loads(text)


def test_integers_longer_than_the_bound_are_refused():
    assert parse_json(str(2**128).encode()) == 2**128
    assert parse_json(("-" + "9" * MAX_INT_DIGITS).encode()) == -int("9" * MAX_INT_DIGITS)
    with pytest.raises(ValueError, match=f"{MAX_INT_DIGITS + 1} digits"):
        parse_json(("1" * (MAX_INT_DIGITS + 1)).encode())


def test_invalid_json_and_bytes_are_value_errors():
    for raw in (b"{", b"\xff", b"[1, 2,]"):
        with pytest.raises(ValueError):
            parse_json(raw)


def test_the_longest_run_fits_the_metadata_bounds():
    """A checkpoint of MAX_GENERATIONS generations must be loadable: its history records,
    with every float at full precision, stay under MAX_META_BYTES and MAX_JSON_ITEMS."""
    record = {k: -1.2345678901234567e-300 for k in history_fields("apples")}
    record["generation"] = MAX_GENERATIONS
    record["workers"] = 1024  # a whole number of processes
    text = json.dumps({"history": [record] * 1000}).encode()
    depth, items = json_shape(text)
    assert depth == 3
    assert len(text) * MAX_GENERATIONS // 1000 + 100_000 < MAX_META_BYTES
    assert items * MAX_GENERATIONS // 1000 + 1000 < MAX_JSON_ITEMS


def test_json_items_are_bounded_before_parsing():
    with pytest.raises(ValueError, match="more than 2,500,000 items"):
        parse_json(("[" + "[]," * MAX_JSON_ITEMS + "[]]").encode())


@pytest.mark.parametrize(
    "text",
    ['"' + '\\"' * 50_000, '["' + "\\" * 50_001 + '"]', '"[' * 40_000, "[" * 50_000],
)
def test_json_built_to_be_slow_is_refused_quickly(text):
    """Unterminated strings of escaped quotes made a regular expression quadratic."""
    with pytest.raises(ValueError):
        parse_json(text.encode())


def test_strings_split_across_scan_chunks(monkeypatch):
    import evonet.storage.archive as archive

    text = json.dumps({"a": '\\"[[[{{', "b": [[["\\"]]], "c": ",,,"})
    expected = json_shape(text.encode())
    assert expected == (4, 6)  # the table and three lists; two commas between keys
    for chunk in (1, 2, 3, 5):
        monkeypatch.setattr(archive, "_READ_CHUNK", chunk)
        assert json_shape(text.encode()) == expected


def test_saving_refuses_metadata_that_could_not_be_loaded(tmp_path):
    with pytest.raises(ValueError):
        save_arrays(tmp_path / "x.npz", {}, {"x": float("nan")})
    deep: list = []
    for _ in range(MAX_JSON_DEPTH):
        deep = [deep]
    with pytest.raises(ValueError, match="could not be read"):
        save_arrays(tmp_path / "x.npz", {}, {"x": deep})
    assert not (tmp_path / "x.npz").exists()


def test_headers_are_read_without_reading_data(tmp_path):
    path = write_zip(
        tmp_path / "a.npz",
        {"meta.npy": npy(np.zeros(3, np.uint8)), "big.npy": npy_header((10**12,), "<f8")},
    )
    with Archive(path) as a:
        assert a.names == {"meta", "big"}
        with pytest.raises(FileError, match=r"declares shape \(1000000000000,\)"):
            a.member("big")


def test_data_is_read_exactly_and_checked(tmp_path):
    x = np.arange(12, dtype="<f4").reshape(3, 4)
    f = np.asfortranarray(x)
    path = write_zip(tmp_path / "a.npz", {"x.npy": npy(x), "f.npy": npy(f)})
    with Archive(path) as a:
        np.testing.assert_array_equal(a.read("x", (3, 4), ["<f4"]), x)
        np.testing.assert_array_equal(a.read("f", (3, 4), ["<f4"]), x)
        with pytest.raises(FileError, match=r"has shape \(3, 4\), expected \(4, 3\)"):
            a.read("x", (4, 3), ["<f4"])
        with pytest.raises(FileError, match="dtype <f4, expected <f8"):
            a.read("x", (3, 4), ["<f8"])


def test_a_corrupted_member_fails_its_crc(tmp_path):
    path = write_zip(tmp_path / "a.npz", {"x.npy": npy(np.arange(100, dtype="<f8"))})
    raw = bytearray(path.read_bytes())
    raw[200] ^= 0xFF  # a byte of the array data
    path.write_bytes(bytes(raw))
    with Archive(path) as a, pytest.raises(FileError, match="CRC"):
        a.read("x", (100,), ["<f8"])
