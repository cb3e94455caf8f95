"""Crafted and broken files: each is refused in one line by evaluate, watch and --resume.

The files are built here from a real tiny checkpoint and network (see tests/crafted.py),
each with one thing wrong: a header that lies about its size, an odd zip entry, a field of
the wrong type or out of range, JSON built to exhaust the parser.
"""

import json
import zipfile

import numpy as np
import pytest

from evonet.cli.main import main
from evonet.evolution.config import EvolveConfig
from evonet.evolution.files import load_network, load_run, save_run
from evonet.evolution.run import Run, evolve
from evonet.nn.mlp import Topology
from evonet.storage.checkpoint import CheckpointError, save_network
from tests import crafted
from tests.crafted import deep_json, meta_member, npy, npy_header, variant, write_zip
from tests.helpers import evonet_limited

TINY = EvolveConfig(
    generations=2, population=16, elite=2, parents=5, episodes=2, board=(6, 6), hidden=(6,)
)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """``(checkpoint, network)``: a tiny run's latest.npz and its best genome as a network."""
    folder = tmp_path_factory.mktemp("good")
    run = Run.start(TINY)
    evolve(run)
    ckpt = save_run(folder / "latest.npz", run)
    info = {"config": run.config.to_dict(), "generation": 1}
    net = save_network(folder / "best.npz", run.ga.best_genome, run.topology, info)
    return ckpt, net


def _config(**changes):
    """Change settings in the config, and in ga_config where it repeats them (so that the
    file is consistent, and only the setting itself is wrong)."""
    ga = {k: v for k, v in changes.items() if k in crafted.GA_KEYS}
    return lambda m: {
        **m,
        "config": {**m["config"], **changes},
        "ga_config": {**m["ga_config"], **ga},
    }


def _rng(**changes):
    def change(m):
        state = json.loads(json.dumps(m["rng_state"]))
        for key, value in changes.items():
            if key in ("state", "inc"):
                state["state"][key] = value
            else:
                state[key] = value
        return {**m, "rng_state": state}

    return change


def _info_config(**changes):
    def change(m):
        info = dict(m["info"])
        info["config"] = {**info["config"], **changes}
        return {**m, "info": info}

    return change


def _population(dtype):
    def make(src, dst):
        pop = np.load(src)["population"]
        return variant(src, dst, replace={"population": npy(pop.astype(dtype))})

    return make


def _entries(change):
    """A builder that edits the raw member table of the checkpoint."""

    def make(src, dst):
        entries = crafted.members(src)
        return write_zip(dst, change(entries))

    return make


def _patched(**kw):
    def make(src, dst):
        variant(src, dst)
        return crafted.patch_entry(dst, "population.npy", **kw)

    return make


def _history(change):
    """A builder that replaces the checkpoint's history matrix with ``change(matrix)``."""

    def make(src, dst):
        h = np.load(src)["history"].copy()
        return variant(src, dst, replace={"history": npy(change(h))})

    return make


def _set(i, j, value):
    def change(h):
        h[i, j] = value
        return h

    return change


def _huge_int(src, dst):
    text = json.dumps(crafted.meta_of(src)).replace(
        '"generation": 2', '"generation": ' + "9" * 5000
    )
    entries = crafted.members(src)
    entries["meta.npy"] = meta_member(text)
    return write_zip(dst, entries)


D = TINY.topology().n_params  # 237 genes in its 35-6-3 network

