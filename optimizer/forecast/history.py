"""Sales history, past promotions, campaign factors and analyst overrides: the inputs
of ``python -m optimizer forecast`` (README "Demand forecasting").

Files in the campaign folder (all optional except ``sales_history.csv``):

* ``sales_history.csv`` — one row per day × sku × location: ``date``, ``sku``,
  ``warehouse`` *or* ``market`` (a row may leave ``warehouse`` blank and give
  ``market``), ``units`` (>= 0, gross units ordered that day); optional ``price``
  (> 0), ``promo`` (0/1: the SKU was on a deal that day), ``stockout`` (0/1) and
  ``on_hand`` (>= 0, stock at the end of the day).  A day with ``stockout = 1`` or
  ``on_hand = 0`` is *censored*: its sales are not its demand and it is left out of
  every fit.  An export with neither column has its stockout spells inferred from
  zero-sales runs that are improbable for the series' own rate
  (:mod:`optimizer.forecast.censoring`).  A missing day between a series' first row and the end of the file is
  a day with zero sales (not censored).  SKUs not in skus.csv are ignored (noted).  The
  rows of known SKUs must span at least a week (``MIN_HISTORY_DAYS``: the baseline works
  in weekly rates).
* ``campaign.toml`` — ``[[past_promos]]`` tables (``name``, ``start``, ``end``):
  past promotion windows; occurrences of the same event share a name (a year in the
  name is ignored: "Black Friday 2025" is a "Black Friday").  Each must be over before
  ``planning_date`` and start by the last day of the sales history; ``promo_start`` must
  be after ``planning_date`` (the forecast's lead time is at least a day).  An optional
  ``[forecast]`` table: ``promo`` (which past promo this campaign repeats; default:
  the past promo whose name appears in the campaign name), and campaign-wide
  ``growth``, ``ad_uplift``, ``competition`` (default 1).
* ``factors.csv`` — ``scope`` (``category`` or ``sku``), ``key``, ``growth``,
  ``ad_uplift``, ``competition`` (each > 0; blank = inherit).  A SKU row beats its
  category's row, which beats the campaign-wide value.
* ``demand_overrides.csv`` — ``sku``, ``warehouse``, ``mean`` (>= 0), ``sd`` (>= 0,
  blank = keep the forecast sd), optional ``note``: applied last, marked in the audit.

Problems are reported like every other input file (:class:`~optimizer.io.errors.Problem`
naming file, line and column; one :class:`~optimizer.io.errors.InputError`, exit code 2).
``sales_history.csv`` is checked column-wise (vectorised): it can hold ~10^6 rows.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.io import checks
from optimizer.io.campaign import FORECAST_KEYS, Campaign, _read_text, is_absent, read_cells
from optimizer.io.checks import Col, Table
from optimizer.io.errors import InputError, Problem, limit_per_column

SALES_FILE = "sales_history.csv"
FACTORS_FILE = "factors.csv"
OVERRIDES_FILE = "demand_overrides.csv"
CONFIG_FILE = "campaign.toml"
FACTOR_NAMES = tuple(k for k in FORECAST_KEYS if k != "promo")  # growth, ad_uplift, competition
MIN_HISTORY_DAYS = 7   # the baseline works in weekly rates: one whole week of sales at least

SALES_COLUMNS = (
    Col("date", "date"), Col("sku", "str"),
    Col("warehouse", "str", optional=True, blank_ok=True),
    Col("market", "str", optional=True, blank_ok=True),
    Col("units", "float", ge=0, cap=checks.DAILY_UNITS_MAX),
    Col("price", "float", gt=0, optional=True, blank_ok=True),
    Col("promo", "int", ge=0, le=1, optional=True, blank_ok=True),
    Col("stockout", "int", ge=0, le=1, optional=True, blank_ok=True),
    Col("on_hand", "float", ge=0, optional=True, blank_ok=True),
)

FACTORS_TABLE = Table(FACTORS_FILE, (
    Col("scope", "str"), Col("key", "str"),
    *(Col(name, "float", gt=0, optional=True, blank_ok=True) for name in FACTOR_NAMES),
), key=("scope", "key"), required_file=False)

OVERRIDES_TABLE = Table(OVERRIDES_FILE, (
    Col("sku", "str"), Col("warehouse", "str"),
    Col("mean", "float", ge=0), Col("sd", "float", ge=0, blank_ok=True),
    Col("note", "str", optional=True, blank_ok=True),
), key=("sku", "warehouse"), required_file=False)


@dataclass(frozen=True)
class PastPromo:
    name: str   # as written, e.g. "Black Friday 2025"
    kind: str   # normalised event name, e.g. "black friday"
    start: dt.date
    end: dt.date
    key: str = field(default="", compare=False)   # its campaign.toml table, e.g. "past_promos[2]"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass
class History:
    """Validated forecasting inputs of one campaign folder.

    ``sales``: date (datetime64), sku, location, level ('warehouse' or 'market'),
    units, promo (bool), censored (bool); sorted by location, sku, date.
    """

    sales: pd.DataFrame
    promos: list[PastPromo]
    promo_kind: str | None          # the past event this campaign repeats, if named
    campaign_factors: dict[str, float]
    factors: pd.DataFrame            # scope, key, growth, ad_uplift, competition (NaN = inherit)
    overrides: pd.DataFrame          # sku, warehouse, mean, sd, note
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """sales_history.csv has a ``stockout`` or ``on_hand`` column: its flags say which
        days are censored.  Without one the forecast infers stockout spells from
        improbable zero runs (:mod:`optimizer.forecast.censoring`).  Carried on
        ``sales.attrs``, which the daily panel reads too."""
        return bool(self.sales.attrs.get("flagged", True))


def promo_kind(name: str) -> str:
    """'Black Friday 2025' -> 'black friday' (years and extra spaces dropped)."""
    return re.sub(r"\s+", " ", re.sub(r"\b(19|20)\d{2}\b", " ", name)).strip().lower()


# ---------------------------------------------------------------- campaign.toml


def read_forecast_config(root: Path, campaign_name: str
                         ) -> tuple[list[PastPromo], str | None, dict[str, float], list[Problem]]:
    text, problems = _read_text(root / CONFIG_FILE, CONFIG_FILE)
    if text is None:
        return [], None, {}, problems
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return [], None, {}, []  # already reported by load_campaign
    promos: list[PastPromo] = []
    items = raw.get("past_promos", [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        problems.append(Problem(CONFIG_FILE, None, "past_promos",
                                "must be an array of tables: [[past_promos]] with name, start, end"))
        items = []
    for i, item in enumerate(items, start=1):
        where = f"past_promos[{i}]"
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(CONFIG_FILE, None, f"{where}.name", "must be a non-empty string"))
        dates = {}
        for key in ("start", "end"):
            value = item.get(key)
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                dates[key] = value
            elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                try:
                    dates[key] = dt.date.fromisoformat(value.strip())
                except ValueError:
                    problems.append(Problem(CONFIG_FILE, None, f"{where}.{key}",
                                            f"must be a date YYYY-MM-DD, got {value!r}"))
            else:
                problems.append(Problem(CONFIG_FILE, None, f"{where}.{key}",
                                        "required key is missing" if value is None
                                        else f"must be a date YYYY-MM-DD, got {value!r}"))
        if len(dates) == 2 and dates["end"] < dates["start"]:
            problems.append(Problem(CONFIG_FILE, None, f"{where}.end",
                                    f"must not be before start ({dates['start']}), got {dates['end']}"))
        elif len(dates) == 2 and isinstance(name, str) and name.strip():
            promos.append(PastPromo(name.strip(), promo_kind(name), dates["start"], dates["end"], where))

    fc = raw.get("forecast", {})
    factors: dict[str, float] = {}
    kind = None
    if not isinstance(fc, dict):
        problems.append(Problem(CONFIG_FILE, None, "forecast", "must be a table: [forecast]"))
        fc = {}
    for name in FACTOR_NAMES:
        value = fc.get(name, 1.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
                or not np.isfinite(value):
            problems.append(Problem(CONFIG_FILE, None, f"forecast.{name}",
                                    f"must be a number > 0, got {value!r}"))
        else:
            factors[name] = float(value)
    kinds = {p.kind for p in promos}
    if "promo" in fc:
        if not isinstance(fc["promo"], str) or not fc["promo"].strip():
            problems.append(Problem(CONFIG_FILE, None, "forecast.promo", "must be a non-empty string"))
        else:
            kind = promo_kind(fc["promo"])  # may have no past occurrence: category-wide lift
    else:
        named = promo_kind(campaign_name)
        matches = sorted((k for k in kinds if k and k in named), key=len, reverse=True)
        kind = matches[0] if matches else None
    return sorted(promos, key=lambda p: p.start), kind, factors, problems


# ---------------------------------------------------------------- sales_history.csv


def _parse_column(col: Col, text: pd.Series, file: str) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """Vectorised :func:`checks.parse_cell`: (values, ok mask, problems)."""
    blank = text == ""
    if col.kind == "str":
        values, good = text, ~blank
    elif col.kind == "date":
        shaped = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        values = pd.to_datetime(text.where(shaped), format="%Y-%m-%d", errors="coerce")
        good = values.notna()
    else:
        thousands = text.str.fullmatch(checks._THOUSANDS.pattern)
        clean = text.where(~thousands, text.str.replace(",", "", regex=False))
        number = clean.str.fullmatch(checks._NUMBER.pattern)
        values = pd.to_numeric(clean.where(number), errors="coerce").astype(float)
        good = values.notna() & np.isfinite(values)
        if col.kind == "int":
            good &= values == np.round(values)
        lo_ok = pd.Series(True, index=text.index)
        for op, bound in (("ge", col.ge), ("gt", col.gt), ("le", col.le), ("lt", col.lt), ("le", col.cap)):
            if bound is not None:
                lo_ok &= getattr(values, op)(bound)
        good &= lo_ok
    problems = []
    bad = ~good & ~blank
    for line, cell in text[bad].items():
        problems.append(Problem(file, int(line), col.name, checks._bad_cell_message(col, cell)))
    if not col.blank_ok:
        for line in text.index[blank]:
            problems.append(Problem(file, int(line), col.name, f"is empty: must be {col.describe()}"))
    ok = good | (blank & col.blank_ok)
    return values, ok, limit_per_column(sorted(problems, key=lambda p: p.row))


def read_sales(root: Path, campaign: Campaign) -> tuple[pd.DataFrame | None, list[Problem], list[str]]:
    file = SALES_FILE
    path = root / file
    if is_absent(path):
        return None, [Problem(file, None, None,
                              "required file is missing: the forecast needs daily sales history "
                              "(date, sku, warehouse or market, units)")], []
    raw, problems = read_cells(path, file)
    if raw is None:
        return None, problems, []
    notes: list[str] = []
    names = {c.name for c in SALES_COLUMNS}
    for col in SALES_COLUMNS:
        if col.name not in raw.columns and not col.optional:
            problems.append(Problem(file, None, col.name, "required column is missing"))
    if "warehouse" not in raw.columns and "market" not in raw.columns:
        problems.append(Problem(file, None, "warehouse",
                                "required column is missing: give 'warehouse' (or 'market')"))
    if len(raw) == 0:
        problems.append(Problem(file, None, None, "has no data rows"))
    if problems:
        return None, problems, notes

    values, ok = {}, {}
    for col in SALES_COLUMNS:
        if col.name in raw.columns:
            values[col.name], ok[col.name], found = _parse_column(col, raw[col.name], file)
            problems += found
    del names

    # location: warehouse if given, else market
    wh = raw["warehouse"] if "warehouse" in raw.columns else pd.Series("", index=raw.index)
    mk = raw["market"] if "market" in raw.columns else pd.Series("", index=raw.index)
    level = np.where(wh != "", "warehouse", np.where(mk != "", "market", ""))
    none = level == ""
    if none.any():
        problems += limit_per_column([Problem(file, int(line), "warehouse",
                                      "is empty: give a warehouse (or a market)")
                              for line in raw.index[none]])
    known_wh = set(campaign.warehouses["warehouse"])
    known_mk = set(campaign.warehouses["market"])
    bad_wh = (level == "warehouse") & ~wh.isin(known_wh)
    problems += limit_per_column([Problem(file, int(line), "warehouse",
                                  f"unknown warehouse '{v}': not in warehouses.csv")
                          for line, v in wh[bad_wh].items()])
    bad_mk = (level == "market") & ~mk.isin(known_mk)
    problems += limit_per_column([Problem(file, int(line), "market",
                                  f"unknown market '{v}': no warehouse in warehouses.csv has it")
                          for line, v in mk[bad_mk].items()])
    last_day = pd.Timestamp(campaign.config.planning_date)
    if "date" in values:
        late = ok["date"] & (values["date"] >= last_day)
        problems += limit_per_column([Problem(file, int(line), "date",
                                      f"{d.date()} is not before planning_date ({last_day.date()}): "
                                      "history must be in the past")
                              for line, d in values["date"][late].items()])

    location = pd.Series(np.where(level == "warehouse", wh, mk), index=raw.index)
    frame = pd.DataFrame({"date": values["date"], "sku": raw["sku"], "location": location,
                          "level": level}, index=raw.index)
    usable = ok["date"] & (level != "")
    dup = frame[usable].duplicated(["date", "sku", "location"], keep=False)
    if dup.any():
        d = frame[usable][dup].reset_index()
        first = d.groupby(["date", "sku", "location"])["line"].transform("min")
        rows = d[d["line"] != first]
        problems += limit_per_column([Problem(file, int(r.line), "date, sku, warehouse",
                                      f"duplicate day {r.date.date()} for sku '{r.sku}' at "
                                      f"'{r.location}': already on line {int(f)}")
                              for r, f in zip(rows.itertuples(), first[rows.index])])
    mixed = frame[level != ""].groupby("sku")["level"].nunique()
    for sku in mixed[mixed > 1].index:
        problems.append(Problem(file, None, "warehouse",
                                f"sku '{sku}' has rows by warehouse and rows by market: use one level per SKU"))
    if problems:
        return None, problems, notes

    known_sku = frame["sku"].isin(set(campaign.skus["sku"]))
    if (~known_sku).any():
        unknown = sorted(set(frame.loc[~known_sku, "sku"]))
        notes.append(f"{SALES_FILE}: {len(unknown)} SKU(s) not in skus.csv ignored "
                     f"({', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''})")
    problems = _span_problems(frame.loc[known_sku, "date"], frame.loc[~known_sku, "sku"])
    if problems:
        return None, problems, notes
    censored = pd.Series(False, index=raw.index)
    if "stockout" in values:
        censored |= values["stockout"].fillna(0) == 1
    if "on_hand" in values:
        censored |= values["on_hand"] == 0
    promo = values["promo"].fillna(0) == 1 if "promo" in values else pd.Series(False, index=raw.index)
    frame["units"] = values["units"]
    frame["promo"] = promo
    frame["censored"] = censored
    frame = frame[known_sku].sort_values(["location", "sku", "date"]).reset_index(drop=True)
    frame.attrs["flagged"] = "stockout" in values or "on_hand" in values
    return frame, [], notes


def _span_problems(dates: pd.Series, unknown: pd.Series) -> list[Problem]:
    """The rows of known SKUs (their ``dates``, indexed by file line) must span at least
    MIN_HISTORY_DAYS days: a Problem naming the ``date`` column (and the line, when there
    is one row) if they do not, or the ``sku`` column if no row has a SKU of skus.csv."""
    if dates.empty:
        names = sorted(set(unknown))
        return [Problem(SALES_FILE, None, "sku",
                        f"no row has a SKU of skus.csv ({', '.join(names[:5])}"
                        f"{' ...' if len(names) > 5 else ''}): nothing to forecast")]
    first, last = dates.min(), dates.max()
    span = (last - first).days + 1
    if span >= MIN_HISTORY_DAYS:
        return []
    line = int(dates.index[0]) if len(dates) == 1 else None
    return [Problem(SALES_FILE, line, "date",
                    f"the sales cover {span} day(s) ({first.date()} .. {last.date()}): the forecast "
                    f"needs at least {MIN_HISTORY_DAYS} days (one whole week) of sales history")]


def promo_date_problems(promos: list[PastPromo], planning_date: dt.date,
                        sales: pd.DataFrame | None) -> list[Problem]:
    """Past promos must be over before ``planning_date`` and start by the last day of the
    sales history (one that starts later has no day of data): a Problem naming the
    promo's campaign.toml key for each that is not."""
    last = sales["date"].max().date() if sales is not None and len(sales) else None
    problems = []
    for p in promos:
        label = f"'{p.name}' ({p.start} .. {p.end})"
        if p.start >= planning_date or p.end >= planning_date:
            key = "start" if p.start >= planning_date else "end"
            problems.append(Problem(CONFIG_FILE, None, f"{p.key}.{key}",
                                    f"{label} is not over before planning_date ({planning_date}): "
                                    "a past promo must have ended before the campaign is planned"))
        elif last is not None and p.start > last:
            problems.append(Problem(CONFIG_FILE, None, f"{p.key}.start",
                                    f"{label} starts after the last day of {SALES_FILE} ({last}): "
                                    "the history has no day of it; extend the history or remove the promo"))
    return problems


