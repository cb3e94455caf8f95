"""Where rollouts run: in this process, or split over a pool of worker processes.

An evaluator takes a generation's genomes ``(P, D)`` and episode seeds ``(E,)`` and
returns the :class:`evonet.rollout.RolloutResult` of all ``P`` genomes, in genome order.
:func:`evonet.rollout.rollout` is a pure function and a game's result does not depend on
its batch, so splitting the population into contiguous shards changes no number: every
backend gives bit-identical results for any worker count.

* ``serial``: the rollout in this process.
* ``processes``: one pool of long-lived worker processes per run, started once, each a
  fork of a server that has loaded what they need (:mod:`evonet.pool_preload`). The
  genome matrix reaches them through a shared-memory file (tmpfs), not by pickling; each
  worker plays one contiguous shard, single-threaded BLAS; shards are reassembled in
  order (a population smaller than the pool, like one champion, is split by episodes
  instead). A worker that dies (``kill -9``) is replaced and its shard run again. Workers
  ignore Ctrl-C (the run stops between generations) and exit when the process that owns
  the pool does.
* ``ray``: stateless Ray tasks, one per shard, on a local Ray instance or an existing
  cluster (``address="auto"`` or ``"HOST:PORT"``). The genome matrix is ``ray.put`` once
  per generation; a task whose worker fails is retried by Ray.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np

from evonet.archive import process_alive
from evonet.mlp import Topology
from evonet.rollout import RolloutResult, from_episodes, rollout
from games.base import GameSpec

BACKENDS = ("serial", "processes", "ray")
RAY_HINT = "pip install 'evonet[ray]'"
# Thread-count variables of the BLAS libraries numpy may use; one thread per worker, since
# the workers already use every core.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MAX_RESTARTS = 3  # pool replacements per generation before giving up
SHARED_PREFIX = "evonet-genomes-"  # + the owner's pid: files of dead owners are removed


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_backend() -> tuple[str, int]:
    """``(backend, workers)`` when none is asked for: processes on every available core
    when there is more than one, else serial."""
    cores = available_cores()
    return ("processes", cores) if cores > 1 else ("serial", 1)


def shards(p: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` blocks covering ``range(p)``, at most ``workers`` of
    them, sizes differing by at most one, none empty."""
    n = max(1, min(workers, p))
    bounds = [p * k // n for k in range(n + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def plan(
    p: int, seeds: np.ndarray, workers: int
) -> tuple[bool, list[tuple[tuple[int, int], np.ndarray]]]:
    """How to split ``p`` genomes on ``seeds (E,)`` over ``workers``: ``(by_episode,
    [(genome block [start, stop), its seeds), ...])``. Contiguous blocks of genomes; with
    fewer genomes than workers (evaluating one champion), blocks of episodes instead."""
    e = len(seeds)
    if p < workers and e > p:
        return True, [((0, p), seeds[a:b]) for a, b in shards(e, workers)]
    return False, [((a, b), seeds) for a, b in shards(p, workers)]


def merge(parts: list[RolloutResult], axis: int = 0) -> RolloutResult:
    """The results of consecutive shards as one result: shards of genomes (``axis`` 0) or
    of episodes (``axis`` 1). The means are taken again over the whole episode arrays, so
    they are bit for bit those of one unsplit rollout."""
    if len(parts) == 1:
        return parts[0]
    return from_episodes(
        *(
            np.concatenate([getattr(r, name) for r in parts], axis=axis)
            for name in ("episode_fitness", "episode_score", "episode_steps", "episode_won")
        )
    )


class SerialEvaluator:
    """Rollouts in this process."""

    name = "serial"
    workers = 1

    def __call__(
        self, genomes: np.ndarray, topo: Topology, game: GameSpec, seeds: np.ndarray
    ) -> RolloutResult:
        return rollout(genomes, topo, game, seeds)

    def close(self) -> None:
        pass

    def __enter__(self) -> SerialEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Sharded:
    """An evaluator that splits each generation into :func:`plan`'s shards, plays them
    elsewhere (``_play``: one result per shard, in order) and merges the results."""

    workers: int

    def start(self) -> None:
        raise NotImplementedError

    def _play(
        self, genomes: np.ndarray, work: list, topo: Topology, game: GameSpec
    ) -> list[RolloutResult]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def workers_used(self, game: GameSpec) -> int:
        """How many workers play ``game``'s generations (1: it is not split)."""
        return self.workers if game.shardable else 1

    def __call__(
        self, genomes: np.ndarray, topo: Topology, game: GameSpec, seeds: np.ndarray
    ) -> RolloutResult:
        genomes = np.ascontiguousarray(genomes)
        if not game.shardable:
            # Its batch shares one random generator: split, its games would change.
            return rollout(genomes, topo, game, seeds)
        self.start()
        by_episode, work = plan(genomes.shape[0], seeds, self.workers)
        return merge(self._play(genomes, work, topo, game), 1 if by_episode else 0)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProcessEvaluator(_Sharded):
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
        self, genomes: np.ndarray, work: list, topo: Topology, game: GameSpec
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
                    work[i][0],
                    topo,
                    game,
                    work[i][1],
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


