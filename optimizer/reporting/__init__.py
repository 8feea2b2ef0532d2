"""Reporting helpers behind ``python -m optimizer report`` (SPEC §3, §4).

* :mod:`.safe_text` — untrusted names (from suppliers' exports) made safe for
  spreadsheets and CSV files.
* :mod:`.workbook`  — the purchase-order workbook (.xlsx), one sheet per supplier.
* :mod:`.history`   — ``reports/history.sqlite``: one row per report run.
* :mod:`.runner`    — executes the campaign notebook with papermill and renders HTML.

The tables and figures themselves live in :mod:`optimizer.report`.
"""
