"""Read a campaign folder (SPEC §1) into a typed :class:`Campaign`.

This module does the reading — bytes to text, text to cells, TOML to a pydantic
config — and leaves the rules to :mod:`optimizer.io.checks`. It copes with what
real spreadsheet exports look like: a UTF-8 BOM, CRLF line endings, spaces around
headers and values, header case, blank lines, quoted thousands separators.

:func:`load_campaign` checks every file it can before raising one
:class:`~optimizer.io.errors.InputError` listing all problems; it prints nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import errno
import io
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from optimizer.io import checks
from optimizer.io.errors import InputError, Problem, limit_per_column, visible
from optimizer.io.options import DAYS_MAX, Budget, IsoDate, MipGap, Threads, TimeLimit
from optimizer.io.recourse import RECOURSE_TABLE, RecourseSettings, recourse_settings
from optimizer.io.toml_text import toml_text

CONFIG_FILE = "campaign.toml"
#: Written by ``forecast`` beside the demand file (how each number was made); the report, the
#: monitor (run-up rates) and the two-stage plan (``resolved_share``) read it.
FORECAST_AUDIT_FILE = "forecast_audit.csv"
FILE_ORDER = [CONFIG_FILE] + [t.file for t in checks.TABLES]


# ---------------------------------------------------------------- campaign.toml


class SolverSettings(BaseModel):
    """The optional ``[solver]`` table of campaign.toml."""

    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)

    mip_gap: MipGap = 0.001
    time_limit_s: TimeLimit = 120.0
    threads: Threads | None = None


class CashLimit(BaseModel):
    """One ``[[cash_limits]]`` entry: cash this plan pays up to ``until`` is at most ``limit``."""

    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)

    until: IsoDate
    limit: float = Field(ge=0, le=checks.LUMP_MONEY_MAX)


def _currency_code(value):
    """A three-letter currency code (ISO 4217 style: ``USD``, ``cny``), in upper case."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        return value.strip().upper()
    raise ValueError(f"must be a three-letter currency code such as USD, EUR or CNY, got {value!r}")


CurrencyCode = Annotated[str, BeforeValidator(_currency_code)]
FxRate = Annotated[float, Field(gt=0, le=1e6)]


def _fx_table(value):
    """campaign.toml ``[fx]``: each currency named once, whatever the case of its code
    (``CNY`` and ``cny`` both given would otherwise let the last one win)."""
    if not isinstance(value, dict):
        return value  # pydantic names the wrong type
    seen: dict[str, str] = {}
    for key in value:
        code = str(key).strip().upper()
        if code in seen:
            raise ValueError(f"'{seen[code]}' and '{key}' both give the rate of {code}: keep one")
        seen[code] = key
    return value


class FrontierSettings(BaseModel):
    """The optional ``[frontier]`` table: when finance's budget sweep stops.

    The sweep goes on past its last budget while one more unit of currency still
    earns more than ``hurdle`` of expected profit, up to ``max_budget_share`` times
    the campaign budget; then it bisects the step where the money stops earning the
    hurdle ``knee_bisections`` times, to find the recommended budget between grid points.
    """

    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)

    hurdle: float = Field(0.0, ge=0, le=100)
    max_budget_share: float = Field(3.0, gt=0, le=100)
    knee_bisections: int = Field(3, ge=0, le=20)


# The rules of Incoterms 2020: a purchase order's delivery terms start with one.
INCOTERMS = ("EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP")
PO_TEXT_MAX = 200  # characters of one [buyer] entry printed on a purchase order


def _po_text(value):
    """Text printed on a purchase order: not blank, at most :data:`PO_TEXT_MAX`
    characters, no control characters but line breaks (an address may take several
    lines). Leading and trailing spaces are dropped."""
    if not isinstance(value, str):
        return value  # pydantic names the wrong type
    text = value.strip()
    if not text:
        raise ValueError("is blank: give the text or leave the key out")
    if len(text) > PO_TEXT_MAX:
        raise ValueError(f"is {len(text)} characters long: at most {PO_TEXT_MAX} fit on a purchase order")
    if bad := re.search(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]", text):
        raise ValueError(f"holds the control character {bad[0]!r}: only line breaks are allowed")
    return text