# name -> (builder(src, dst), what the one-line refusal must say). Built from the checkpoint.
CHECKPOINT_CASES = {
    # Memory bombs: a few bytes that declare terabytes.
    "population_declares_1e9_rows": (
        lambda s, d: variant(s, d, replace={"population": npy_header((10**9, D), "<f4")}),
        f"declares shape (1000000000, {D})",
    ),
    "best_genome_declares_1e9": (
        lambda s, d: variant(s, d, replace={"best_genome": npy_header((10**9,), "<f4")}),
        "declares shape",
    ),
    "meta_declares_1e9_bytes": (
        _entries(lambda e: {**e, "meta.npy": npy_header((10**9,), "|u1")}),
        "declares shape",
    ),
    "extra_member_declares_1e9_rows": (
        lambda s, d: variant(s, d, add={"junk": npy_header((10**9, D), "<f4")}),
        "unexpected member junk",
    ),
    # --resume: "would need 2.3 TiB"; evaluate, watch: "expected (1000000000, 219)".
    "population_1e9": (lambda s, d: variant(s, d, meta=_config(population=10**9)), "1000000000"),
    # Runaway settings.
    "hunger_1e15": (lambda s, d: variant(s, d, meta=_config(hunger=10**15)), "hunger must be"),
    "hunger_2_70": (lambda s, d: variant(s, d, meta=_config(hunger=2**70)), "hunger must be"),
    "hunger_infinity": (
        lambda s, d: variant(s, d, meta=_config(hunger=float("inf"))),
        "hunger must be a whole number",
    ),
    "board_infinity": (
        lambda s, d: variant(s, d, meta=_config(board=[float("inf"), 6])),
        "board must be",
    ),
    "sigma_infinity": (
        lambda s, d: variant(s, d, meta=_config(mutation_sigma=float("inf"))),
        "mutation_sigma must be a finite number",
    ),
    # RNG states numpy would choke on.
    "rng_state_negative": (lambda s, d: variant(s, d, meta=_rng(state=-1)), "invalid RNG state"),
    "rng_inc_2_130": (lambda s, d: variant(s, d, meta=_rng(inc=2**130)), "invalid RNG state"),
    "rng_state_2_200": (lambda s, d: variant(s, d, meta=_rng(state=2**200)), "61 digits"),
    "rng_has_uint32_infinity": (
        lambda s, d: variant(s, d, meta=_rng(has_uint32=float("inf"))),
        "has_uint32",
    ),
    # Members that are not what an evonet file holds.
    "meta_as_raw_json_entry": (
        _entries(lambda e: {**{k: v for k, v in e.items() if k != "meta.npy"}, "meta": b"{}"}),
        "member 'meta' is not an .npy array",
    ),
    "meta_npy_holds_raw_json": (
        _entries(lambda e: {**e, "meta.npy": b'{"format": "evonet"}'}),
        "not a valid .npy array",
    ),
    "text_member": (
        _entries(lambda e: {**e, "notes.txt": b"hello"}),
        "member 'notes.txt' is not an .npy array",
    ),
    "member_name_with_a_newline": (
        _entries(lambda e: {**e, "a\nb.npy": npy(np.zeros(1))}),
        "unexpected member 'a\\nb'",
    ),
    "member_name_of_5000_characters": (
        _entries(lambda e: {**e, "n" * 5000 + ".npy": npy(np.zeros(1))}),
        "unexpected member 'nnnnnnnnnnnnnnnnn...",
    ),
    "member_listed_twice": (
        _entries(lambda e: [*e.items(), ("population.npy", e["population.npy"])]),
        "lists a member twice",
    ),
    "missing_fitness": (lambda s, d: variant(s, d, drop=["fitness"]), "missing fitness"),
    "many_members": (
        lambda s, d: variant(s, d, add={f"j{i}": npy(np.zeros(1)) for i in range(20)}),
        "holds 25 members; an evonet file holds at most 16",
    ),
    "some_extra_members": (
        lambda s, d: variant(s, d, add={f"j{i}": npy(np.zeros(1)) for i in range(5)}),
        "unexpected member j0, j1, j2, and 2 more",
    ),
    "encrypted_entry": (_patched(flags=1), "encrypted"),
    "compression_method_98": (_patched(method=98), "compression method 98"),
    "compression_method_99": (_patched(method=99), "compression method 99"),
    # Metadata fields of the wrong shape or type.
    "config_null": (lambda s, d: variant(s, d, meta={"config": None}), "config must be a table"),
    "config_list": (lambda s, d: variant(s, d, meta={"config": [1]}), "config must be a table"),
    "config_without_seed": (
        lambda s, d: variant(s, d, meta=lambda m: {**m, "config": {**m["config"], "seed": None}}),
        "seed must be a whole number",
    ),
    "config_missing_seed": (
        lambda s, d: variant(
            s,
            d,
            meta=lambda m: {**m, "config": {k: v for k, v in m["config"].items() if k != "seed"}},
        ),
        "missing seed",
    ),
    "config_network_lstm": (lambda s, d: variant(s, d, meta=_config(network="lstm")), "lstm"),
    "config_network_gru_over_an_mlp": (
        lambda s, d: variant(s, d, meta=_config(network="gru")),
        "topology mlp [35, 6, 3] tanh/linear does not match the config's gru",
    ),
    "population_as_float_in_config": (
        lambda s, d: variant(s, d, meta=_config(population=16.0)),
        "population must be a whole number",
    ),
    # The history: its columns' names in the metadata, its values in an array.
    "history_fields_renamed": (
        lambda s, d: variant(s, d, meta={"history_fields": ["generation", "apples"]}),
        "history_fields ['generation', 'apples'] are not the columns",
    ),
    "history_fields_not_a_list": (
        lambda s, d: variant(s, d, meta={"history_fields": 9}),
        "history_fields 9 are not the columns",
    ),
    "history_of_three_columns": (_history(lambda h: h[:, :3]), "has shape (2, 3), expected (2, 9)"),
    "history_of_one_row": (_history(lambda h: h[:1]), "has shape (1, 9), expected (2, 9)"),
    "history_declares_1e9_rows": (
        lambda s, d: variant(s, d, replace={"history": npy_header((10**9, 9), "<f8")}),
        "declares shape (1000000000, 9)",
    ),
    "history_float32": (_history(lambda h: h.astype(np.float32)), "dtype <f4, expected <f8"),
    "history_nan": (_history(_set(1, 6, np.nan)), "history record 1: seconds is nan"),
    "history_infinity": (_history(_set(0, 1, np.inf)), "best_fitness is inf"),
    "history_generations_swapped": (
        _history(lambda h: h[::-1].copy()),
        "record 0: generation is 1.0, expected 0",
    ),
    "history_half_a_worker": (_history(_set(1, 8, 0.5)), "workers is 0.5, not a whole number"),
    "history_negative_workers": (_history(_set(0, 8, -1)), "workers is -1.0, not a whole number"),
    "history_2_60_workers": (_history(_set(0, 8, 2.0**60)), "not a whole number"),
    "best_fitness_nan": (
        lambda s, d: variant(s, d, meta={"best_fitness": float("nan")}),
        "best_fitness must be a finite number",
    ),
    "generation_as_bool": (lambda s, d: variant(s, d, meta={"generation": True}), "generation"),
    "generation_2_60": (
        lambda s, d: variant(s, d, meta={"generation": 2**60}),
        "generation 1152921504606846976 is not a whole number from 0 to 200,000",
    ),
    "generation_ahead_of_the_history": (
        lambda s, d: variant(s, d, meta={"generation": 3}),
        "array 'history' has shape (2, 9), expected (3, 9)",
    ),
    "kind_as_list": (lambda s, d: variant(s, d, meta={"kind": []}), "holds a [], not a network"),
    "extra_metadata_key": (lambda s, d: variant(s, d, meta={"surprise": 1}), "unknown surprise"),
    "version_as_float": (lambda s, d: variant(s, d, meta={"version": 1.0}), "version 1.0"),
    # JSON built to exhaust the parser.
    "json_nested_200000_deep": (
        _entries(lambda e: {**e, "meta.npy": meta_member(deep_json(200_000))}),
        "nested deeper than",
    ),
    "integer_of_5000_digits": (_huge_int, "an integer has 5000 digits"),
    "metadata_not_utf8": (
        _entries(lambda e: {**e, "meta.npy": npy(np.frombuffer(b"\xff\xfe{}", np.uint8))}),
        "not UTF-8",
    ),
    # Genes in a dtype other than the one evonet writes.
    "population_float16": (_population(np.float16), "dtype <f2, expected <f4"),
    "population_float64": (_population(np.float64), "dtype <f8, expected <f4"),
    "population_longdouble": (_population(np.longdouble), "expected <f4"),
    "population_big_endian": (_population(">f4"), "dtype >f4, expected <f4"),
}

