"""Every input rule of SPEC §1, as tables of rules rather than code paths.

* :data:`TABLES` — one :class:`Table` per CSV file: its columns (type, bounds,
  required or optional, blank allowed) and its key (unique per row).
* :data:`REFERENCES` — foreign keys between files (a demand row's sku must be a
  row of skus.csv, ...).
* :data:`ROW_RULES` — rules that tie several columns of one row together.
* :data:`DATE_RULES` — dates in the files against campaign.toml's planning_date:
  errors (a date no campaign has) and warnings (a fact the plan lives with).

:func:`check_table` turns one file's raw text cells into typed columns and lists
what is wrong; :func:`check_campaign` runs the cross-column and cross-file rules,
:func:`check_dates` the date rules.
Nothing here raises on bad data: callers collect every :class:`Problem` and raise
once (``campaign.load_campaign``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from optimizer.io.errors import Problem
from optimizer.io.options import DAYS_MAX, LUMP_MONEY_MAX
from optimizer.io.safe_text import plain_cell

Kind = Literal["str", "float", "int", "date", "bool"]


# ---------------------------------------------------------------- rule tables


@dataclass(frozen=True)
class Col:
    """A column rule: type, bounds (pydantic-style ge/gt/le/lt), presence, blanks.

    ``optional``: the column may be absent from the file.
    ``blank_ok``: a cell may be empty (read as NaN, or None for dates).
    ``cap``: a sanity limit no real value reaches (see :data:`UNIT_MONEY_MAX` and the
    others); unlike ``le`` it is named only to a value beyond it.
    """

    name: str
    kind: Kind
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    optional: bool = False
    blank_ok: bool = False
    cap: float | None = None

    def in_bounds(self, v: float) -> bool:
        return not (
            (self.cap is not None and v > self.cap)
            or (self.ge is not None and v < self.ge)
            or (self.gt is not None and v <= self.gt)
            or (self.le is not None and v > self.le)
            or (self.lt is not None and v >= self.lt)
        )

    def describe(self) -> str:
        """What a valid cell looks like, e.g. 'a number in [0, 1)' or 'a whole number >= 1'."""
        text = {"str": "a value", "float": "a number", "int": "a whole number",
                "date": "a date YYYY-MM-DD", "bool": "true or false"}[self.kind]
        lower = f"[{self.ge:g}" if self.ge is not None else f"({self.gt:g}" if self.gt is not None else None
        upper = f"{self.le:g}]" if self.le is not None else f"{self.lt:g})" if self.lt is not None else None
        if lower and upper:
            text += f" in {lower}, {upper}"
        else:
            for op, bound in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt)):
                if bound is not None:
                    text += f" {op} {bound:g}"
        return text + (" or empty" if self.blank_ok else "")


@dataclass(frozen=True)
class Table:
    """The rules of one CSV file of the campaign folder."""

    file: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    required_file: bool = True
    min_rows: int = 0


def _s(name, **kw):
    return Col(name, "str", **kw)


def _f(name, **kw):
    return Col(name, "float", **kw)


def _i(name, **kw):
    return Col(name, "int", **kw)


def _d(name, **kw):
    return Col(name, "date", **kw)


def _b(name, **kw):
    return Col(name, "bool", **kw)


# Upper bounds no real campaign reaches: a value beyond one is a unit or typing mistake
# (a price in cents, a stray exponent), and such magnitudes would also break the
# solver's numerics (a SKU dropped as worthless, an Infinity in summary.json).
UNIT_MONEY_MAX = 1e7      # per unit: cost, price, salvage, stockout penalty
FREIGHT_RATE_MAX = 1e6    # per kg or per m³
UNITS_MAX = 1e9           # units of stock, demand, MOQ, capacity
M3_MAX = 1e9              # warehouse or lane space
DAILY_UNITS_MAX = 1e7     # units sold in a day at one SKU × warehouse (sales history, actuals)
# LUMP_MONEY_MAX (per shipment, per order, a budget) and DAYS_MAX are shared with the
# command line's options (optimizer.io.options).

TABLES: tuple[Table, ...] = (
    Table("skus.csv", (
        _s("sku"), _s("supplier"),
        _f("unit_cost", gt=0, cap=UNIT_MONEY_MAX), _f("price", gt=0, cap=UNIT_MONEY_MAX),
        _f("weight_kg", gt=0, cap=1e5), _f("volume_m3", gt=0, cap=1e3),
        _i("case_pack", ge=1, cap=1e6), _i("moq", ge=0, cap=UNITS_MAX), _i("production_days", ge=0, cap=DAYS_MAX),
        _f("duty_rate", ge=0, le=1), _f("salvage_value", ge=0, cap=UNIT_MONEY_MAX), _f("return_rate", ge=0, lt=1),
        _f("stockout_penalty", ge=0, cap=UNIT_MONEY_MAX, optional=True, blank_ok=True),  # blank: campaign default
        _s("category", optional=True, blank_ok=True), _s("name", optional=True, blank_ok=True),
        # Seller economics (SPEC §6); blank: no referral fee, no fulfilment fee, campaign currency.
        _f("referral_fee_rate", ge=0, lt=1, optional=True, blank_ok=True),
        _f("fulfilment_fee", ge=0, cap=UNIT_MONEY_MAX, optional=True, blank_ok=True),
        _s("cost_currency", optional=True, blank_ok=True),
    ), key=("sku",), min_rows=1),
    Table("suppliers.csv", (
        _s("supplier"),
        _f("min_order_value", ge=0, cap=LUMP_MONEY_MAX),
        _f("capacity_units", ge=0, cap=UNITS_MAX, blank_ok=True),  # blank: unlimited
        _f("deposit_share", ge=0, le=1, optional=True, blank_ok=True),  # blank: 1, all on order
        # Printed on the supplier's purchase orders (text, as written).
        _s("name", optional=True, blank_ok=True), _s("category", optional=True, blank_ok=True),
        _s("address", optional=True, blank_ok=True), _s("contact", optional=True, blank_ok=True),
    ), key=("supplier",), required_file=False),
    Table("warehouses.csv", (
        _s("warehouse"), _s("market"),
        _f("capacity_m3", ge=0, cap=M3_MAX), _d("cutoff"),
        _f("storage_cost_per_m3_month", ge=0, cap=LUMP_MONEY_MAX, optional=True, blank_ok=True),
        _b("bonded", optional=True, blank_ok=True),  # blank: duty paid at purchase
        _s("kind", optional=True, blank_ok=True),  # descriptive: FBA, 3PL, bonded store, ...
        _s("address", optional=True, blank_ok=True),  # printed as the purchase orders' ship-to
    ), key=("warehouse",), min_rows=1),
    Table("lanes.csv", (
        _s("warehouse"), _s("mode"),
        _i("transit_days", ge=0, cap=DAYS_MAX),
        _f("cost_per_kg", ge=0, cap=FREIGHT_RATE_MAX), _f("cost_per_m3", ge=0, cap=FREIGHT_RATE_MAX),
        _f("volumetric_kg_per_m3", ge=0, cap=1e4),
        _f("shipment_cost", ge=0, cap=LUMP_MONEY_MAX),
        _f("shipment_m3", gt=0, cap=M3_MAX, blank_ok=True),  # blank: no containers, one shipment
        _f("capacity_m3", ge=0, cap=M3_MAX, blank_ok=True),  # blank: unlimited
    ), key=("warehouse", "mode")),
    Table("demand.csv", (
        _s("sku"), _s("warehouse"), _f("mean", ge=0, cap=UNITS_MAX), _f("sd", ge=0, cap=UNITS_MAX),
        _s("distribution", optional=True, blank_ok=True),  # SPEC §7; blank: normal
    ), key=("sku", "warehouse")),
    Table("inventory.csv", (
        _s("sku"), _s("warehouse"),
        _i("on_hand", ge=0, cap=UNITS_MAX), _i("in_transit", ge=0, cap=UNITS_MAX),
        _d("in_transit_eta", blank_ok=True),  # required when in_transit > 0: see ROW_RULES
    ), key=("sku", "warehouse"), required_file=False),
    Table("fees.csv", (  # per-pair fulfilment fee (SPEC §6), overrides skus.csv's
        _s("sku"), _s("warehouse"), _f("fulfilment_fee", ge=0, cap=UNIT_MONEY_MAX),
    ), key=("sku", "warehouse"), required_file=False),
)
TABLE = {t.file: t for t in TABLES}


@dataclass(frozen=True)
class Ref:
    """``file.column`` must name a row of ``master`` (by its single key column)."""

    file: str
    column: str
    master: str


REFERENCES: tuple[Ref, ...] = (
    Ref("skus.csv", "supplier", "suppliers.csv"),
    Ref("lanes.csv", "warehouse", "warehouses.csv"),
    Ref("demand.csv", "sku", "skus.csv"),
    Ref("demand.csv", "warehouse", "warehouses.csv"),
    Ref("inventory.csv", "sku", "skus.csv"),
    Ref("inventory.csv", "warehouse", "warehouses.csv"),
    Ref("fees.csv", "sku", "skus.csv"),
    Ref("fees.csv", "warehouse", "warehouses.csv"),
)


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row, checked only where those cells are valid.

    ``broken(frame)`` gives a boolean mask; ``message(row)`` explains one broken row.
    The problem is reported on ``column``.
    """

    file: str
    column: str
    uses: tuple[str, ...]
    broken: Callable[[pd.DataFrame], pd.Series]
    message: Callable[[pd.Series], str]