def _incoterms(value):
    """An Incoterms 2020 rule, optionally with its place: ``FOB``, ``fob Shenzhen`` →
    ``FOB Shenzhen`` (the rule in upper case, the place as written)."""
    text = _po_text(value)
    if not isinstance(text, str):
        return text
    rule, _, place = text.partition(" ")
    if rule.upper() not in INCOTERMS:
        raise ValueError(f"must start with an Incoterms 2020 rule ({', '.join(INCOTERMS)}), "
                         f"e.g. 'FOB Shenzhen', got {text!r}")
    return f"{rule.upper()} {place.strip()}".strip()


PoText = Annotated[str, BeforeValidator(_po_text)]


class BuyerSettings(BaseModel):
    """The optional ``[buyer]`` table: who places the purchase orders, as printed on them.

    Every key is optional text; without ``company`` the purchase orders name the
    campaign as the buyer. ``incoterms`` is the delivery rule of every order
    (default ``FOB``), optionally with its place (``FOB Shenzhen``).
    """

    model_config = ConfigDict(extra="ignore", strict=True)

    company: PoText | None = None
    address: PoText | None = None
    contact: PoText | None = None
    incoterms: Annotated[str, BeforeValidator(_incoterms)] = "FOB"


class CampaignConfig(BaseModel):
    """campaign.toml (SPEC §1); a key no table knows is an error (:func:`unknown_key_problems`).

    Strict types: TOML has its own, so ``budget = "9000"`` or ``budget = true`` is
    a mistake to report, not to coerce. Dates may be TOML dates or ISO strings.
    """

    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False,
                              str_strip_whitespace=True)

    name: str = Field(min_length=1)
    currency: CurrencyCode
    planning_date: IsoDate
    promo_start: IsoDate
    promo_end: IsoDate
    budget: Budget
    buffer_days: int = Field(ge=0)
    stockout_penalty: float = Field(0.0, ge=0, le=checks.UNIT_MONEY_MAX)
    min_fill_rate: float | None = Field(None, ge=0, le=1)
    max_sku_budget_share: float | None = Field(None, gt=0, le=1)
    # Seller economics (SPEC §6).
    leftover_months: float = Field(0.0, ge=0, le=120)
    fx: Annotated[dict[CurrencyCode, FxRate], BeforeValidator(_fx_table)] = Field(default_factory=dict)
    cash_limits: list[CashLimit] = Field(default_factory=list)
    po_cycle_days: int = Field(1, ge=1, le=DAYS_MAX)
    buyer: BuyerSettings = Field(default_factory=BuyerSettings)
    solver: SolverSettings = Field(default_factory=SolverSettings)
    frontier: FrontierSettings = Field(default_factory=FrontierSettings)
    # The two-stage plan (SPEC §8), validated by optimizer.io.recourse (read_config).
    recourse: RecourseSettings | None = None

    @pydantic.field_validator("promo_end")
    @classmethod
    def _end_after_start(cls, end: dt.date, info: pydantic.ValidationInfo) -> dt.date:
        start, planning = info.data.get("promo_start"), info.data.get("planning_date")
        if start is not None and end < start:
            raise ValueError(f"must not be before promo_start ({start}), got {end}")
        if planning is not None and end < planning:
            raise ValueError(f"{end} is before planning_date ({planning}): the promotion is over "
                             "before the orders are placed")
        return end

    @pydantic.field_validator("fx")
    @classmethod
    def _no_rate_for_own_currency(cls, fx: dict[str, float], info: pydantic.ValidationInfo):
        own = info.data.get("currency")
        if own is not None and own in fx and fx[own] != 1:
            raise ValueError(f"{own} = {fx[own]:g}: {own} is the campaign currency, worth 1 by "
                             "definition; remove it from [fx]")
        return fx

    @pydantic.field_validator("cash_limits")
    @classmethod
    def _limits_after_planning(cls, limits: list[CashLimit], info: pydantic.ValidationInfo):
        planning = info.data.get("planning_date")
        for i, limit in enumerate(limits, start=1):
            if planning is not None and limit.until < planning:
                raise ValueError(f"cash_limits[{i}].until {limit.until} is before planning_date "
                                 f"{planning}: no payment of this plan can fall on it")
        return limits

    def rate(self, currency: str) -> float | None:
        """Campaign currency per unit of ``currency`` (1 for blank or the campaign's own)."""
        code = currency.strip().upper()
        if code in ("", self.currency):
            return 1.0
        return self.fx.get(code)