# Built from the network file (evaluate and watch read networks; --resume refuses them).
NETWORK_CASES = {
    "theta_declares_1e9": (
        lambda s, d: variant(s, d, replace={"theta": npy_header((10**9,), "<f4")}),
        "declares shape",
    ),
    "topology_of_1e12_weights": (
        lambda s, d: variant(
            s,
            d,
            meta={
                "topology": {"sizes": [32, 10**6, 10**6, 3], "hidden": "tanh", "output": "linear"}
            },
        ),
        f"has shape ({D},), expected ({Topology((32, 10**6, 10**6, 3)).n_params},)",
    ),
    "topology_network_lstm": (
        lambda s, d: variant(
            s, d, meta={"topology": {**crafted.meta_of(s)["topology"], "network": "lstm"}}
        ),
        "unknown network 'lstm'",
    ),
    "topology_network_not_a_name": (
        lambda s, d: variant(
            s, d, meta={"topology": {**crafted.meta_of(s)["topology"], "network": [1]}}
        ),
        "must be names",
    ),
    "topology_gru_over_mlp_genes": (
        lambda s, d: variant(
            s, d, meta={"topology": {**crafted.meta_of(s)["topology"], "network": "gru"}}
        ),
        f"has shape ({D},), expected",
    ),
    "info_hunger_1e15": (
        lambda s, d: variant(s, d, meta=_info_config(hunger=10**15)),
        "hunger must be from 0",
    ),
    "info_board_infinity": (
        lambda s, d: variant(s, d, meta=_info_config(board=[float("inf"), 10])),
        "board must be two whole numbers",
    ),
    "info_not_a_table": (lambda s, d: variant(s, d, meta={"info": []}), "'info' is not a table"),
    "theta_float16": (
        lambda s, d: variant(s, d, replace={"theta": npy(np.zeros(D, np.float16))}),
        "dtype <f2, expected <f4 or <f8",
    ),
    "theta_nan": (
        lambda s, d: variant(s, d, replace={"theta": npy(np.full(D, np.nan, np.float32))}),
        "NaN",
    ),
}

