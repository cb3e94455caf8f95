"""evonet plot: several runs' curves in one PNG, and one line for anything it cannot read."""

import pytest

from evonet.cli.main import main
from tests.helpers import TINY_EVOLVE, evonet_here


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for seed in ("1", "2"):
        r = evonet_here("evolve", "snake", *TINY_EVOLVE, "--generations", "3", "--seed", seed,
                   "--out", f"s{seed}", cwd=root)  # fmt: skip
        assert r.returncode == 0, r.stderr
    return root


@pytest.mark.slow
def test_plot_overlays_runs_into_one_png(runs):
    r = evonet_here("plot", "s1", "s2/history.csv", "--out", "both.png", cwd=runs)
    assert r.returncode == 0, r.stderr
    assert (runs / "both.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.stderr.strip() == "evonet: wrote both.png (2 runs)"
    r = evonet_here("plot", "s1", "--out", "one.png", cwd=runs)
    assert r.stderr.strip() == "evonet: wrote one.png (1 run)"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["nowhere"], "evonet plot: error: nowhere: no such run"),
        (["s1", "--labels", "a,b"], "--labels: 2 names for 1 run; give one per run"),
        (["foreign.csv"], "foreign.csv: not a run history (its columns are not evonet's)"),
        (["short.csv"], "short.csv, line 3: expected 9 numbers"),
        (["inf.csv"], "inf.csv, line 2: an infinite value"),
        (["binary.csv"], "binary.csv: not a CSV run history"),
        (["s1/best.npz"], "s1/best.npz: a network or checkpoint file, not a run (evonet plot s1)"),
        (["net.npz"], "net.npz: a network or checkpoint file, not a run (a run folder or its"),
        (["s1", "gym.csv"], "the runs play different games (s1 scores apples, gym scores return)"),
        (["s1", "--out", "no/such/dir/x.png"], "--out"),
    ],
)
def test_what_plot_cannot_read_is_one_line(runs, monkeypatch, capsys, args, needle):
    header = "generation,best_fitness,mean_fitness,median_fitness,best_{0},mean_{0},seconds,"
    header += "agent_steps_per_s,workers\n"
    (runs / "foreign.csv").write_text("a,b\n1,2\n")
    (runs / "short.csv").write_text(header.format("apples") + "0,1,1,1,1,1,1,1,1\n0,1\n")
    (runs / "gym.csv").write_text(header.format("return") + "0,1,1,1,1,1,1,1,1\n")
    (runs / "inf.csv").write_text(header.format("apples") + "0,1e400,1,1,1,1,1,1,1\n")
    (runs / "binary.csv").write_bytes(bytes(range(128, 256)))
    (runs / "net.npz").write_bytes((runs / "s1" / "best.npz").read_bytes())
    monkeypatch.chdir(runs)
    assert main(["plot", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
