"""Settings fields that carry their own help text: one source for dataclass defaults,
documentation and the command line's flags (``evonet evolve --help``)."""

from __future__ import annotations

import dataclasses
from typing import Any


def setting(default: Any, doc: str) -> Any:
    """A dataclass field whose help text is kept beside it."""
    return dataclasses.field(default=default, metadata={"help": doc})


def same_as(cls: type, name: str) -> Any:
    """A field with the default and help text of ``cls``'s field ``name`` (a settings
    class that holds another's settings, as EvolveConfig holds GAConfig's)."""
    f = cls.__dataclass_fields__[name]
    return dataclasses.field(default=f.default, metadata=f.metadata)


def help_of(cls: type, name: str) -> str:
    """The help text of ``cls``'s field ``name``."""
    return cls.__dataclass_fields__[name].metadata["help"]
