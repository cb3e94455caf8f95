"""A fuzz test of the readers: seeded mutations of valid files, each loaded in-process by
load_run, load_network and load_agent, and a few of them by the command line.

Every case must end in a clean load or in CheckpointError or NotAnAgent whose message is
one line naming the file: never another exception (KeyError, TypeError, zlib.error,
MemoryError ...). What loads must save again. Each test runs its cases from one seed
(``SEED``, the source and mutation numbers, the case number): a failure names its case,
and ``case_bytes`` rebuilds that file.
"""

import dataclasses
import io
import json
import os
import tempfile
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from evonet.evolution.config import EvolveConfig
from evonet.evolution.files import NotAnAgent, load_agent, load_network, load_run, save_run
from evonet.evolution.run import Run, evolve
from evonet.storage.checkpoint import CheckpointError, save_network
from tests.evonet.storage.test_format_versions import V1_FIXTURE
from tests.helpers import evonet_here

SEED = 20261204
CASES = 64  # per source and mutation: 6 x 7 x 64 = 2,688 files, each loaded twice
TINY = EvolveConfig(
    generations=2, population=6, elite=2, parents=3, episodes=1, board=(6, 6), hidden=(3,),
    champion_episodes=0, seed=9,
)  # fmt: skip


# ------------------------------------------------------------------------ the sources


def _same_times(run):
    """The run's timing columns set to fixed values: the sources, and so every case, are
    then the same bytes in every test run."""
    for r in run.history:
        r.update(seconds=0.25, agent_steps_per_s=1000.0)


def _custom_run(path):
    cfg = EvolveConfig.for_game("custom", population=6, elite=2, parents=3, hidden=(3,), seed=2)
    run = Run.start(cfg, fitness=lambda g: g.sum(axis=1), io=(2, 1))
    evolve(run)
    _same_times(run)
    return save_run(path, run)


def _strategy_run(path, strategy):
    run = Run.start(dataclasses.replace(TINY, strategy=strategy))
    evolve(run)
    _same_times(run)
    return save_run(path, run)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """``{name: raw bytes}`` of valid files: a checkpoint of each version, a fitness
    function's checkpoint and a run's best network."""
    folder = tmp_path_factory.mktemp("sources")
    run = Run.start(TINY)
    evolve(run)
    _same_times(run)
    info = {"config": run.config.to_dict(), "generation": 1, "fitness": 1.0}
    paths = {
        "v2": save_run(folder / "v2.npz", run),
        "v1": V1_FIXTURE,
        "custom": _custom_run(folder / "custom.npz"),
        # Evolution strategies' checkpoints: their state is other arrays, checked on load.
        "pgpe": _strategy_run(folder / "pgpe.npz", "pgpe"),
        "cma-es": _strategy_run(folder / "cma.npz", "cma-es"),
        "network": save_network(folder / "net.npz", run.ga.best_genome, run.topology, info),
    }
    for path in paths.values():  # the sources themselves load
        load_network(path)
    return {name: path.read_bytes() for name, path in paths.items()}


# ---------------------------------------------------------------------- the archive


def unzip(raw):
    """``[(name, bytes, compress_type)]`` of a valid archive."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return [(i.filename, z.read(i), i.compress_type) for i in z.infolist()]


def rezip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is one of the mutations
        for name, data, method in entries:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def npy_bytes(array, header=None):
    """An array's ``.npy`` bytes, with its header dict replaced by ``header`` if given."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, header or np.lib.format.header_data_from_array_1_0(array)
    )
    return buf.getvalue() + np.ascontiguousarray(array).tobytes()


def npy_array(data):
    return np.load(io.BytesIO(data), allow_pickle=False)


def regions(raw):
    """Byte ranges of a zip's structure: local headers, .npy headers, central directory."""
    out = []
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for i in z.infolist():
            out.append((i.header_offset, i.header_offset + 30 + len(i.filename) + 128))
        out.append((z.start_dir, len(raw)))
    return [(a, min(b, len(raw))) for a, b in out]


# ---------------------------------------------------------------------- the mutations