# SPEC §7: the shapes demand.csv's ``distribution`` may name (blank = normal).
DISTRIBUTION_NAMES = ("normal", "lognormal", "negative_binomial", "poisson")

ROW_RULES: tuple[RowRule, ...] = (
    RowRule(
        "demand.csv", "distribution", ("distribution",),
        lambda t: ~t["distribution"].str.strip().str.lower().isin(DISTRIBUTION_NAMES + ("",)),
        lambda r: (f"must be one of {', '.join(DISTRIBUTION_NAMES)} (or empty for normal), "
                   f"got {r['distribution']!r}"),
    ),
    RowRule(
        "skus.csv", "salvage_value", ("salvage_value", "price"),
        lambda t: t["salvage_value"] > t["price"],
        lambda r: (f"salvage_value {r['salvage_value']:g} is more than price {r['price']:g}: "
                   "a unit left over can't be worth more than selling it"),
    ),
    RowRule(
        "inventory.csv", "in_transit_eta", ("in_transit", "in_transit_eta"),
        lambda t: (t["in_transit"] > 0) & t["in_transit_eta"].isna(),
        lambda r: (f"is required when in_transit > 0 (in_transit is {r['in_transit']:g}): "
                   "give the arrival date as YYYY-MM-DD"),
    ),
)


