"""Input problems and the exception that carries all of them (SPEC §1, §4: exit code 2).

A :class:`Problem` names where the user must look: the file, the line as a
spreadsheet shows it (the header is line 1, the first data row line 2) and the
column (or, for ``campaign.toml``, the key). Loading collects every problem it can
find and raises one :class:`InputError` with the whole list, so a user fixes a
folder in one pass instead of one error per run.

Ids in the files are untrusted text: :func:`visible` escapes their control
characters wherever a problem is rendered, so an id holding an escape sequence
shows as ``\\x1b[2J`` on the terminal instead of clearing it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

# Control, format, separator and surrogate code points: invisible or acting on the
# terminal (ESC sequences, a right-to-left override, a line break inside one line).
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def visible(text: str) -> str:
    """``text`` with each control or invisible character written as its Python escape
    (``\\x1b``, ``\\n``, ``\\u202e``); every other character unchanged."""
    if text.isprintable():
        return text
    return "".join(ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   if unicodedata.category(ch) in _HIDDEN_CATEGORIES else ch for ch in text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the campaign folder.

    ``row`` is the 1-based line in the file (header = line 1), or None for a
    problem with the whole file or a whole column. ``column`` is the CSV column
    or the TOML key (dotted for tables, e.g. ``solver.mip_gap``), or a command-line
    option (``--budget``), or None.

    ``str(problem)`` is the line shown to the user, with control characters escaped
    (:func:`visible`); the fields keep the text as read.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file] if self.file else []
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.column is not None:
            label = ("key" if self.file.endswith(".toml")
                     else "option" if self.column.startswith("-") else "column")
            where.append(f"{label} '{self.column}'")
        return visible(f"{', '.join(where)}: {self.message}" if where else self.message)


MAX_LISTED = 20  # problems listed per (file, column); the rest are counted in one line


def limit_per_column(problems: list[Problem], max_listed: int = MAX_LISTED) -> list[Problem]:
    """At most ``max_listed`` problems per (file, column), then one "… and N more" line each.

    A column that is wrong in every one of 200,000 rows is one cause, not 200,000
    lines of output: the first rows show what is wrong, the count says how often.
    """
    seen: dict[tuple, int] = {}
    out = []
    for p in problems:
        key = (p.file, p.column)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= max_listed:
            out.append(p)
    for (file, column), n in seen.items():
        if n > max_listed:
            out.append(Problem(file, None, column, f"... and {n - max_listed} more rows like these"))
    return out


class InputError(Exception):
    """The campaign folder is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem], folder: str | Path | None = None):
        self.problems = list(problems)
        self.folder = None if folder is None else Path(folder)
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        noun = "problem" if n == 1 else "problems"
        if all(p.file == "command line" for p in self.problems):
            head = f"{n} {noun} with the command line:"
        else:
            head = f"{n} {noun} in campaign folder" + (f" {visible(str(self.folder))}:"
                                                        if self.folder is not None else ":")
        lines = [head]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)