def lead_problems(campaign: Campaign) -> list[Problem]:
    """The forecast is made on planning_date for a promo after it: promo_start must be
    later than planning_date (the lead time its calibration re-uses is at least a day)."""
    cfg = campaign.config
    if cfg.promo_start > cfg.planning_date:
        return []
    return [Problem(CONFIG_FILE, None, "promo_start",
                    f"{cfg.promo_start} is not after planning_date ({cfg.planning_date}): the forecast "
                    "is made before the promo from the sales up to planning_date")]


# ---------------------------------------------------------------- small files


def _read_small(root: Path, table: Table) -> tuple[pd.DataFrame | None, list[Problem]]:
    if is_absent(root / table.file):
        return None, []
    raw, problems = read_cells(root / table.file, table.file)
    if raw is None:
        return None, problems
    checked, found = checks.check_table(table, raw)
    return checked.frame, problems + found


def read_factors(root: Path, campaign: Campaign) -> tuple[pd.DataFrame, list[Problem]]:
    frame, problems = _read_small(root, FACTORS_TABLE)
    empty = pd.DataFrame({"scope": pd.Series([], dtype=str), "key": pd.Series([], dtype=str),
                          **{n: pd.Series([], dtype=float) for n in FACTOR_NAMES}})
    if frame is None:
        return empty, problems
    skus = set(campaign.skus["sku"])
    cats = set(campaign.skus["category"]) if "category" in campaign.skus else set()
    for line, r in frame.iterrows():
        scope = r["scope"].lower()
        if scope not in ("category", "sku"):
            problems.append(Problem(FACTORS_FILE, int(line), "scope",
                                    f"must be 'category' or 'sku', got {r['scope']!r}"))
        elif scope == "sku" and r["key"] not in skus:
            problems.append(Problem(FACTORS_FILE, int(line), "key", f"unknown sku '{r['key']}': not in skus.csv"))
        elif scope == "category" and r["key"] not in cats:
            problems.append(Problem(FACTORS_FILE, int(line), "key",
                                    f"unknown category '{r['key']}': no SKU in skus.csv has it"))
    if problems:
        return empty, problems
    frame["scope"] = frame["scope"].str.lower()
    for n in FACTOR_NAMES:
        if n not in frame:
            frame[n] = np.nan
    return frame.reset_index(drop=True), problems


