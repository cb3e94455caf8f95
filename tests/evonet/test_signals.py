"""Ctrl-C and SIGTERM at awkward moments: start-up, twice before the first checkpoint, and
during the last generation. None of them may print a traceback."""

import os
import signal
import subprocess
import time

import pytest

from evonet.evolution.files import load_run
from tests.helpers import TINY_EVOLVE, cpu_seconds, start_evolve, wait_for_cpu, wait_for_rows

# Every test here starts evonet in a process of its own and signals it.
pytestmark = pytest.mark.slow

# Generations long enough to land two signals inside one: early snakes circle until they
# starve (400 steps), so a generation is about 4,000 x 4 x 400 moves whatever the engine's
# speed leaves of it. The signals are paced by the processor time the run has used, so a
# busy machine, which stretches the wall time of everything, cannot move them out of the
# generation. Serial: worker processes are the backends' tests. No fitness.png: it is not
# what these test.
SLOW = (
    "--population 4000 --elite 2 --parents 5 --hunger 400 --quiet --backend serial --no-plot"
).split()


@pytest.mark.parametrize("used", [0.1, 0.3, 0.6, 0.9])
def test_ctrl_c_during_start_up_is_no_traceback(tmp_path, used):
    """From evonet's first line on: in its imports, its parsing, numba's import, and
    the loading of the compiled engine. (Before evonet's first line, Python itself is still
    importing its site module and the evonet package, and reports a Ctrl-C there as a
    fatal start-up error.)"""
    proc = start_evolve(tmp_path, *TINY_EVOLVE, "--generations", "100000", "--out", "run")
    # Somewhere in evonet's imports, parsing, or the first generations. Counted in the
    # processor time it has used, not in wall time: on a busy machine start-up takes
    # longer, and a signal after a fixed delay could land before evonet's first line.
    wait_for_cpu(proc, used)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # it was running: a second Ctrl-C stops it at once
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    # Killed by the signal before Python could handle it, or handled: 130 either way.
    assert proc.returncode in (130, -signal.SIGINT), err


def test_a_ctrl_c_while_the_engine_loads_is_held_until_it_has_loaded():
    """numba loads compiled code in ctypes callbacks, where a KeyboardInterrupt is printed
    as "Exception ignored" with a traceback, and lost."""
    from evonet import signals

    before = signal.getsignal(signal.SIGINT)
    went_on = []
    with pytest.raises(KeyboardInterrupt):
        with signals.held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler has run by now
            went_on.append(True)
    assert went_on == [True] and signal.getsignal(signal.SIGINT) is before


def test_double_ctrl_c_before_the_first_checkpoint_says_nothing_was_saved(tmp_path):
    proc = start_evolve(tmp_path, *SLOW, "--generations", "1000", "--checkpoint-every", "500")
    wait_for_rows(tmp_path / "checkpoints/snake/history.csv", 1)
    start = cpu_seconds(proc.pid)
    wait_for_cpu(proc, start + 0.2)  # generation 1 is under way ...
    proc.send_signal(signal.SIGINT)
    wait_for_cpu(proc, start + 0.35)  # ... and still is
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "stopped at once; nothing was saved yet, so there is nothing to resume" in err
    assert not (tmp_path / "checkpoints/snake/latest.npz").exists()


def test_double_ctrl_c_after_a_checkpoint_names_it(tmp_path):
    proc = start_evolve(tmp_path, *SLOW, "--generations", "1000", "--checkpoint-every", "1")
    wait_for_rows(tmp_path / "checkpoints/snake/history.csv", 2)
    start = cpu_seconds(proc.pid)
    wait_for_cpu(proc, start + 0.2)
    proc.send_signal(signal.SIGINT)
    wait_for_cpu(proc, start + 0.35)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert "stopped at once; checkpoints/snake/latest.npz holds generation" in last
    gen = int(last.split("holds generation ")[1].split(";")[0])
    assert load_run(tmp_path / "checkpoints/snake/latest.npz").generation == gen >= 2


def test_sigterm_in_the_last_generation_exits_143_with_the_run_saved(tmp_path):
    proc = start_evolve(tmp_path, *SLOW, "--generations", "2", "--out", "run")
    wait_for_rows(tmp_path / "run/history.csv", 1)  # generation 0 is done; 1 is the last
    wait_for_cpu(proc, cpu_seconds(proc.pid) + 0.2)  # and under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in err, err
    assert load_run(tmp_path / "run/latest.npz").generation == 2


def test_a_closed_stdout_stops_the_run_in_one_line(tmp_path):
    """`evonet evolve snake --json | head -1`: the reader goes away after one line."""
    proc = start_evolve(tmp_path, *TINY_EVOLVE, "--generations", "100000", "--json", "--out", "run")
    assert proc.stdout.readline().startswith('{"generation": 0')
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 128 + signal.SIGPIPE
    assert "Traceback" not in err and "stdout was closed, so the run stops" in err, err