# [forecast] and [[past_promos]] are read by optimizer.forecast.history; [fx] holds
# currency codes of the user's choosing.
FORECAST_KEYS = ("promo", "growth", "ad_uplift", "competition")
PAST_PROMO_KEYS = ("name", "start", "end")


def _known_keys() -> dict[str, set[str]]:
    """Every key campaign.toml may hold, by table ("" = the top level)."""
    return {"": set(CampaignConfig.model_fields) | {"past_promos", "forecast"},
            "solver": set(SolverSettings.model_fields), "frontier": set(FrontierSettings.model_fields),
            "forecast": set(FORECAST_KEYS), "past_promos": set(PAST_PROMO_KEYS),
            "cash_limits": set(CashLimit.model_fields), "buyer": set(BuyerSettings.model_fields)}


def unknown_key_problems(raw: dict) -> list[Problem]:
    """A Problem per key no table of campaign.toml knows, with the nearest known key.

    A mistyped optional key (``min_fil_rate``) would otherwise be ignored and its
    setting silently lost — a hard service target gone, a run that should fail passing.
    """
    known = _known_keys()

    def check(table: dict, where: str, keys: set[str]) -> list[Problem]:
        out = []
        for key in table:
            if key in keys:
                continue
            near = difflib.get_close_matches(key, sorted(keys), n=1, cutoff=0.6)
            hint = f": did you mean '{near[0]}'?" if near else f" (known keys: {', '.join(sorted(keys))})"
            out.append(Problem(CONFIG_FILE, None, f"{where}{key}", f"unknown key{hint}"))
        return out

    problems = check(raw, "", known[""])
    for table in ("solver", "forecast", "frontier", "buyer"):
        if isinstance(raw.get(table), dict):
            problems += check(raw[table], f"{table}.", known[table])
    for table in ("past_promos", "cash_limits"):
        items = raw.get(table)
        if isinstance(items, list):
            for i, item in enumerate(items, start=1):
                if isinstance(item, dict):
                    problems += check(item, f"{table}[{i}].", known[table])
    return problems


def _pydantic_problem(err: dict) -> Problem:
    """One pydantic error as a Problem naming the (dotted) TOML key."""
    key = "".join(f"[{part + 1}]" if isinstance(part, int) else f".{part}"
                  for part in err["loc"] if part != "[key]").lstrip(".") or None  # [key]: a table's key
    if err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "value_error":
        message = err["msg"].removeprefix("Value error, ")
    else:
        message = err["msg"].replace("Input should be", "must be")
        message += f" (value: {err['input']!r})" if "got" in message else f", got {err['input']!r}"
    return Problem(CONFIG_FILE, None, key, message)


def read_config(path: Path) -> tuple[CampaignConfig | None, list[Problem]]:
    """Parse and validate campaign.toml; (None, problems) if anything is wrong."""
    text, problems = _read_text(path, CONFIG_FILE)
    if text is None:
        return None, problems
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = getattr(err, "lineno", None) or (int(found[1]) if found else None)
        if found:
            message = message.replace(found[0], f"(column {found[2]})")
        return None, [Problem(CONFIG_FILE, line, None, f"is not valid TOML: {message}")]
    unknown = unknown_key_problems(raw)
    recourse, found = _recourse_table(raw.pop(RECOURSE_TABLE, None))
    unknown += found
    try:
        config = CampaignConfig.model_validate(raw)
    except pydantic.ValidationError as err:
        return None, unknown + [_pydantic_problem(e) for e in err.errors()]
    if unknown:
        return None, unknown
    return config.model_copy(update={"recourse": recourse}), []


def _recourse_table(table) -> tuple[RecourseSettings | None, list[Problem]]:
    """campaign.toml's ``[recourse]`` (absent: None), with its own key-naming problems."""
    if table is None:
        return None, []
    if not isinstance(table, dict):
        return None, [Problem(CONFIG_FILE, None, RECOURSE_TABLE,
                              f"must be a table ([recourse] with date = ...), got {table!r}")]
    return recourse_settings(table)


# ---------------------------------------------------------------- CSV files