def read_overrides(root: Path, campaign: Campaign) -> tuple[pd.DataFrame, list[Problem]]:
    frame, problems = _read_small(root, OVERRIDES_TABLE)
    if frame is None or problems:
        return pd.DataFrame(columns=["sku", "warehouse", "mean", "sd", "note"]), problems
    skus, whs = set(campaign.skus["sku"]), set(campaign.warehouses["warehouse"])
    for line, r in frame.iterrows():
        if r["sku"] not in skus:
            problems.append(Problem(OVERRIDES_FILE, int(line), "sku", f"unknown sku '{r['sku']}': not in skus.csv"))
        if r["warehouse"] not in whs:
            problems.append(Problem(OVERRIDES_FILE, int(line), "warehouse",
                                    f"unknown warehouse '{r['warehouse']}': not in warehouses.csv"))
    if "note" not in frame:
        frame["note"] = ""
    return frame.reset_index(drop=True), problems


def load_history(campaign: Campaign) -> History:
    """Read and check every forecasting input of the campaign folder (raises InputError)."""
    root = campaign.root
    promos, kind, cfactors, problems = read_forecast_config(root, campaign.config.name)
    sales, found, notes = read_sales(root, campaign)
    problems += found + promo_date_problems(promos, campaign.config.planning_date, sales)
    problems += lead_problems(campaign)
    factors, found = read_factors(root, campaign)
    problems += found
    overrides, found = read_overrides(root, campaign)
    problems += found
    if problems:
        order = [CONFIG_FILE, SALES_FILE, FACTORS_FILE, OVERRIDES_FILE]
        problems.sort(key=lambda p: (order.index(p.file) if p.file in order else 9, p.row or 0))
        raise InputError(problems, root)
    return History(sales=sales, promos=promos, promo_kind=kind, campaign_factors=cfactors,
                   factors=factors, overrides=overrides, notes=notes)
