"""optimizer.io.toml_text: derived campaign.toml files read back exactly as written."""

from __future__ import annotations

import datetime as dt
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.io.toml_text import toml_text


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.one_of(
    st.text(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False), st.dates())))
def test_toml_text_round_trips_any_table(table):
    assert tomllib.loads(toml_text(table)) == table


def test_toml_text_writes_tables_and_arrays_of_tables():
    table = {"name": "a\x7fb", "solver": {"mip_gap": 0.01, "threads": None},
             "fx": {"CNY": 0.14}, "cash_limits": [{"until": dt.date(2026, 9, 1), "limit": 5.0}] * 2}
    assert tomllib.loads(toml_text(table)) == {
        "name": "a\x7fb", "solver": {"mip_gap": 0.01}, "fx": {"CNY": 0.14},
        "cash_limits": [{"until": dt.date(2026, 9, 1), "limit": 5.0}] * 2}
