"""Signals, in one place: which ones stop evonet's work, and what each piece of work does
when one comes.

* A run stops after the generation in progress (:func:`stop_requests`): the first stop
  signal is a request, a second one stops at once.
* A recording treats them as Ctrl-C (:func:`as_interrupt`), so its temporary file goes.
* Code that must not be interrupted (numba loading compiled code, where Python would print
  a KeyboardInterrupt as "Exception ignored" and lose it) holds Ctrl-C until it is done
  (:func:`held`).
* The command line ends at once, in one line, on a Ctrl-C during its start-up
  (:func:`exit_on_interrupt`), and worker processes leave Ctrl-C to their owner
  (:func:`ignore_interrupts`).

Only the main thread can take signals: elsewhere these change nothing, and a stop request
never comes.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

# Ctrl-C, kill, and a closed terminal (no SIGHUP on Windows): each stops a run after its
# generation.
STOP_SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM) + (
    (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()
)
INTERRUPTED = 130  # the exit code of a process ended by Ctrl-C (128 + SIGINT)


def exit_code(signum: int) -> int:
    """The exit code of a process that a signal ended: 128 + its number."""
    return 128 + int(signum)


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@dataclass
class StopRequest:
    """The first stop signal received, if any; call it to ask whether to stop."""

    signal: int | None = None

    def __call__(self) -> bool:
        return self.signal is not None


@contextmanager
def stop_requests(
    on_first: Callable[[int], object] | None = None,
    on_second: Callable[[int], object] | None = None,
    signals: Sequence[int] = STOP_SIGNALS,
) -> Iterator[StopRequest]:
    """While inside, the first of ``signals`` is recorded in the yielded
    :class:`StopRequest` (and ``on_first(signum)`` is called); a second calls
    ``on_second(signum)``, or raises KeyboardInterrupt without one.

    The handlers run between two bytecodes of whatever the main thread is doing, so
    ``on_first`` and ``on_second`` must only write with ``os.write`` (a ``print`` could
    re-enter a stream that is mid-write) or end the process. The previous handlers come
    back on leaving.
    """
    request = StopRequest()
    if not in_main_thread():
        yield request
        return

    def handler(signum: int, frame: object) -> None:
        if request.signal is not None:
            if on_second is None:
                raise KeyboardInterrupt
            on_second(signum)
            return
        request.signal = signum
        if on_first is not None:
            on_first(signum)

    with _handled(signals, handler):
        yield request


@contextmanager
def held(signals: Sequence[int] = (signal.SIGINT,)) -> Iterator[None]:
    """Hold ``signals`` that come inside the block; after it, raise KeyboardInterrupt if
    one came."""
    if not in_main_thread():
        yield
        return
    came: list[int] = []
    with _handled(signals, lambda signum, frame: came.append(signum)):
        yield
    if came:
        raise KeyboardInterrupt


@contextmanager
def as_interrupt(signals: Sequence[int] = STOP_SIGNALS) -> Iterator[None]:
    """Raise KeyboardInterrupt for any of ``signals`` inside the block, as Ctrl-C does:
    work that cleans up after Ctrl-C (a temporary file removed, an older file kept) then
    does so for a kill or a closed terminal too."""
    if not in_main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    with _handled(signals, interrupt):
        yield


def exit_on_interrupt(message: bytes = b"\nevonet: interrupted\n") -> None:
    """From now on, Ctrl-C writes ``message`` to stderr and ends the process at once with
    exit code 130: for start-up, where imports can turn a KeyboardInterrupt into any
    other exception."""

    def leave(signum: int, frame: object) -> None:
        os.write(2, message)
        os._exit(INTERRUPTED)

    signal.signal(signal.SIGINT, leave)


def interrupts_raise() -> None:
    """From now on, Ctrl-C raises KeyboardInterrupt (Python's default)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def ignore_interrupts() -> None:
    """From now on, Ctrl-C does nothing: for worker processes, whose owner decides when
    to stop, and for a process that is about to exit anyway."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _handled(signals: Sequence[int], handler: Callable[[int, object], object]) -> Iterator[None]:
    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, old in previous.items():
            # None: a handler not set from Python (SIG_DFL is what such a process had).
            signal.signal(s, signal.SIG_DFL if old is None else old)