# A date further than this from the planning date is a typing mistake (an ETA in
# 1900, a cutoff in 2206): no purchase, shipment or check-in is planned years away.
DATE_SPAN_MAX_DAYS = 5 * 365 + 1


@dataclass(frozen=True)
class DateRule:
    """A date column against campaign.toml's ``planning_date``, checked where the cell
    is a valid date. ``broken(day, planning_date)`` says whether the rule is broken,
    ``message(day, planning_date)`` explains it. A ``warning`` does not stop the run:
    it is kept in ``Campaign.warnings`` for the commands to show."""

    file: str
    column: str
    broken: Callable[[dt.date, dt.date], bool]
    message: Callable[[dt.date, dt.date], str]
    warning: bool = False


def _far_from(day: dt.date, planning: dt.date) -> bool:
    return abs((day - planning).days) > DATE_SPAN_MAX_DAYS


def _far_message(day: dt.date, planning: dt.date) -> str:
    return (f"must be within five years of planning_date ({planning}), got {day}: a date this far "
            "off is a typing mistake")


DATE_RULES: tuple[DateRule, ...] = (
    DateRule("warehouses.csv", "cutoff", _far_from, _far_message),
    DateRule("warehouses.csv", "cutoff", lambda day, planning: day < planning,
             lambda day, planning: (f"{day} is before planning_date ({planning}): this warehouse can "
                                    "receive nothing ordered now"), warning=True),
    DateRule("inventory.csv", "in_transit_eta", _far_from, _far_message),
)


