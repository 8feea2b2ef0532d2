"""The limits every number a user gives obeys, in campaign.toml and on the command line alike.

Each limit is one annotated type: :class:`~optimizer.io.campaign.CampaignConfig` and
its tables declare their fields with it, and the command line parses its options
with :func:`argparse_type` over the same type, so ``--budget`` and ``budget =``
accept and refuse the same values (finite, in range), with the same message.

>>> argparse_type(Budget, "--budget")("1e300")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be ≤ 10,000,000,000 (a sanity cap), got 1e+300
>>> argparse_type(Budget, "--budget")("800000")
800000.0
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated

import pydantic
from pydantic import BeforeValidator, Field, TypeAdapter

LUMP_MONEY_MAX = 1e10     # per shipment, per order (minimum order value), a budget
DAYS_MAX = 3650           # production and transit days, delays, lead days
TIME_LIMIT_MAX_S = 7 * 86_400.0   # a solver time limit: a week
THREADS_MAX = 64          # HiGHS threads (its parallel parts use a handful; thousands crash it)
STEPS_MAX = 200           # budgets in one frontier sweep
PARTS_MAX = 10_000        # supplier groups of a partitioned plan
WORKERS_MAX = 256         # worker processes of a local Dask cluster
ROWS_SHOWN_MAX = 100_000  # rows of the run index to print

Budget = Annotated[float, Field(gt=0, le=LUMP_MONEY_MAX, allow_inf_nan=False)]
TopUpBudget = Annotated[float, Field(ge=0, le=LUMP_MONEY_MAX, allow_inf_nan=False)]
TimeLimit = Annotated[float, Field(gt=0, le=TIME_LIMIT_MAX_S, allow_inf_nan=False)]
MipGap = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Threads = Annotated[int, Field(ge=1, le=THREADS_MAX)]
Steps = Annotated[int, Field(ge=1, le=STEPS_MAX)]
Parts = Annotated[int, Field(ge=1, le=PARTS_MAX)]
Workers = Annotated[int, Field(ge=1, le=WORKERS_MAX)]
LeadDays = Annotated[int, Field(ge=1, le=DAYS_MAX)]
DelayDays = Annotated[int, Field(ge=-DAYS_MAX, le=DAYS_MAX)]
RowsShown = Annotated[int, Field(ge=1, le=ROWS_SHOWN_MAX)]

_CAPS = {LUMP_MONEY_MAX, TIME_LIMIT_MAX_S, THREADS_MAX, STEPS_MAX, PARTS_MAX, WORKERS_MAX, DAYS_MAX,
         ROWS_SHOWN_MAX}


def _iso_date(value):
    """Accept a TOML date (or an ISO string); reject datetimes and other formats."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"must be a date YYYY-MM-DD without a time, got {value.isoformat()}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


def message(err: dict) -> str:
    """A pydantic error on one value in the project's words: 'must be > 0, got -1'."""
    ctx = err.get("ctx") or {}
    value = err.get("input")
    shown = f"{value:g}" if isinstance(value, float) else repr(value)
    for key, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
        if key in ctx:
            bound = ctx[key]
            cap = " (a sanity cap)" if sign == "≤" and bound in _CAPS and bound > 1 else ""
            bound_text = f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"
            return f"must be {sign} {bound_text}{cap}, got {shown}"
    if err.get("type") == "finite_number":
        return f"must be a finite number, got {shown}"
    return f"{err['msg'].replace('Input should be', 'must be')}, got {shown}"


def checked(kind, value, what: str = "value"):
    """``value`` validated as ``kind``; ValueError with :func:`message` if it is not."""
    try:
        return TypeAdapter(kind).validate_python(value)
    except pydantic.ValidationError as err:
        raise ValueError(message(err.errors()[0])) from None


def _number(text: str, integer: bool):
    """Parse option text as a number: an int (a whole number) or a float (finite or not:
    the range check then says what is wrong)."""
    text = text.strip()
    if integer:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"must be a whole number, got {text!r}") from None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"must be a number, got {text!r}") from None
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"must be a finite number, got {text!r}")
    return value


def argparse_type(kind, option: str):
    """An argparse ``type=`` for ``kind``: the parsed value, or an ArgumentTypeError
    (argparse prints it with the option's name and exits 2)."""
    integer = TypeAdapter(kind).json_schema().get("type") == "integer"

    def parse(text: str):
        try:
            return checked(kind, _number(text, integer))
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = option.lstrip("-").replace("-", "_")
    return parse


def path_option(text: str) -> Path:
    """An argparse ``type=`` for a file or folder argument: a path that names something.

    An empty (or blank) string would silently mean the working folder, and a NUL byte no
    operating system accepts: both are refused with an ArgumentTypeError (exit 2).

    >>> path_option("runs/x")
    PosixPath('runs/x')
    >>> path_option(" ")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must name a file or folder, got ' '
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a file or folder, got {text!r}")
    if "\x00" in text:
        raise argparse.ArgumentTypeError(f"a path cannot hold a NUL character, got {text!r}")
    return Path(text)