COMMANDS = {
    "evaluate": lambda p: ["evaluate", p, "--episodes", "2"],
    "watch": lambda p: ["watch", p, "--record", "out.gif", "--episodes", "1", "--max-steps", "3"],
    "resume": lambda p: ["evolve", "snake", "--resume", p, "--generations", "5", "--quiet"],
}


def build(name, good, folder):
    ckpt, net = good
    cases = {**CHECKPOINT_CASES, **NETWORK_CASES}
    make, needle = cases[name]
    src = net if name in NETWORK_CASES else ckpt
    return make(src, folder / f"{name}.npz"), needle


def refusal(capsys, argv):
    """Run the CLI in this process; returns (exit code, stderr lines)."""
    code = main(argv)
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("name", [*CHECKPOINT_CASES, *NETWORK_CASES])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_crafted_file_is_one_line_and_exit_2(name, command, good, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, needle = build(name, good, tmp_path)
    code, lines = refusal(capsys, COMMANDS[command](str(path)))
    assert code == 2 and len(lines) == 1, lines
    assert str(path) in lines[0]
    if command != "resume" or name in CHECKPOINT_CASES:  # resume says "not a checkpoint"
        assert needle in lines[0], lines[0]
    assert not (tmp_path / "out.gif").exists()


@pytest.mark.parametrize("name", CHECKPOINT_CASES)
def test_the_library_raises_checkpoint_error_naming_the_file(name, good, tmp_path):
    path, needle = build(name, good, tmp_path)
    for load in (load_run, load_network):
        with pytest.raises(CheckpointError) as err:
            load(path)
        assert str(path) in str(err.value) and needle in str(err.value)


def test_the_good_files_load(good):
    ckpt, net = good
    assert load_run(ckpt).generation == 2
    theta, topo, _ = load_network(net)
    assert theta.shape == (topo.n_params,) == (D,)


# ------------------------------------------------- under a memory limit, in a subprocess

LIMIT = 1 << 30  # 1 GiB of address space: plenty for evonet, far too little for a bomb


def limited(argvs, cwd):
    """Each command of ``argvs`` under the limit, all in one process (see
    :func:`tests.helpers.evonet_limited`)."""
    return evonet_limited([(argv, cwd) for argv in argvs], memory=LIMIT, timeout=120)


@pytest.mark.slow
def test_a_deflated_gigabyte_member_is_never_read(good, tmp_path):
    ckpt, _ = good
    path = crafted.deflated_zeros(tmp_path / "bomb.npz", crafted.members(ckpt), "junk.npy", 1 << 30)
    assert path.stat().st_size < 8 << 20  # a few MB on disk that inflate to a gigabyte
    argvs = [argv(str(path)) for argv in COMMANDS.values()]
    for argv, r in zip(argvs, limited(argvs, tmp_path), strict=True):
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == f"evonet {argv[0]}: error: {path}: unexpected member junk " + (
            "(a checkpoint holds best_genome, fitness, history, meta, population)"
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["population_declares_1e9_rows", "extra_member_declares_1e9_rows"])
def test_bombs_are_refused_before_allocating_under_a_memory_limit(name, good, tmp_path):
    path, needle = build(name, good, tmp_path)
    for r in limited([argv(str(path)) for argv in COMMANDS.values()], tmp_path):
        assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_run_too_big_for_this_machine_is_refused_on_resume_but_its_champion_plays(good, tmp_path):
    path = variant(good[0], tmp_path / "e.npz", meta=_config(episodes=10**9))
    resume = ["evolve", "snake", "--resume", str(path), "--generations", "5"]
    # evaluate and watch read only the best genome: the run's size does not matter to them.
    plays = [COMMANDS["evaluate"](str(path)), COMMANDS["watch"](str(path))]
    r, *played = limited([resume, *plays], tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "population 16 x 1,000,000,000 episodes" in r.stderr and "would need" in r.stderr
    assert "left under this process's memory limit" in r.stderr
    for r in played:
        assert r.returncode == 0, r.stderr


def test_encrypted_zip_of_a_network_is_refused(good, tmp_path):
    _, net = good
    path = variant(net, tmp_path / "n.npz")
    crafted.patch_entry(path, "theta.npy", flags=1)
    with pytest.raises(CheckpointError, match="encrypted"):
        load_network(path)
    with zipfile.ZipFile(path) as z:  # the crafted flag is real: zipfile itself asks for a key
        with pytest.raises(RuntimeError):
            z.read("theta.npy")
