"""The purchase-order workbook: one sheet per supplier plus "Shipping plan".

Sheet names are sanitised to Excel's rules (≤ 31 characters, no ``[]:*?/\\``,
unique regardless of case). SKU and supplier names come from suppliers' exports:
text that a spreadsheet would run as a formula is stored as a text cell, shown as
written (:mod:`optimizer.io.safe_text` explains the risk).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from optimizer.evaluate.plan import PlanEvaluation
from optimizer.io.safe_text import sheet_names
from optimizer.prep.instance import Instance

WORKBOOK_NAME = "purchase_orders.xlsx"
SHIPPING_SHEET = "Shipping plan"


def write_purchase_orders(inst: Instance, ev: PlanEvaluation, out_dir: str | Path,
                          name: str = WORKBOOK_NAME) -> Path:
    """Write ``out_dir/name`` (never over an existing file) and return its path."""
    from optimizer.report.tables import purchase_orders, shipping_plan

    path = Path(out_dir) / name
    if path.exists():
        raise FileExistsError(f"{path} already exists; a run never overwrites another")
    po = purchase_orders(inst, ev)
    suppliers = list(dict.fromkeys(po["supplier"]))
    names = sheet_names(suppliers, reserved=("History", SHIPPING_SHEET))
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl", date_format="YYYY-MM-DD",
                            datetime_format="YYYY-MM-DD") as xl:
            if not suppliers:
                pd.DataFrame({"note": ["the plan orders nothing"]}).to_excel(
                    xl, sheet_name="Purchase orders", index=False)
            for supplier, sheet in zip(suppliers, names):
                rows = po[po["supplier"] == supplier].drop(columns="supplier")
                _write(xl, sheet, rows)
            _write(xl, SHIPPING_SHEET, shipping_plan(inst, ev))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write(xl: pd.ExcelWriter, sheet: str, df: pd.DataFrame) -> None:
    df.to_excel(xl, sheet_name=sheet, index=False)
    ws = xl.sheets[sheet]
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # text beginning with "=": keep it text, never a formula
                cell.data_type = "s"
    for col in ws.columns:  # a readable width, capped
        width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
        ws.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 50)
    ws.freeze_panes = "A2"
