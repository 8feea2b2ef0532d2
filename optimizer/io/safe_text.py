"""Untrusted text in exports: neutralise spreadsheet formulas (CSV/formula injection).

SKU, supplier and campaign names come from suppliers' exports. A cell whose text
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets when the file is opened; we prefix
such text with a single quote so it shows as text. Genuine numbers are left alone
(``-12.5`` stays a number), as are non-string cells.

The prefix is reversible, so files the tool reads back (plan.csv, sku_summary.csv,
coverage.csv) give the ids verbatim: text that already starts with a quote gets one
more, and :func:`plain_cell` drops exactly one leading quote.  The workbook does not
need the prefix: it stores such text as text cells (:mod:`optimizer.report.workbook`).

HTML is a different context: the report escapes names with ``html.escape`` /
``DataFrame.to_html(escape=True)`` (see :mod:`optimizer.report.tables`).

:mod:`optimizer.io.run_folder` passes every table it writes through :func:`safe_frame`
and every text column it reads through :func:`plain_frame`.
"""

from __future__ import annotations

import math
import re

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number, as a spreadsheet would read it (optional sign, exponent).
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def is_number_text(text: str) -> bool:
    """True for text that is a plain number (``-3``, ``+1.5e3``, ``.25``)."""
    return bool(_NUMBER.fullmatch(text.strip()))


def safe_cell(value):
    """``value`` with a formula-looking string prefixed by ``'``; anything else unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith("'") or (value.startswith(FORMULA_PREFIXES) and not is_number_text(value)):
        return "'" + value
    return value


def plain_cell(value):
    """The inverse of :func:`safe_cell`: one leading ``'`` dropped from text."""
    if isinstance(value, str) and value.startswith("'"):
        return value[1:]
    return value


def plain_frame(df: pd.DataFrame, columns) -> pd.DataFrame:
    """``df`` with :func:`plain_cell` applied to the text ``columns`` present (in place)."""
    for col in columns:
        if col in df:
            df[col] = df[col].map(plain_cell)
    return df


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with :func:`safe_cell` applied to text cells, index and headers."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(safe_cell).astype(object)
    out.columns = [safe_cell(c) for c in out.columns]
    if isinstance(out.index, pd.MultiIndex):
        out.index = pd.MultiIndex.from_tuples(
            [tuple(safe_cell(v) for v in t) for t in out.index], names=out.index.names)
    else:
        out.index = pd.Index([safe_cell(v) for v in out.index], name=out.index.name)
    return out


# Excel sheet names: ≤ 31 characters, none of []:*?/\, not blank, not starting or
# ending with an apostrophe, unique without regard to case; "History" is reserved.
_SHEET_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
SHEET_MAX = 31


def sheet_names(names, reserved=("History",)) -> list[str]:
    """Excel-valid, unique (case-insensitive) sheet names for ``names``, in order."""
    taken = {r.casefold() for r in reserved}
    out = []
    for raw in names:
        base = _SHEET_BAD.sub("_", "" if raw is None or (isinstance(raw, float) and math.isnan(raw))
                              else str(raw)).strip().strip("'").strip()
        base = base[:SHEET_MAX].strip().strip("'") or "Sheet"
        name, k = base, 1
        while name.casefold() in taken:
            k += 1
            suffix = f" ({k})"
            name = base[:SHEET_MAX - len(suffix)].rstrip().rstrip("'") + suffix
        taken.add(name.casefold())
        out.append(name)
    return out
