"""Rollouts split over a pool of long-lived worker processes.

One pool per run, started once, each worker a fork of a server that has loaded what they
need (:mod:`evonet.evolution.evaluators.preload`). The genome matrix reaches them through a
shared-memory file (tmpfs), not by pickling; each worker plays shard after shard with
single-threaded BLAS; there are more shards than workers, each taken by the next worker
free, and their results are reassembled in order. A worker that dies (``kill -9``) is
replaced and its shard run again. Workers ignore Ctrl-C (the run stops between generations)
and exit when the process that owns the pool does.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from evonet import signals
from evonet.evolution.batches import Batches
from evonet.evolution.evaluators.sharded import BLAS_THREADS, Sharded, quietly
from evonet.evolution.rollout import RolloutResult, rollout
from evonet.games.base import GameSpec
from evonet.nn.mlp import Topology
from evonet.storage.archive import process_alive

# A worker process's game batches, kept between its tasks (:mod:`evonet.evolution.batches`);
# made by the pool's initializer, so only ever set inside a worker.
_batches: Batches | None = None

MAX_RESTARTS = 3  # pool replacements per generation before giving up
SHARED_PREFIX = "evonet-genomes-"  # + the owner's pid: files of dead owners are removed


class ProcessEvaluator(Sharded):
    """Rollouts split over ``workers`` long-lived processes (see the module docstring)."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive whole number, got {workers!r}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._path: Path | None = None  # the shared genome file
        self._size = 0
        self.restarts = 0  # pools replaced after a worker died

    def start(self) -> None:
        """Start the workers now (otherwise the first call does)."""
        if self._pool is None:
            self._pool = _start_pool(self.workers)

    def _play(
        self, genomes: np.ndarray, work: list, topo: Topology, game: GameSpec, observe: bool
    ) -> list[RolloutResult]:
        path = self._share(genomes)
        blocks = range(len(work))
        results: dict[int, RolloutResult] = {}
        for attempt in range(MAX_RESTARTS + 1):
            assert self._pool is not None
            futures: dict[int, Future] = {
                i: self._pool.submit(
                    _play_shard,
                    str(path),
                    genomes.shape,
                    genomes.dtype.str,
                    work[i].genomes,
                    topo,
                    game,
                    work[i].seeds,
                    observe,
                )
                for i in blocks
                if i not in results
            }
            broken = False
            for i, future in futures.items():
                try:
                    results[i] = future.result()
                except BrokenProcessPool:
                    broken = True  # a worker died; the shards it took are run again
            if not broken:
                return [results[i] for i in blocks]
            if attempt == MAX_RESTARTS:
                break
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = _start_pool(self.workers)
            self.restarts += 1
        raise RuntimeError(f"worker processes kept dying ({MAX_RESTARTS} pools replaced)")

    def _share(self, genomes: np.ndarray) -> Path:
        """Copy ``genomes`` into the shared file (made, or grown, as needed)."""
        if self._path is None or genomes.nbytes > self._size:
            self._unlink()
            folder = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
            _remove_stale(Path(folder))
            fd, name = tempfile.mkstemp(prefix=f"{SHARED_PREFIX}{os.getpid()}-", dir=folder)
            os.close(fd)
            self._path, self._size = Path(name), max(genomes.nbytes, 1)
            with open(self._path, "r+b") as f:
                f.truncate(self._size)
        view = np.memmap(self._path, dtype=genomes.dtype, mode="r+", shape=genomes.shape)
        view[...] = genomes
        view.flush()
        del view
        return self._path

    def _unlink(self) -> None:
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None

    def close(self) -> None:
        """Stop the workers and remove the shared file."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._unlink()


def _start_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, all started before this returns.

    Workers are forks of multiprocessing's fork server, which has loaded what they need
    (:mod:`evonet.evolution.evaluators.preload`) once; a spawned worker would import and
    load the Snake engine itself before its first shard.
    """
    import multiprocessing
    from multiprocessing import resource_tracker

    # multiprocessing's resource tracker outlives an abrupt exit (a second Ctrl-C ends
    # the process at once) to clean up the pool's semaphores, and then warns about them
    # on stderr, below evonet's last line. It cleans up all the same; it is started with
    # its stderr on the null device so that it does so quietly.
    quietly(resource_tracker.ensure_running)
    # Spawned children read these at numpy's import; set only while they start.
    saved = {k: os.environ.get(k) for k in BLAS_THREADS}
    os.environ.update({k: "1" for k in BLAS_THREADS})
    main = sys.modules.get("__main__")
    hidden = {k: vars(main)[k] for k in ("__file__", "__spec__") if k in vars(main)}
    vars(main).pop("__file__", None)
    main.__spec__ = None
    # A worker imports the parent's main script again, which would re-run a user's script
    # that lacks an ``if __name__ == "__main__"`` guard. The workers need nothing from it
    # (their tasks are evonet functions), so it is hidden while they start, and the fork
    # server preloads evonet's modules instead of it (the server starts with the first
    # pool of this process, with the environment above, and serves every later one).
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["evonet.evolution.evaluators.preload"])
    else:  # Windows: every worker starts afresh
        context = multiprocessing.get_context("spawn")
    try:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        # Start every worker now: the first generation should not pay for it, and the
        # environment above must be in place when they start.
        for f in [pool.submit(time.sleep, 0) for _ in range(workers)]:
            f.result()
    finally:
        vars(main).update(hidden)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return pool


def _remove_stale(folder: Path) -> None:
    """Remove shared genome files whose process is gone (it was killed before its
    evaluator closed); a live process's file is left alone."""
    for path in folder.glob(f"{SHARED_PREFIX}*"):
        pid = path.name[len(SHARED_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            path.unlink(missing_ok=True)


def _init_worker(owner: int) -> None:
    global _batches
    _batches = Batches()
    # Ctrl-C reaches the whole process group; the owner (the process whose pool this is)
    # decides when to stop, and a worker must not print a traceback of its own.
    signals.ignore_interrupts()

    # An owner that dies without shutting the pool down (kill -9, a second Ctrl-C) leaves
    # its workers waiting forever; they notice and leave. The fork server, their parent,
    # leaves with the owner too (multiprocessing closes it when its last client is gone).
    server = os.getppid()

    def watch() -> None:
        while os.getppid() == server and process_alive(owner):
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _play_shard(
    path: str,
    shape: tuple[int, int],
    dtype: str,
    rows: slice,
    topo: Topology,
    game: GameSpec,
    seeds: np.ndarray,
    observe: bool = False,
) -> RolloutResult:
    """A worker's task: the ``rows`` of the shared genome matrix on the seeds."""
    genomes = np.memmap(path, dtype=np.dtype(dtype), mode="r", shape=tuple(shape))
    try:
        return rollout(
            np.array(genomes[rows]), topo, game, seeds, observe=observe, batches=_batches
        )
    finally:
        del genomes
