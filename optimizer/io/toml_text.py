r"""TOML text that :mod:`tomllib` reads back as written: the derived campaign folders'
campaign.toml (a part of a large catalogue, a top-up).

Strings are TOML basic strings with quote, backslash and every control character
(U+0000–U+001F, U+007F) escaped, so any name a campaign may carry round-trips.

>>> import tomllib
>>> tomllib.loads(toml_text({"name": "BF\x07 'Q4'", "solver": {"threads": 2}}))
{'name': "BF\x07 'Q4'", 'solver': {'threads': 2}}
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Mapping

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                  "\f": "\\f", "\r": "\\r"}


def toml_text(table: Mapping) -> str:
    """TOML text of ``table``; ``tomllib.loads`` gives ``table`` back.

    Values may be str, bool, int, float (inf included; not NaN, which reads back
    unequal), dates and times, lists of them, tables (dicts, written as
    ``[name]``) and lists of tables (``[[name]]``). None values are left out.
    """
    return "\n".join(_table_lines(table, [])) + "\n"


def _table_lines(table: Mapping, path: list[str]) -> list[str]:
    """The key = value lines of ``table``, then its sub-tables and arrays of tables."""
    items = [(k, v) for k, v in table.items() if v is not None]
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in items
             if not isinstance(v, Mapping) and not _is_table_array(v)]
    for k, v in items:
        if isinstance(v, Mapping):
            lines += ["", f"[{_dotted(path + [k])}]"] + _table_lines(v, path + [k])
        elif _is_table_array(v):
            for entry in v:
                lines += ["", f"[[{_dotted(path + [k])}]]"] + _table_lines(entry, path + [k])
    return lines


def _is_table_array(value) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(isinstance(e, Mapping) for e in value)


def _dotted(path: list[str]) -> str:
    return ".".join(_toml_key(k) for k in path)


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(v) -> str:
    """One TOML value: a string, boolean, number, date or time, array or inline table."""
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):  # numpy's integers too
        return str(int(v))
    if isinstance(v, numbers.Real):
        return _toml_float(float(v))
    if isinstance(v, dt.date | dt.time):  # datetime is a date
        return v.isoformat()
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(e)}" for k, e in v.items()
                               if e is not None) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(e) for e in v) + "]"
    raise TypeError(f"no TOML value for {type(v).__name__} {v!r}")


def _toml_float(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def _toml_string(text: str) -> str:
    """A TOML basic string: quote, backslash and control characters escaped."""
    return '"' + "".join(_toml_char(c) for c in text) + '"'


def _toml_char(c: str) -> str:
    """One character inside a basic string: controls (U+0000–U+001F, U+007F) as escapes."""
    if c in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[c]
    return f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c
