"""A griffe extension for the API reference: the docstrings' few reStructuredText habits,
read as Markdown.

evonet's docstrings are Google style, with three things from reStructuredText that Markdown
would print as they are: roles (``:class:`Topology```, ``:func:`~evonet.nn.mlp.forward```),
simple tables (columns under lines of ``=``), and ``::`` before a literal block. This
extension rewrites them once griffe has loaded the code, before mkdocstrings renders anything:
a role becomes a link where the name is documented (plain code where it is not), a table a
Markdown table, ``::`` a ``:``. The code itself is not touched.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|obj|exc|const):`(~?)([^`]+)`")
_RULE = re.compile(r"^( *)(=+(?: +=+)+) *$")


def _public_names(pkg: griffe.Module) -> dict[str, str]:
    """``evonet.NAME`` -> the full path of the object it stands for, from the package's
    ``_EXPORTS`` and ``_RENAMED`` tables (evonet imports its public names lazily, so griffe
    cannot see them as members)."""
    names: dict[str, str] = {}
    for table in ("_EXPORTS", "_RENAMED"):
        member = pkg.members.get(table)
        if member is None or getattr(member, "value", None) is None:
            continue
        for public, where in ast.literal_eval(str(member.value)).items():
            module, attr = (where, public) if isinstance(where, str) else where
            names[f"{pkg.path}.{public}"] = f"{module}.{attr}"
    return names


def _target(obj: griffe.Object, name: str, public: dict[str, str]) -> str:
    """The full path of ``name`` as seen from ``obj``'s scope, else ``name`` itself."""
    name = name.lstrip(".")
    if obj.path == obj.package.path and f"{obj.path}.{name.split('.')[0]}" in public:
        name = f"{obj.path}.{name}"  # the package's docstring names its public API
    if name.startswith("games."):  # the games package installs as evonet.games
        name = f"evonet.{name}"
    for short, full in public.items():  # evonet.run -> evonet.api.run
        if name == short or name.startswith(short + "."):
            name = full + name[len(short) :]
    head, _, rest = name.partition(".")
    scope: Any = obj
    while scope is not None:
        try:
            full = scope.resolve(head)
        except Exception:  # noqa: BLE001 - any failure: try the enclosing scope
            scope = scope.parent
            continue
        return f"{full}.{rest}" if rest else full
    return name


def _roles(obj: griffe.Object, text: str, public: dict[str, str]) -> str:
    def link(m: re.Match) -> str:
        short, name = m.group(1), m.group(2).strip()
        shown = name.rsplit(".", 1)[-1] if short else name
        target = _target(obj, name, public)
        return f'<autoref identifier="{target}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(link, text)


def _table(lines: list[str], indent: int) -> list[str]:
    """A reStructuredText simple table (its lines, rules included) as a Markdown table."""
    starts = [m.start() for m in re.finditer(r"=+", lines[0])]
    rows: list[list[str]] = []
    header: list[str] | None = None
    for line in lines[1:]:
        if _RULE.match(line):
            if header is None and rows:
                header, rows = rows[0], []
            continue
        cells = []
        for start, stop in zip(starts, [*starts[1:], len(line)], strict=True):
            cells.append(line[start:stop].strip())
        if rows and not cells[0]:  # a continuation line: more text for the row above
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    if header is None:
        header, rows = rows[0], rows[1:]
    pad = " " * indent

    def row(cells: list[str]) -> str:
        return pad + "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return ["", row(header), pad + "|" + "---|" * len(header), *map(row, rows), ""]


def _tables(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _RULE.match(lines[i])
        if m:
            # A table is a rule, a header, a rule, rows, and a closing rule.
            rules = [i]
            j = i + 1
            while j < len(lines) and len(rules) < 3 and lines[j].strip():
                if _RULE.match(lines[j]):
                    rules.append(j)
                j += 1
            if len(rules) == 3:
                out.extend(_table(lines[i:j], len(m.group(1))))
                i = j
                continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def _literal_blocks(text: str) -> str:
    text = re.sub(r" ::$", "", text, flags=re.M)  # "text ::" -> "text"
    return re.sub(r"(\S)::$", r"\1:", text, flags=re.M)  # "text::" -> "text:"


class RstToMarkdown(griffe.Extension):
    """Rewrites every docstring of a package once all of it is loaded (so that names
    defined further down a module resolve too)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        public = _public_names(pkg)
        todo: list[griffe.Object] = [pkg]
        while todo:
            obj = todo.pop()
            if obj.docstring is not None:
                text = _tables(_literal_blocks(obj.docstring.value))
                obj.docstring.value = _roles(obj, text, public)
            todo.extend(m for m in obj.members.values() if not m.is_alias)