def is_absent(path: Path) -> bool:
    """True when nothing at all is at ``path``: an optional file that is not given.

    A broken symbolic link is there (it is a mistake to report, not a missing
    file): :func:`file_problem` names it.
    """
    return not os.path.lexists(path)


def file_problem(path: Path, file: str) -> Problem | None:
    """Why ``path`` cannot be read as an input file, or None when it is a regular file
    (or a symbolic link to one). Names what is there instead: a folder, a broken link,
    a link loop, a named pipe, a device or socket. Opens nothing, so a FIFO never blocks.
    """
    def problem(text: str) -> Problem:
        return Problem(file, None, None, text)

    try:
        if os.path.islink(path):
            try:
                os.stat(path)
            except FileNotFoundError:
                return problem(f"is a broken symbolic link: its target {os.readlink(path)!r} does not exist")
            except OSError as err:
                if err.errno == errno.ELOOP:
                    return problem("is a symbolic link that loops: following it never reaches a file")
                raise
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return problem("does not exist")
    except PermissionError:
        return problem("cannot be read: permission denied")
    except OSError as err:
        return problem(f"cannot be read: {err.strerror or err}")
    except ValueError as err:  # a name no file can have (a NUL byte)
        return problem(f"cannot be read: {err}")
    if stat.S_ISREG(mode):
        return None
    what = ("a folder" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return problem(f"is {what}, not a file" if what.startswith("a ") else f"is {what}")


# The first bytes of files that are not text, saved or copied under a .csv or .toml name.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (zip)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3\x00", "an SQLite database"),
)


def _utf16_without_bom(head: bytes) -> bool:
    """Text in UTF-16: a NUL beside most characters (every ASCII one), always on the
    same side of the pair, and (nearly) none on the other side."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 2:
        return False
    for text, zeros in ((even, odd), (odd, even)):
        if zeros.count(0) >= 0.6 * len(zeros) and text.count(0) <= 0.05 * len(text):
            return True
    return False


def _not_text(data: bytes, file: str) -> str | None:
    """What ``data`` is when it is not a text file (a workbook, a program, binary
    garbage) or is UTF-16, as a message; None for text."""
    save_as = "save it as CSV UTF-8 ('CSV UTF-8' in Excel)" if file.lower().endswith(".csv") \
        else "save it as UTF-8 text"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"is not a text file: it looks like {what}; {save_as}"
    head = data[:1024]
    # UTF-16 shows by its byte-order mark or, without one, by a NUL byte beside every
    # ASCII character; it would otherwise read as garbled columns.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(head):
        return "is UTF-16 encoded: save it as UTF-8 ('CSV UTF-8' in Excel)"
    if b"\x00" in head:  # no text file holds a NUL byte
        return f"is not a text file: it holds binary data (NUL bytes); {save_as}"
    return None


def _read_text(path: Path, file: str) -> tuple[str | None, list[Problem]]:
    """The file as text (BOM dropped), or None and a Problem if it is not a readable
    regular file (:func:`file_problem`), not text, or not UTF-8."""
    if (problem := file_problem(path, file)) is not None:
        return None, [problem]
    try:
        data = path.read_bytes()
    except PermissionError:
        return None, [Problem(file, None, None, "cannot be read: permission denied")]
    except OSError as err:
        return None, [Problem(file, None, None, f"cannot be read: {err.strerror or err}")]
    if (what := _not_text(data, file)) is not None:
        return None, [Problem(file, None, None, what)]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return None, [Problem(file, line, None,
                              f"is not UTF-8 (byte 0x{data[err.start]:02X} cannot be read): "
                              "save it as UTF-8 ('CSV UTF-8' in Excel)")]


# Excel's separator hint: a first line `sep=,` (or `sep=;`) before the header. Excel
# honours it and hides it, so the header is still row 1 there.
_SEPARATOR_HINT = re.compile(r'"?sep=([,;\t|])"?[ \t]*(?:\r\n|\n|\r|$)')


def _separator(text: str) -> tuple[str, str]:
    """(the text without a `sep=X` first line, the separator X) — or (text, ',')."""
    hint = _SEPARATOR_HINT.match(text)
    return (text[hint.end():], hint[1]) if hint else (text, ",")


def _records(text: str, file: str, separator: str = ",") -> tuple[list[tuple[int, list[str]]], Problem | None]:
    """Each non-blank CSV record as (its first line, stripped cells); or a Problem."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    records, start = [], 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1  # a quoted value may span lines
            cells = [cell.strip() for cell in record]
            if any(cells):
                records.append((line, cells))
    except csv.Error as err:
        return records, Problem(file, start, None, f"is not valid CSV: {err}")
    return records, None


