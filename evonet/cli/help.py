"""How the commands' help reads: metavars from argument types, examples kept as written,
settings' help text as flag help."""

from __future__ import annotations

import argparse
import textwrap

from evonet.fields import help_of

# What a flag's value looks like in help, by the name of its type (see int_in and the rest).
METAVARS = {"whole number": "N", "number": "X", "float": "X", "parse_hidden": "N,N,...",
            "snake_board": "WxH"}  # fmt: skip


def metavar(kwargs: dict) -> dict:
    """``add_argument`` keywords with a metavar from the type's name when none is set."""
    name = getattr(kwargs.get("type"), "__name__", "")
    if kwargs.get("metavar") is None and kwargs.get("choices") is None and name in METAVARS:
        return {**kwargs, "metavar": METAVARS[name]}
    return kwargs


def flag_doc(settings: type, name: str) -> str:
    """A settings field's help (:mod:`evonet.fields`) as a flag's: no full stop, and a
    first word in lower case, as flags read ("Generations to run" -> "generations to
    run"; "P, genomes" and "L2 penalty" stay)."""
    doc = help_of(settings, name).rstrip(".")
    return doc[0].lower() + doc[1:] if doc[1:2].islower() else doc


class Formatter(argparse.HelpFormatter):
    """Help text as argparse wraps it, except a text of several lines (the examples at the
    end of a command's help), which is kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def examples(*lines: tuple[str, str], notes: str = "") -> str:
    """The end of a command's help: ``(command, what it does)`` pairs, each command on
    its own line (they are long), then ``notes`` as a wrapped paragraph."""
    text = "examples:\n" + "\n".join(f"  {c}\n      {what}" for c, what in lines)
    return text + ("\n\n" + textwrap.fill(notes, 79) if notes else "")
