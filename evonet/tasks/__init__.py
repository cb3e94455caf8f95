"""Supervised tasks for ``evonet train``: each is one module with a ``TASK``, plugged into
:func:`evonet.train.fit` through :class:`evonet.train.Task`, and one line here."""

from __future__ import annotations

from evonet.tasks import digits, sine, xor
from evonet.train import Task

TASKS: dict[str, Task] = {"sine": sine.TASK, "xor": xor.TASK, "digits": digits.TASK}
