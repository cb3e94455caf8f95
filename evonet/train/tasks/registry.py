"""Supervised tasks for ``evonet train``: each is one module with a ``TASK``, plugged into
:func:`evonet.train.fit.fit` through :class:`evonet.train.fit.Task`, and one line here."""

from __future__ import annotations

from evonet.train.task import Task
from evonet.train.tasks import digits, parity, sine, xor

TASKS: dict[str, Task] = {
    "sine": sine.TASK,
    "xor": xor.TASK,
    "digits": digits.TASK,
    "parity": parity.TASK,
}