class RayEvaluator(_Sharded):
    """Rollouts as Ray tasks, ``workers`` shards per generation (see the module docstring).

    Raises ValueError (from :meth:`start`) when Ray is not installed or the cluster at
    ``address`` cannot be reached.
    """

    name = "ray"

    def __init__(self, workers: int, address: str | None = None) -> None:
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive whole number, got {workers!r}")
        self.workers, self.address = workers, address
        self._ray: Any = None
        self._task: Any = None
        self._started_here = False

    def start(self) -> None:
        """Start a local Ray instance or join the cluster (otherwise the first call does)."""
        if self._ray is not None:
            return
        try:
            import ray
        except ImportError:
            raise ValueError(f"the ray backend needs Ray: {RAY_HINT}") from None
        if not ray.is_initialized():
            env = {"env_vars": {k: "1" for k in BLAS_THREADS}}
            options: dict[str, Any] = dict(
                include_dashboard=False,
                log_to_driver=False,
                logging_level="error",
                runtime_env=env,
            )
            if self.address:
                _check_reachable(self.address)
                options["address"] = self.address
            else:
                options["num_cpus"] = self.workers
            try:
                _quietly(lambda: ray.init(**options))
            except Exception as e:  # ConnectionError, RuntimeError, ValueError by version
                where = f"the Ray cluster at {self.address}" if self.address else "Ray"
                text = str(e).strip().splitlines()
                raise ValueError(
                    f"cannot start or reach {where}: {text[0] if text else type(e).__name__}"
                ) from None
            self._started_here = True
        self._ray = ray
        # Stateless tasks; Ray runs a task again when its worker dies (max_retries).
        self._task = ray.remote(max_retries=3, num_cpus=1)(_play_shared)

    def _play(
        self, genomes: np.ndarray, work: list, topo: Topology, game: GameSpec
    ) -> list[RolloutResult]:
        shared = self._ray.put(genomes)  # once per generation, read by every task
        refs = [self._task.remote(shared, block, topo, game, s) for block, s in work]
        return self._ray.get(refs)

    def close(self) -> None:
        if self._ray is not None and self._started_here:
            self._ray.shutdown()
        self._ray = None


def make_evaluator(
    backend: str | None = None, workers: int | None = None, ray_address: str | None = None
) -> Any:
    """An evaluator for ``backend`` (``serial``, ``processes`` or ``ray``) with ``workers``
    shards; None picks :func:`default_backend`'s."""
    if backend is None:
        backend, cores = default_backend()
        workers = workers or cores
    if backend == "serial":
        return SerialEvaluator()
    if backend == "processes":
        return ProcessEvaluator(workers or available_cores())
    if backend == "ray":
        return RayEvaluator(workers or available_cores(), ray_address)
    raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """ValueError unless ``HOST:PORT`` accepts a connection (Ray itself would retry for a
    minute before giving up); ``auto`` is left to Ray."""
    import socket

    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    shown = address if len(address) <= 60 else address[:60] + "..."
    if not host or len(host) > 253 or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(
            f"--ray-address {shown}: expected auto or HOST:PORT (a host name of at most 253 "
            "characters, a port from 1 to 65535)"
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except (OSError, UnicodeError) as e:  # UnicodeError: a label longer than 63
        reason = getattr(e, "strerror", None) or e
        raise ValueError(f"cannot reach the Ray cluster at {shown}: {reason}") from None


def _play_shared(
    genomes: np.ndarray,
    block: tuple[int, int],
    topo: Topology,
    game: GameSpec,
    seeds: np.ndarray,
) -> RolloutResult:
    """A Ray task: genomes ``[start, stop)`` of the generation's matrix on the seeds."""
    return rollout(np.array(genomes[block[0] : block[1]]), topo, game, seeds)


def _start_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, all started before this returns.

    Workers are forks of multiprocessing's fork server, which has loaded what they need
    (:mod:`evonet.pool_preload`) once; a spawned worker would spend a second of a core on
    imports and loading the Snake engine before its first shard.
    """
    import multiprocessing
    from multiprocessing import resource_tracker

    # multiprocessing's resource tracker outlives an abrupt exit (a second Ctrl-C ends
    # the process at once) to clean up the pool's semaphores, and then warns about them
    # on stderr, below evonet's last line. It cleans up all the same; it is started with
    # its stderr on the null device so that it does so quietly.
    _quietly(resource_tracker.ensure_running)
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
        context.set_forkserver_preload(["evonet.pool_preload"])
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


def _quietly(start: Any) -> None:
    """Call ``start()`` with file descriptor 2 on the null device: a process it spawns
    keeps that as its stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        start()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _init_worker(owner: int) -> None:
    # Ctrl-C reaches the whole process group; the owner (the process whose pool this is)
    # decides when to stop, and a worker must not print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

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
    block: tuple[int, int],
    topo: Topology,
    game: GameSpec,
    seeds: np.ndarray,
) -> RolloutResult:
    """A worker's task: genomes ``[start, stop)`` of the shared matrix on the seeds."""
    genomes = np.memmap(path, dtype=np.dtype(dtype), mode="r", shape=tuple(shape))
    try:
        return rollout(np.array(genomes[block[0] : block[1]]), topo, game, seeds)
    finally:
        del genomes