# JSON values of the wrong type, out of range or at the edges of what parses.
ODD_VALUES = [
    None, True, False, 0, -1, 1, 2, 2**31, 2**63, -(2**63), 10**39, 0.5, -0.0, 1e308,
    -1e308, 5e-324, float("nan"), float("inf"), float("-inf"), "", "x", "snake", "gym:",
    "gym:CartPole-v1", "custom", "é\u0000", "9" * 300, [], [1], [1, 2], [10**9, 10**9],
    [[1]], ["a"], {}, {"a": 1}, {"state": 1, "inc": 1}, [None] * 5,
]  # fmt: skip
ODD_NUMBERS = [np.nan, np.inf, -np.inf, -1.0, 0.5, -0.0, 1e300, 2.0**53, 2.0**60, 3.0, 1e-300]
ODD_DESCR = ["<f4", "<f8", ">f4", "<f2", "<i4", "<i8", "|u1", "|b1", "<c8", "|O", "<U3", "|V8",
             "<M8[s]", "<f16", "[('a', '<f4')]", "'<f4'", "f4", "<f99", "", 7]  # fmt: skip


def flip_bytes(rng, raw):
    b = bytearray(raw)
    for _ in range(rng.integers(1, 9)):
        b[rng.integers(len(b))] ^= int(rng.integers(1, 256))
    return bytes(b)


def flip_structure(rng, raw):
    """Flip bytes where the zip and the .npy headers describe the data, not in it."""
    b, spans = bytearray(raw), regions(raw)
    for _ in range(rng.integers(1, 5)):
        lo, hi = spans[rng.integers(len(spans))]
        pos = int(rng.integers(lo, hi))
        b[pos] = int(rng.integers(256)) if rng.random() < 0.5 else b[pos] ^ (1 << rng.integers(8))
    return bytes(b)


def resize(rng, raw):
    kind = rng.integers(4)
    if kind == 0:  # truncated anywhere
        return raw[: rng.integers(len(raw))]
    if kind == 1:  # cut inside the central directory
        start = regions(raw)[-1][0]
        return raw[: rng.integers(start, len(raw))]
    extra = rng.bytes(int(rng.integers(1, 3000))) if rng.random() < 0.5 else bytes(100)
    if kind == 2:  # something after the end
        return raw + extra
    pos = int(rng.integers(len(raw)))  # something in the middle: every offset moves
    return raw[:pos] + extra + raw[pos:]


def npy_header(rng, raw):
    """Rewrite the ``.npy`` header of one member: its dtype, order, shape or text."""
    entries = unzip(raw)
    k = int(rng.integers(len(entries)))
    name, data, method = entries[k]
    array = npy_array(data)
    header = np.lib.format.header_data_from_array_1_0(array)
    kind = rng.integers(5)
    if kind == 0:
        header["descr"] = ODD_DESCR[rng.integers(len(ODD_DESCR))]
    elif kind == 1:
        header["fortran_order"] = [True, 1, "yes", None][rng.integers(4)]
    elif kind == 2:
        choices = [(), (0,), (-1,), (2**62,), (2**40, 2**40), (1,) * 40, (array.size + 1,),
                   array.shape[::-1], (*array.shape, 1), ("a",), [3], (1.5,), None]  # fmt: skip
        header["shape"] = choices[rng.integers(len(choices))]
    if kind <= 2:
        try:
            new = npy_bytes(array, header)
        except (ValueError, TypeError):  # numpy would not write it: forge the text instead
            new = data
    else:
        text = repr(header) if kind == 3 else "{" * 300 + "}" * 300
        pad = rng.bytes(int(rng.integers(0, 40))).decode("latin-1") if kind == 3 else ""
        body = (text + pad).encode("latin-1", "replace")
        magic = b"\x93NUMPY" + bytes([rng.integers(1, 4), 0])
        new = magic + len(body).to_bytes(2, "little") + body + data[128:]
    entries[k] = (name, new, method)
    return rezip(entries)


