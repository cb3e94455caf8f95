"""Real disk faults during `evonet evolve`: a full disk, a read-only folder, a folder
removed mid-run. Each ends in one line naming the path and the OS error, and the
previous checkpoint stays intact and resumable.

The full and read-only disks are small tmpfs mounts inside a private mount namespace
(`unshare --user --map-root-user --mount`), so no test needs to be root or leaves a mount
behind. The command runs inside the namespace; the folder's files are copied out before
the namespace (and its tmpfs) goes away.
"""

import shlex
import shutil
import subprocess
import sys
import time

import pytest

from evonet.evolution.files import load_run
from evonet.storage.archive import atomic_write, remove_stale_temps
from tests.helpers import TINY_EVOLVE, error_lines, evonet, evonet_here

# 40 genomes of 32-6-3: latest.npz is about 36 KB, so a 64 KB disk holds one checkpoint
# but not a second beside it (an atomic write needs room for both while it runs).
SMALL = [*TINY_EVOLVE, "--population", "40", "--checkpoint-every", "1"]


def in_namespace(tmp_path, script):
    """Run shell ``script`` in a private mount namespace; ``$DISK`` is an empty folder for
    it to mount on, and ``$KEEP`` a folder outside it to copy results into."""
    disk, keep = tmp_path / "disk", tmp_path / "keep"
    disk.mkdir()
    keep.mkdir()
    env_script = f"set -e; DISK={shlex.quote(str(disk))}; KEEP={shlex.quote(str(keep))}\n{script}"
    r = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", env_script],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, f"namespace script failed: {r.stderr}"
    return keep


def evonet_cmd(*args):
    return " ".join(shlex.quote(a) for a in [sys.executable, "-m", "evonet", *args])


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_keeps_the_last_checkpoint(tmp_path):
    keep = in_namespace(
        tmp_path,
        f"""
        mount -t tmpfs -o size=64k tmpfs "$DISK"
        cd "$DISK"
        {evonet_cmd("evolve", "snake", *SMALL, "--generations", "50", "--out", "run")} \
            2> "$KEEP/stderr" || echo $? > "$KEEP/code"
        cp -r run "$KEEP/run"
        """,
    )
    err = (keep / "stderr").read_text()
    lines = error_lines(err)
    assert (keep / "code").read_text().strip() == "1", err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "No space left on device" in lines[0] and "cannot write run/" in lines[0]
    assert "holds generation" in lines[0] and "resume with" in lines[0]
    saved = load_run(keep / "run" / "latest.npz")  # intact, and it resumes
    assert saved.generation >= 1
    assert not list((keep / "run").glob(".*.tmp"))  # the failed write cleaned up after itself
    r = evonet_here(
        "evolve", "snake", "--resume", str(keep / "run" / "latest.npz"),
        "--generations", str(saved.generation + 1), "--quiet", "--backend", "serial",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_a_read_only_folder_is_refused_before_the_run_and_keeps_the_checkpoint(tmp_path):
    keep = in_namespace(
        tmp_path,
        f"""
        mount -t tmpfs -o size=2m tmpfs "$DISK"
        cd "$DISK"
        {evonet_cmd("evolve", "snake", *TINY_EVOLVE, "--generations", "2", "--out", "run")}
        sha256sum run/latest.npz > "$KEEP/before"
        mount -o remount,ro "$DISK"
        {evonet_cmd("evolve", "snake", "--resume", "run/latest.npz", "--generations", "4")} \
            2> "$KEEP/stderr" || echo $? > "$KEEP/code"
        sha256sum run/latest.npz > "$KEEP/after"
        """,
    )
    err = (keep / "stderr").read_text()
    assert (keep / "code").read_text().strip() == "2", err
    assert err.count("\n") == 1 and "Read-only file system" in err and "--out" in err
    assert (keep / "before").read_text() == (keep / "after").read_text()


@pytest.mark.slow
def test_a_folder_removed_mid_run_is_one_line(tmp_path):
    cmd = [sys.executable, "-m", "evonet", "evolve", "snake", *TINY_EVOLVE]
    cmd += ["--generations", "100000", "--checkpoint-every", "1", "--out", "run"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    history = tmp_path / "run" / "history.csv"
    deadline = time.time() + 60
    while time.time() < deadline:
        if history.exists() and len(history.read_text().splitlines()) > 2:
            break
        time.sleep(0.02)
    # Moved away in one step, then deleted: rmtree alone races the writer's next file.
    (tmp_path / "run").rename(tmp_path / "elsewhere")
    shutil.rmtree(tmp_path / "elsewhere")
    _, err = proc.communicate(timeout=60)
    lines = error_lines(err)
    assert proc.returncode == 1, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "No such file or directory" in lines[0] and "run/" in lines[0]
    assert "nothing is left to resume: run/latest.npz is gone" in lines[0]


@pytest.mark.slow
def test_an_unwritable_out_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    r = evonet("evolve", "snake", *TINY_EVOLVE, "--out", "file/sub", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--out file/sub" in r.stderr


# ------------------------------------------------------------ temporaries of killed writers


def test_a_killed_writers_temporary_is_removed_by_the_next_save(tmp_path):
    # A writer killed mid-write leaves its temporary; the pid in the name is dead.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".latest.npz.{dead}.0123abcd.tmp"
    stale.write_bytes(b"half a checkpoint")
    other = tmp_path / ".history.csv.1.89abcdef.tmp"  # pid 1 is alive: not ours to remove
    other.write_bytes(b"in progress")
    notes = tmp_path / ".notes.tmp"  # not an evonet temporary at all
    notes.write_text("keep")
    atomic_write(tmp_path / "best.npz", lambda f: f.write(b"x"))
    assert not stale.exists() and other.exists() and notes.exists()
    assert (tmp_path / "best.npz").read_bytes() == b"x"


def test_a_failed_save_leaves_old_temporaries_and_the_file(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".x.{dead}.0123abcd.tmp"
    stale.write_bytes(b"old")
    (tmp_path / "x").write_bytes(b"before")

    def fail(f):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as err:
        atomic_write(tmp_path / "x", fail)
    assert err.value.filename == str(tmp_path / "x") and err.value.errno == 28
    assert (tmp_path / "x").read_bytes() == b"before"
    assert sorted(p.name for p in tmp_path.iterdir()) == [stale.name, "x"]
    assert remove_stale_temps(tmp_path) == [stale]