# ---------------------------------------------------------------- cell parsing

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")  # "1,234.5" from spreadsheet exports
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_INT = 2**53  # whole numbers a float holds exactly; also keeps int64 safe
_BOOL = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False,
         "y": True, "n": False}


def parse_number(text: str, thousands: bool = True) -> float:
    """A finite decimal number; '1,234.5' allowed (unless not ``thousands``: in a file
    separated by ';' a comma is a decimal comma); 'nan', 'inf', '1,5', '$3' are not."""
    if thousands and _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_cell(col: Col, text: str, thousands: bool = True):
    """Convert one non-empty, stripped cell; raise ValueError if it is not valid for ``col``.

    ``thousands``: a comma in a number is a thousands separator (see :func:`parse_number`).
    Text loses one leading ``'``, the formula-safety prefix of the files the tool writes
    (:func:`optimizer.io.safe_text.plain_cell`): a derived or forecast file reads back verbatim."""
    if col.kind == "str":
        return plain_cell(text)
    if col.kind == "date":
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    if col.kind == "bool":
        if text.lower() not in _BOOL:
            raise ValueError(text)
        return _BOOL[text.lower()]
    value = parse_number(text, thousands)
    if col.kind == "int":
        if value != int(value) or abs(value) > _MAX_INT:
            raise ValueError(text)
        value = int(value)
    if not col.in_bounds(value):
        raise ValueError(text)
    return value


def _bad_cell_message(col: Col, text: str, separator: str = ",") -> str:
    if col.cap is not None and col.kind in ("float", "int"):
        try:
            if parse_number(text, separator == ",") > col.cap:
                return (f"must be at most {col.cap:g}, got {text!r}: larger values are a unit or "
                        "typing mistake")
        except ValueError:
            pass
    message = f"must be {col.describe()}, got {text!r}"
    if col.kind in ("float", "int") and text.endswith("%"):
        message += " (write a percentage as a fraction: 5% is 0.05)"
    elif col.kind in ("float", "int") and "," in text and separator != ",":
        message += (f" (the file is separated by {separator!r}, so a comma can't be told from a "
                    "decimal comma: write numbers with a decimal point and no thousands separator)")
    return message


# ---------------------------------------------------------------- one file


@dataclass
class Checked:
    """One file after checking: typed ``frame`` (index = file line numbers) and
    ``ok``, a same-shaped boolean frame, True where a cell is valid (a blank
    cell in a ``blank_ok`` column counts as valid)."""

    frame: pd.DataFrame
    ok: pd.DataFrame


_EMPTY = {"str": "", "float": np.nan, "int": np.nan, "date": None, "bool": False}


def _typed_column(col: Col, values: list, lines: pd.Index, all_ok: bool) -> pd.Series:
    if col.kind == "str":
        return pd.Series(values, index=lines, dtype=str)
    if col.kind == "date":
        return pd.Series(values, index=lines, dtype=object)
    if col.kind == "bool":
        return pd.Series(values, index=lines, dtype=bool)
    dtype = "int64" if col.kind == "int" and all_ok else "float64"
    return pd.Series(values, index=lines, dtype=dtype)


def check_table(table: Table, raw: pd.DataFrame) -> tuple[Checked, list[Problem]]:
    """Check and type one CSV file.

    ``raw`` holds the stripped text cells, lower-case column names, and the file
    line number of each row as its index (``raw.attrs["separator"]``: the file's
    separator, a comma unless a ``sep=`` line said otherwise). Columns not in the
    rules are kept as text after the rule columns.
    """
    problems: list[Problem] = []
    separator = raw.attrs.get("separator", ",")
    extras = [c for c in raw.columns if c not in {col.name for col in table.columns}]
    for col in table.columns:
        if col.name not in raw.columns and not col.optional:
            hint = difflib.get_close_matches(col.name, extras, n=1)
            problems.append(Problem(table.file, None, col.name, "required column is missing"
                                    + (f" (is '{hint[0]}' meant to be it?)" if hint else "")))
    if len(raw) < table.min_rows:
        problems.append(Problem(table.file, None, None, "has no data rows"))

    frame, ok = {}, {}
    for col in table.columns:
        if col.name not in raw.columns:
            continue
        values, good = [], []
        for line, text in raw[col.name].items():
            if text == "":
                values.append(_EMPTY[col.kind])
                good.append(col.blank_ok)
                if not col.blank_ok:
                    problems.append(Problem(table.file, line, col.name,
                                            f"is empty: must be {col.describe()}"))
                continue
            try:
                values.append(parse_cell(col, text, separator == ","))
                good.append(True)
            except ValueError:
                values.append(_EMPTY[col.kind])
                good.append(False)
                problems.append(Problem(table.file, line, col.name, _bad_cell_message(col, text, separator)))
        frame[col.name] = _typed_column(col, values, raw.index, all(good))
        ok[col.name] = pd.Series(good, index=raw.index, dtype=bool)
    for name in extras:
        frame[name] = raw[name].astype(str)
        ok[name] = pd.Series(True, index=raw.index, dtype=bool)

    checked = Checked(pd.DataFrame(frame, index=raw.index), pd.DataFrame(ok, index=raw.index))
    problems += _duplicate_keys(table, checked)
    return checked, problems