def members(rng, raw):
    """Drop, add, rename, duplicate, swap, empty or compress members."""
    entries = unzip(raw)
    k = int(rng.integers(len(entries)))
    kind = rng.integers(7)
    if kind == 0:
        del entries[k]
    elif kind == 1:
        name = ["junk.npy", "meta", "x/y.npy", "../z.npy", ".npy", "META.npy"][rng.integers(6)]
        entries.append((name, entries[k][1], zipfile.ZIP_STORED))
    elif kind == 2:
        name = ["history.npy", "theta.npy", "population.npy", "meta.npy"][rng.integers(4)]
        entries[k] = (name, *entries[k][1:])
    elif kind == 3:
        entries.append(entries[k])
    elif kind == 4:
        j = int(rng.integers(len(entries)))
        (a, da, ma), (b, db, mb) = entries[k], entries[j]
        entries[k], entries[j] = (a, db, ma), (b, da, mb)
    elif kind == 5:
        entries[k] = (entries[k][0], b"", zipfile.ZIP_STORED)
    else:
        entries = [(n, d, zipfile.ZIP_DEFLATED) for n, d, _ in entries]
        deflated = rezip(entries)
        return flip_bytes(rng, deflated) if rng.random() < 0.5 else deflated
    return rezip(entries)


def _paths(value, path=()):
    """Every path into a JSON value: ``(key, index, ...)``."""
    yield path
    if isinstance(value, dict):
        for key, v in value.items():
            yield from _paths(v, (*path, key))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):  # a long history: its first records are enough
            yield from _paths(v, (*path, i))


def meta_fields(rng, raw):
    """Replace, remove or add metadata fields, anywhere in the JSON."""
    entries = unzip(raw)
    k = next(i for i, e in enumerate(entries) if e[0] == "meta.npy")
    meta = json.loads(npy_array(entries[k][1]).tobytes())
    for _ in range(rng.integers(1, 4)):
        paths = list(_paths(meta))[1:]
        path = paths[rng.integers(len(paths))]
        parent = meta
        for key in path[:-1]:
            parent = parent[key]
        kind = rng.integers(6)
        if kind <= 3:
            parent[path[-1]] = ODD_VALUES[rng.integers(len(ODD_VALUES))]
        elif kind == 4 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent["surprise"] = ODD_VALUES[rng.integers(len(ODD_VALUES))]
        elif isinstance(parent, list):
            parent.append(parent[-1] if parent else 0)
    text = json.dumps(meta)  # NaN and Infinity as JSON writers outside Python spell them
    entries[k] = ("meta.npy", npy_bytes(np.frombuffer(text.encode(), np.uint8)), entries[k][2])
    return rezip(entries)


def array_values(rng, raw):
    """Odd values, shapes, dtypes or orders in one array (the history, genes, weights)."""
    entries = unzip(raw)
    k = int(rng.choice([i for i, e in enumerate(entries) if e[0] != "meta.npy"]))
    name, data, method = entries[k]
    a = npy_array(data).copy()
    kind = rng.integers(5)
    if kind <= 1 and a.size:
        with np.errstate(over="ignore"):  # 1e300 in float32 genes: infinity, as meant
            for _ in range(rng.integers(1, 4)):
                a.flat[rng.integers(a.size)] = ODD_NUMBERS[rng.integers(len(ODD_NUMBERS))]
    elif kind == 2:
        a = a.reshape(-1) if a.ndim == 0 else a  # a strategy's scalar (sigma) grows a dimension
        a = a[: max(0, len(a) - 1)] if rng.random() < 0.5 else np.concatenate([a, a[:1]])
    elif kind == 3:
        a = a.astype([">f4", "<f2", "<f8", "<i8", "<f4"][rng.integers(5)])
    else:
        a = np.asfortranarray(a.T) if a.ndim == 2 else a.reshape(1, -1)
    entries[k] = (name, npy_bytes(a), method)
    return rezip(entries)


MUTATIONS = [flip_bytes, flip_structure, resize, npy_header, members, meta_fields, array_values]
SOURCES = ["v2", "v1", "custom", "pgpe", "cma-es", "network"]