def read_cells(path: Path, file: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a CSV file as stripped text cells.

    Returns a frame of str with lower-case column names and the file line of each
    row as index (header = line 1), or None if the file can't be used at all.
    Blank lines are skipped; a row with more values than the header is reported
    and left out; a short row is padded with empty cells.

    Excel's separator hint, a first line ``sep=,`` (or ``;``, tab, ``|``), is honoured
    and not counted, as Excel shows the file: the header stays line 1. The separator
    is in ``frame.attrs["separator"]`` (a comma inside a number is then no thousands
    separator: :func:`optimizer.io.checks.check_table`).
    """
    text, problems = _read_text(path, file)
    if text is None:
        return None, problems
    text, separator = _separator(text)
    records, broken = _records(text, file, separator)
    if broken:
        return None, [broken]
    if not records:
        return None, [Problem(file, None, None, "is empty: expected a header row")]
    header_line, header = records[0][0], [cell.lower() for cell in records[0][1]]
    if separator == "," and len(header) == 1 and (sep := next((s for s in ";\t|" if s in header[0]), None)):
        return None, [Problem(file, header_line, None,
                              f"looks separated by {sep!r}: the file must be comma-separated")]

    rows, lines = [], []
    for line, cells in records[1:]:
        if len(cells) > len(header) and any(cells[len(header):]):
            problems.append(Problem(file, line, None,
                                    f"has {len(cells)} values but the header has {len(header)} "
                                    "columns (a number like 1,234 must be quoted)"))
            continue
        rows.append((cells + [""] * len(header))[: len(header)])
        lines.append(line)

    columns: dict[str, list[str]] = {}
    for i, name in enumerate(header):
        if not name:
            continue  # an unnamed column (e.g. a trailing comma in the header) is ignored
        if name in columns:
            problems.append(Problem(file, header_line, name, "column appears twice in the header"))
            continue
        columns[name] = [row[i] for row in rows]
    index = pd.Index(lines, name="line", dtype="int64")
    frame = pd.DataFrame({k: pd.Series(v, index=index, dtype=str) for k, v in columns.items()},
                         index=index)
    frame.attrs["separator"] = separator
    return frame, problems


def read_checked_csv(path: Path, file: str, columns: tuple[checks.Col, ...], key: tuple[str, ...],
                     min_rows: int = 0) -> tuple[pd.DataFrame | None, list[Problem]]:
    """A CSV file through the same reader and column rules as the campaign files.

    Returns the typed frame (index: the line numbers) and its problems, at most
    :data:`~optimizer.io.errors.MAX_LISTED` per column; None when the file is
    missing or unreadable.
    """
    if is_absent(path):
        return None, [Problem(file, None, None, "required file is missing")]
    raw, problems = read_cells(path, file)
    if raw is None:
        return None, problems
    checked, found = checks.check_table(checks.Table(file, columns, key=key, min_rows=min_rows), raw)
    problems += found
    return checked.frame, limit_per_column(problems)


def option_problems(campaign: Campaign, *, modes=(), mode_option: str = "--delay",
                    budget: float | None = None) -> list[Problem]:
    """Problems with what-if options against ``campaign``: a mode no lane has, a budget ≤ 0."""
    known = set(campaign.lanes["mode"])
    problems = [Problem("command line", None, mode_option,
                        f"no lane has mode {m!r} (modes: {', '.join(sorted(known))})")
                for m in modes if m not in known]
    if budget is not None and not budget > 0:
        problems.append(Problem("command line", None, "--budget", f"must be > 0, got {budget:g}"))
    return problems


def _missing_file(root: Path, file: str) -> Problem:
    """'required file is missing', with a hint if a near namesake is there."""
    stem = Path(file).stem.lower()
    near = sorted(p.name for p in root.iterdir() if p.stem.lower() == stem)
    hint = f" (found {', '.join(repr(n) for n in near)}: expected exactly '{file}', as CSV)" if near else ""
    return Problem(file, None, None, "required file is missing" + hint)


# ---------------------------------------------------------------- the campaign


@dataclass
class Campaign:
    """A valid campaign folder, typed (see SPEC §1 for each column's meaning).

    Row order is the file's; frames have a fresh RangeIndex and hold the specified
    columns only. Extra CSV columns are kept apart, as text, in ``extra_columns``
    (file → frame with the file's row order), so that no name in them can stand in
    for a column of another file when tables are joined.
    """

    root: Path
    config: CampaignConfig
    skus: pd.DataFrame
    suppliers: pd.DataFrame
    warehouses: pd.DataFrame
    lanes: pd.DataFrame
    demand: pd.DataFrame
    inventory: pd.DataFrame
    fees: pd.DataFrame = field(default_factory=lambda: _NO_FEES.copy())
    # What the plan lives with but the user should know (a warehouse whose cutoff is
    # before the planning date, ...): checks.DATE_RULES marked ``warning``.
    warnings: list[Problem] = field(default_factory=list)
    extra_columns: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def uses_seller_economics(self) -> bool:
        """Whether any SPEC §6 input is set (fees, currencies, storage, bonded, deposits, cash,
        a purchase-order cycle)."""
        cfg, s, w = self.config, self.skus, self.warehouses
        return bool(
            (s["referral_fee_rate"] > 0).any() or (s["fulfilment_fee"] > 0).any() or len(self.fees)
            or (s["cost_currency"] != cfg.currency.upper()).any()
            or (w["storage_cost_per_m3_month"] > 0).any() or w["bonded"].any()
            or cfg.leftover_months > 0 or (self.suppliers["deposit_share"] < 1).any()
            or cfg.cash_limits or cfg.po_cycle_days > 1
        )

    def seller_economics_facts(self) -> list[str]:
        """The SPEC §6 inputs in use, one short phrase each (for ``validate``; ids with their
        control characters escaped, as in messages)."""
        cfg, s, w, f = self.config, self.skus, self.warehouses, self.suppliers
        own = cfg.currency.upper()
        facts = [
            (s["referral_fee_rate"] > 0).sum() and f"referral fees on {(s['referral_fee_rate'] > 0).sum()} SKUs",
            (s["fulfilment_fee"] > 0).sum() and f"fulfilment fees on {(s['fulfilment_fee'] > 0).sum()} SKUs",
            len(self.fees) and f"{len(self.fees)} per-warehouse fees (fees.csv)",
            (s["cost_currency"] != own).sum() and "costs quoted in " + ", ".join(
                f"{code} ({n} SKUs)" for code, n in s.loc[s["cost_currency"] != own, "cost_currency"]
                .value_counts().sort_index().items()),
            (w["storage_cost_per_m3_month"] > 0).sum()
            and f"storage at {(w['storage_cost_per_m3_month'] > 0).sum()} warehouses",
            cfg.leftover_months > 0 and f"leftovers stay {cfg.leftover_months:g} months",
            w["bonded"].sum() and "bonded: " + ", ".join(map(visible, w.loc[w["bonded"], "warehouse"])),
            (f["deposit_share"] < 1).sum() and f"deposits with {(f['deposit_share'] < 1).sum()} suppliers",
            cfg.cash_limits and f"{len(cfg.cash_limits)} cash limits ("
            + ", ".join(f"{c.until}: {c.limit:,.0f}" for c in cfg.cash_limits) + ")",
            cfg.po_cycle_days > 1 and f"purchase orders every {cfg.po_cycle_days} days",
        ]
        return [fact for fact in facts if fact]


def load_campaign(path: str | Path, *, require_demand: bool = True) -> Campaign:
    """Load and validate a campaign folder; raise InputError listing every problem.
    What the plan can live with is kept in ``Campaign.warnings``, not raised.

    ``require_demand=False`` (the ``forecast`` command, which writes demand.csv)
    accepts a folder without demand.csv: the campaign then has no demand rows."""
    root = Path(path)
    if not root.is_dir():
        reason = "does not exist" if not root.exists() else "is not a folder"
        raise InputError([Problem("", None, None, f"campaign folder {reason}")], root)

    problems: list[Problem] = []
    if is_absent(root / CONFIG_FILE):
        config = None
        problems.append(_missing_file(root, CONFIG_FILE))
    else:
        config, found = read_config(root / CONFIG_FILE)
        problems += found

    tables: dict[str, checks.Checked] = {}
    for table in checks.TABLES:
        if is_absent(root / table.file):
            if table.required_file and (require_demand or table.file != "demand.csv"):
                problems.append(_missing_file(root, table.file))
            continue
        raw, found = read_cells(root / table.file, table.file)
        problems += found
        if raw is not None:
            tables[table.file], found = checks.check_table(table, raw)
            problems += found
    problems += checks.check_campaign(tables)
    warnings: list[Problem] = []
    if config is not None and config.recourse is not None and "lanes.csv" in tables:
        problems += config.recourse.check(config.planning_date, config.promo_start,
                                          tables["lanes.csv"].frame["mode"].dropna())
    if config is not None:
        problems += _currency_problems(config, tables.get("skus.csv"))
        found, warnings = checks.check_dates(tables, config.planning_date)
        problems += found

    if problems:
        raise InputError(limit_per_column(sorted(problems, key=_reading_order)), root)
    extra_columns = _split_extra_columns(tables)
    warnings += [Problem(file, None, column, "unknown column: ignored")
                 for file, frame in extra_columns.items() for column in frame.columns]
    campaign = _assemble(root, config, tables)
    campaign.warnings = limit_per_column(sorted(warnings, key=_reading_order))
    campaign.extra_columns = extra_columns
    return campaign


def _split_extra_columns(tables: dict[str, checks.Checked]) -> dict[str, pd.DataFrame]:
    """Take the columns no rule names out of ``tables`` (in place); file → those columns."""
    extras = {}
    for file, checked in tables.items():
        known = {col.name for col in checks.TABLE[file].columns}
        names = [c for c in checked.frame.columns if c not in known]
        if names:
            extras[file] = checked.frame[names].reset_index(drop=True)
            checked.frame.drop(columns=names, inplace=True)
            checked.ok.drop(columns=names, inplace=True)
    return extras


def _currency_problems(config: CampaignConfig, skus: checks.Checked | None) -> list[Problem]:
    """skus.csv ``cost_currency`` cells with no rate in campaign.toml ``[fx]``."""
    if skus is None or "cost_currency" not in skus.frame:
        return []
    return [
        Problem("skus.csv", line, "cost_currency",
                f"no exchange rate for {code!r}: add `{code.upper()} = <{config.currency} per "
                f"{code.upper()}>` under [fx] in campaign.toml")
        for line, code in skus.frame["cost_currency"].items() if config.rate(code) is None
    ]


def _reading_order(problem: Problem) -> tuple[int, int, int]:
    """Sort problems by file, then line, then column as the file lays them out."""
    file_rank = FILE_ORDER.index(problem.file) if problem.file in FILE_ORDER else len(FILE_ORDER)
    names = [c.name for c in checks.TABLE[problem.file].columns] if problem.file in checks.TABLE else []
    first = (problem.column or "").split(",")[0]
    column_rank = names.index(first) if first in names else len(names)
    return file_rank, problem.row or 0, column_rank


def _assemble(root: Path, config: CampaignConfig, tables: dict[str, checks.Checked]) -> Campaign:
    """Final frames from checked tables: defaults for optional files and columns."""
    frames = {file: checked.frame.reset_index(drop=True) for file, checked in tables.items()}

    skus = frames["skus.csv"]
    if "stockout_penalty" not in skus:
        skus.insert(skus.columns.get_loc("return_rate") + 1, "stockout_penalty", np.nan)
    skus["stockout_penalty"] = skus["stockout_penalty"].fillna(config.stockout_penalty).astype(float)
    _seller_economics_defaults(config, skus)

    suppliers = frames.get("suppliers.csv")
    if suppliers is None:  # no file: every supplier named in skus.csv, no minimum, no cap
        names = pd.unique(skus["supplier"])
        suppliers = pd.DataFrame({
            "supplier": pd.Series(names, dtype=str),
            "min_order_value": np.zeros(len(names)),
            "capacity_units": np.full(len(names), np.nan),
        })
    suppliers["deposit_share"] = _optional(suppliers, "deposit_share", 1.0)
    warehouses = frames["warehouses.csv"]
    warehouses["storage_cost_per_m3_month"] = _optional(warehouses, "storage_cost_per_m3_month", 0.0)
    warehouses["bonded"] = _optional(warehouses, "bonded", False).astype(bool)

    fees = frames.get("fees.csv", _NO_FEES).copy()

    inventory = frames.get("inventory.csv")
    if inventory is None:
        inventory = pd.DataFrame({
            "sku": pd.Series([], dtype=str), "warehouse": pd.Series([], dtype=str),
            "on_hand": pd.Series([], dtype="int64"), "in_transit": pd.Series([], dtype="int64"),
            "in_transit_eta": pd.Series([], dtype=object),
        })

    demand = frames.get("demand.csv", _NO_DEMAND).copy()
    shape = demand["distribution"] if "distribution" in demand else pd.Series("", index=demand.index)
    shape = shape.fillna("").astype(str).str.strip().str.lower()
    demand["distribution"] = shape.where(shape != "", "normal")  # SPEC §7: blank = normal
    return Campaign(root=root, config=config, skus=skus, suppliers=suppliers,
                    warehouses=warehouses, lanes=frames["lanes.csv"], demand=demand,
                    inventory=inventory, fees=fees)


def _optional(frame: pd.DataFrame, column: str, default):
    """An optional column with blanks (and absence) read as ``default``."""
    if column not in frame:
        return pd.Series(default, index=frame.index)
    return frame[column].fillna(default).astype(type(default))


def _seller_economics_defaults(config: CampaignConfig, skus: pd.DataFrame) -> None:
    """Fill skus.csv's optional SPEC §6 columns and convert ``unit_cost`` to the campaign
    currency: ``unit_cost = quoted_unit_cost · fx[cost_currency]``, before anything else
    reads it. ``quoted_unit_cost`` and ``cost_currency`` stay for purchase orders."""
    for column in ("referral_fee_rate", "fulfilment_fee"):
        skus[column] = _optional(skus, column, 0.0)
    currency = skus["cost_currency"] if "cost_currency" in skus else pd.Series("", index=skus.index)
    currency = currency.fillna("").astype(str).str.strip().str.upper()
    skus["cost_currency"] = currency.where(currency != "", config.currency.upper())
    skus["quoted_unit_cost"] = skus["unit_cost"].astype(float)
    rates = skus["cost_currency"].map(config.rate).astype(float)
    skus["unit_cost"] = skus["quoted_unit_cost"] * rates


_NO_FEES = pd.DataFrame({"sku": pd.Series([], dtype=str), "warehouse": pd.Series([], dtype=str),
                        "fulfilment_fee": pd.Series([], dtype=float)})
_NO_DEMAND = pd.DataFrame({"sku": pd.Series([], dtype=str), "warehouse": pd.Series([], dtype=str),
                           "mean": pd.Series([], dtype=float), "sd": pd.Series([], dtype=float)})


# ------------------------------------------------------------ writing folders
def config_text(config: CampaignConfig, **changes) -> str:
    """campaign.toml text for ``config`` with ``changes`` (key → value; None drops a key).

    Used to derive campaign folders (a top-up, a part of a large catalogue) that
    the ordinary loader then reads and checks like any other. ``cash_limits`` is
    a list of :class:`CashLimit` (or their tables); ``fx`` a mapping of currency to rate.
    An empty table or list is left out, as a campaign folder would.  A derived folder
    plans one stage: ``[recourse]`` is left out unless ``changes`` holds it.
    """
    table = config.model_dump(exclude={"recourse"}) | changes
    table["cash_limits"] = [c.model_dump() if isinstance(c, CashLimit) else dict(c)
                            for c in table.get("cash_limits") or []]
    return toml_text({k: v for k, v in table.items() if v is not None and (v or not isinstance(v, dict | list))})


def skus_csv(skus: pd.DataFrame) -> str:
    """skus.csv text of (a subset of) a loaded campaign's SKU table: costs as quoted
    in ``cost_currency``, so the derived folder converts them exactly once."""
    out = skus.copy()
    if "quoted_unit_cost" in out:
        out["unit_cost"] = out.pop("quoted_unit_cost")
    return frame_csv(out)


def frame_csv(df: pd.DataFrame) -> str:
    """A table as the CSV text of a campaign file (no index, empty for missing)."""
    return df.to_csv(index=False, na_rep="", lineterminator="\n")