def _duplicate_keys(table: Table, checked: Checked) -> list[Problem]:
    """Each key must appear once; a repeat names the line it repeats."""
    if not all(k in checked.frame for k in table.key):
        return []
    usable = checked.ok[list(table.key)].all(axis=1)
    first_line: dict[tuple, int] = {}
    problems = []
    keys = checked.frame.loc[usable, list(table.key)]
    for line, key in zip(keys.index, keys.itertuples(index=False, name=None)):
        if key in first_line:
            what = ", ".join(f"{k} '{v}'" for k, v in zip(table.key, key))
            problems.append(Problem(table.file, line, ", ".join(table.key),
                                    f"duplicate {what}: already on line {first_line[key]}"))
        else:
            first_line[key] = line
    return problems


# ---------------------------------------------------------------- across files


def check_campaign(tables: dict[str, Checked]) -> list[Problem]:
    """Cross-column and cross-file rules over the files that could be read.

    A rule is skipped when a file or column it needs is missing (that is already
    a problem of its own) and for cells that are already reported invalid.
    """
    problems = []
    for ref in REFERENCES:
        problems += _check_reference(ref, tables)
    for rule in ROW_RULES:
        problems += _check_row_rule(rule, tables)
    return problems


def _check_reference(ref: Ref, tables: dict[str, Checked]) -> list[Problem]:
    master = TABLE[ref.master].key[0]
    if ref.file not in tables or ref.master not in tables:
        return []
    child, parent = tables[ref.file], tables[ref.master]
    if ref.column not in child.frame or master not in parent.frame:
        return []
    known = set(parent.frame.loc[parent.ok[master], master])
    values = child.frame.loc[child.ok[ref.column], ref.column]
    return [
        Problem(ref.file, line, ref.column, f"unknown {master} '{value}': not in {ref.master}")
        for line, value in values.items()
        if value not in known
    ]


def _check_row_rule(rule: RowRule, tables: dict[str, Checked]) -> list[Problem]:
    checked = tables.get(rule.file)
    if checked is None or not all(c in checked.frame for c in rule.uses):
        return []
    rows = checked.frame[checked.ok[list(rule.uses)].all(axis=1)]
    broken = rows[rule.broken(rows).fillna(False).astype(bool)]
    return [Problem(rule.file, line, rule.column, rule.message(row)) for line, row in broken.iterrows()]


def check_dates(tables: dict[str, Checked], planning_date: dt.date) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of :data:`DATE_RULES`: each valid date cell against
    ``planning_date``. A cell already in error gets no warning as well."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for rule in sorted(DATE_RULES, key=lambda r: r.warning):  # errors first
        checked = tables.get(rule.file)
        if checked is None or rule.column not in checked.frame:
            continue
        wrong = {(p.file, p.row, p.column) for p in errors}
        days = checked.frame.loc[checked.ok[rule.column], rule.column]
        for line, day in days.items():
            if (not isinstance(day, dt.date) or (rule.file, line, rule.column) in wrong
                    or not rule.broken(day, planning_date)):
                continue
            problem = Problem(rule.file, line, rule.column, rule.message(day, planning_date))
            (warnings if rule.warning else errors).append(problem)
    return errors, warnings
