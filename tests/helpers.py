"""Helpers shared by the tests: the CLI in a subprocess, and a scripted view."""

import json
import os
import pty
import resource
import select
import subprocess
import sys
import time
from pathlib import Path

# Flags for an evolution small enough to run in a second (board 6x6, 16 genomes). Serial:
# worker processes would cost more to start than such a run; the tests of the backends and
# of signals name theirs (a later --backend flag wins).
TINY_PLOTTED = (
    "--population 16 --elite 2 --parents 5 --episodes 2 --board 6x6 --hidden 6 --quiet "
    "--backend serial"
).split()
# The same without fitness.png: matplotlib's import and one figure take most of such a
# run. The tests of the run folder and of its figure use TINY_PLOTTED.
TINY_EVOLVE = [*TINY_PLOTTED, "--no-plot"]


def evonet(*args, cwd=None, timeout=300):
    """Run ``python -m evonet ARGS`` as a user would; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "evonet", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


# Runs each (argv, cwd) of a JSON list from stdin through evonet_here; prints the results.
_BATCH = """
import json, sys
from tests.helpers import evonet_here
done = [evonet_here(*argv, cwd=cwd) for argv, cwd in json.loads(sys.stdin.read())]
print(json.dumps([[r.returncode, r.stdout, r.stderr] for r in done]))
"""


def evonet_limited(commands, memory, timeout=300):
    """Run several ``evonet`` commands, ``[(argv, cwd), ...]``, one after another in one new
    process whose address space is limited to ``memory`` bytes (``ulimit -v``); a
    CompletedProcess each, as :func:`evonet_here` returns them.

    For commands that must refuse, rather than allocate, what would not fit: the limit is
    real and holds for every one of them, and they share one interpreter's start-up (a
    second each, which a process per command would pay again).
    """
    root = Path(__file__).resolve().parents[1]
    # One BLAS thread: its buffers would otherwise take part of a tight limit.
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", _BATCH],
        input=json.dumps([[list(argv), str(cwd)] for argv, cwd in commands]),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (memory, memory)),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.splitlines()[-1])
    return [
        subprocess.CompletedProcess(argv, code, out, err)
        for (argv, _), (code, out, err) in zip(commands, results, strict=True)
    ]


def evonet_here(*args, cwd=None):
    """``evonet ARGS`` in this process, through the same ``main`` a process runs; returns a
    CompletedProcess like :func:`evonet`, with any uncaught exception as a traceback on
    stderr and exit code 1.

    For commands that fail fast or finish at once (bad input, refused files): they skip a
    second of interpreter start-up and imports. Anything that needs a process of its own
    (signals, memory limits, worker pools, a terminal or a screen) uses :func:`evonet`.
    """
    import contextlib
    import io
    import traceback

    from evonet.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        os.chdir(cwd or here)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse's --help and its own errors
                code = e.code if isinstance(e.code, int) else int(e.code is not None)
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def colours(pixels):
    """How many distinct colours an RGB image ``(W, H, 3)`` holds. Packed into one number
    per pixel first: ``np.unique(axis=0)`` over the rows took over a second a window."""
    import numpy as np

    rgb = pixels.reshape(-1, 3).astype(np.uint32)
    return len(np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2]))


def last_json(stdout):
    """The JSON object on the last stdout line."""
    return json.loads(stdout.strip().splitlines()[-1])


class ScriptedView:
    """A window/terminal stand-in: plays back key presses, records what was drawn."""

    def __init__(self, script):
        self.script, self.frames, self.fps = list(script), [], None

    def poll(self):
        return self.script.pop(0) if self.script else ["quit"]

    def draw(self, k, extra=(), message=()):
        self.frames.append((list(extra), list(message)))

    def tick(self, fps):
        self.fps = fps


# Status lines a run prints on stderr before any error: its folder, the engine's start-up.
STATUS_LINES = (
    "evonet: run folder",
    "evonet: compiled the Snake engine",
    "evonet: loaded the compiled Snake engine",
    "evonet: each genome plays",  # more episodes late in a run
    "evonet: the best ",  # ... for the best of each generation (a race)
)


def error_lines(stderr):
    """The lines of ``stderr`` that are not start-up status."""
    return [x for x in stderr.splitlines() if not x.startswith(STATUS_LINES)]


def strip_timing(history):
    """History records without the wall-clock columns: what one seed must reproduce."""
    from evonet.storage.history import TIMING_FIELDS

    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in history]


def history_rows(path):
    """``history.csv`` as rows of text, header first, without the wall-clock columns."""
    from evonet.storage.history import TIMING_FIELDS

    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, k in enumerate(header) if k not in TIMING_FIELDS]
    return [[line.split(",")[i] for i in keep] for line in lines]


def wait_for_rows(history, rows, timeout=120):
    """Wait until ``history.csv`` has ``rows`` generations."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if history.exists() and len(history.read_text().splitlines()) > rows:
            return
        time.sleep(0.01)
    raise AssertionError(f"{history} never reached {rows} rows")


def cpu_seconds(pid):
    """The processor time process ``pid`` has used (user and system, by /proc), or None
    once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_cpu(proc, seconds, timeout=60):
    """Wait until ``proc`` has used ``seconds`` of processor time in all, or has ended.

    A point in a process's work, unlike a delay from its start: a busy machine stretches
    the wall time of everything a process does, but not the processor time it takes.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        used = cpu_seconds(proc.pid)
        if used is None or used >= seconds:
            return
        time.sleep(0.005)


def start_evolve(cwd, *args, **popen):
    """Start ``python -m evonet evolve snake ARGS`` in ``cwd`` with piped text output."""
    return subprocess.Popen(
        [sys.executable, "-m", "evonet", "evolve", "snake", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def run_in_terminal(args, term="xterm", keys=b"", ready=b"apples", cwd=None):
    """``python -m evonet ARGS`` with stdin and stdout on a pseudo-terminal of type
    ``term`` (None: TERM unset); types ``keys`` once ``ready`` is drawn (or sends it, if it is
    a signal number: the pseudo-terminal is not the process's controlling terminal, so a
    typed Ctrl-C would arrive as a key). Returns the exit code and stderr."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "TERM"}
    if term is not None:
        env["TERM"] = term
    proc = subprocess.Popen(
        [sys.executable, "-m", "evonet", *args],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    os.close(slave)
    drawn, deadline = b"", time.monotonic() + 60
    try:
        # Keep reading what it draws: a full pseudo-terminal buffer would block it.
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    drawn += os.read(master, 1 << 16)
                except OSError:  # the terminal closed: the process is ending
                    break
            if isinstance(keys, int) and keys and ready in drawn:  # a signal, say SIGINT
                proc.send_signal(keys)
                keys = b""
            elif keys and ready in drawn:  # the HUD is up: the view is running
                os.write(master, keys)
                keys = b""
        return proc.wait(timeout=10), proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.stderr.close()
        os.close(master)