def case_bytes(sources, source, mutation, case):
    """The file of one case: a seeded mutation of a source."""
    rng = np.random.default_rng([SEED, SOURCES.index(source), MUTATIONS.index(mutation), case])
    return mutation(rng, sources[source])


# ---------------------------------------------------------------------------- loading


def outcome(load, path):
    """``"loaded"`` or the problem a clean refusal names; fails the test on anything else."""
    try:
        result = load(path)
    except (CheckpointError, NotAnAgent) as e:
        message = str(e)
        assert "\n" not in message and str(path) in message, message
        assert len(message) < 1000, message[:300]
        return message.replace(str(path), "FILE")
    except Exception as e:  # anything else is the bug this test looks for
        pytest.fail(f"{load.__name__} raised {type(e).__name__}: {e}"[:2000], pytrace=False)
    if load is load_run:  # what loads must save again, and load the same
        again = load_run(save_run(path.with_name("again.npz"), result))
        assert again.generation == result.generation and again.history == result.history
    return "loaded"


@pytest.fixture
def scratch(tmp_path):
    """A folder for the cases: in memory (tmpfs) where the machine has one, since writing
    thousands of files to a disk can take longer than loading them."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(dir=shm, prefix="evonet-fuzz-") as folder:
            yield Path(folder)
    else:
        yield tmp_path


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("source", SOURCES)
def test_every_mutated_file_loads_or_is_refused_in_one_line(source, mutation, sources, scratch):
    path = scratch / "case.npz"
    seen = Counter()
    for case in range(CASES):
        path.write_bytes(case_bytes(sources, source, mutation, case))
        # load_agent reads the file through load_network: its outcome covers both.
        for load in (load_run, load_agent):
            try:
                seen[outcome(load, path)] += 1
            except BaseException:
                print(f"case_bytes(sources, {source!r}, {mutation.__name__}, {case}):", load)
                raise
    # The mutations reach past the first check: many different problems are found (a
    # resized file mostly breaks the zip, in few ways).
    assert len(seen) >= (3 if mutation is resize else 4), seen


def _cases(sources):
    """``(label, bytes)`` of the cases of every source and mutation in turn."""
    for case in range(CASES):
        for source in ("v2", "v1", "network"):
            for mutation in MUTATIONS:
                yield (
                    f"{source}-{mutation.__name__}-{case}",
                    case_bytes(sources, source, mutation, case),
                )


@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_mutated_files_through_the_cli_are_one_line_exit_2_and_untouched(command, sources, scratch):
    load = load_run if command == "resume" else load_agent
    checked = 0
    for label, raw in _cases(sources):
        folder = scratch / label
        folder.mkdir()
        path = folder / "latest.npz"
        path.write_bytes(raw)
        try:
            load(path)
            continue  # it loads: nothing to refuse
        except ValueError:
            pass
        args = ["evaluate", str(path)] if command == "evaluate" else [
            "evolve", "snake", "--resume", str(path), "--quiet", "--no-plot"]  # fmt: skip
        r = evonet_here(*args, cwd=folder)
        assert r.returncode == 2 and "Traceback" not in r.stderr, (label, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], (label, r.stderr)
        assert path.read_bytes() == raw, label  # untouched, and nothing written beside it
        assert [p.name for p in folder.iterdir()] == ["latest.npz"], label
        checked += 1
        if checked == 8:
            return
    raise AssertionError(f"only {checked} of the cases were refused")


def test_the_sources_load_as_what_they_are(sources, scratch):
    expected = {  # name: (load_run, load_agent)
        "v2": ("loaded", "loaded"),
        "v1": ("loaded", "loaded"),
        "custom": ("loaded", "FILE: a network evolved on a Python fitness function, which no"),
        "pgpe": ("loaded", "loaded"),
        "cma-es": ("loaded", "loaded"),
        "network": ("FILE: holds a 'network', expected a 'checkpoint'", "loaded"),
    }
    for name, raw in sources.items():
        path = scratch / f"{name}.npz"
        path.write_bytes(raw)
        run, agent = expected[name]
        assert outcome(load_run, path) == run
        assert outcome(load_agent, path).startswith(agent), name
