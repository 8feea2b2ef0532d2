"""The purchase-order workbook: one sheet per supplier, "Payment schedule" and "Shipping plan".

"Payment schedule" lists every deposit and balance (SPEC §6) by supplier and due date,
in the currency the supplier quotes and, when any supplier quotes in another currency,
also in the campaign currency; money cells carry a number format with their currency.

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
PAYMENT_SHEET = "Payment schedule"


def write_purchase_orders(inst: Instance, ev: PlanEvaluation, out_dir: str | Path,
                          name: str = WORKBOOK_NAME) -> Path:
    """Write ``out_dir/name`` (never over an existing file) and return its path."""
    from optimizer.report.tables import purchase_orders, shipping_plan, supplier_payments

    path = Path(out_dir) / name
    if path.exists():
        raise FileExistsError(f"{path} already exists; a run never overwrites another")
    po = purchase_orders(inst, ev)
    suppliers = list(dict.fromkeys(po["supplier"]))
    names = sheet_names(suppliers, reserved=("History", SHIPPING_SHEET, PAYMENT_SHEET))
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
            _write_payments(xl, supplier_payments(inst, ev), inst.campaign.config.currency)
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


def _write_payments(xl: pd.ExcelWriter, payments: pd.DataFrame, currency: str) -> None:
    """One row per supplier × payment: supplier, kind, share, due, amount, currency
    (the supplier's), and the amount in the campaign currency when any supplier quotes
    in another one."""
    own = currency.upper()
    rows = pd.DataFrame({"supplier": payments["supplier"], "kind": payments["kind"],
                         "share": payments["share"].astype(float), "due": payments["due"],
                         "amount": payments["quoted_amount"].astype(float).round(2),  # to the cent
                         "currency": payments["currency"]})
    in_own = f"amount in {currency}"
    foreign = bool((payments["currency"] != own).any())
    if foreign:
        rows[in_own] = payments["amount"].astype(float).round(2)
    _write(xl, PAYMENT_SHEET, rows)
    ws = xl.sheets[PAYMENT_SHEET]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) for name in header}
    money = {"amount": list(rows["currency"])}
    if foreign:
        money[in_own] = [currency] * len(rows)
    for name, codes in money.items():
        shown = [len(f"{v:,.2f} {c}") for v, c in zip(rows[name], codes)]
        letter = ws.cell(row=1, column=col[name] + 1).column_letter
        ws.column_dimensions[letter].width = min(max([10, len(name)] + shown) + 2, 50)
        for cells, code in zip(ws.iter_rows(min_row=2), codes):
            cells[col[name]].number_format = _money_format(code)
    for cells in ws.iter_rows(min_row=2):
        cells[col["share"]].number_format = "0%"
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # printed one page wide
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


def _money_format(code: str) -> str:
    """An Excel number format showing the currency after the amount: ``#,##0.00 "USD"``."""
    literal = "".join(ch for ch in str(code) if ch not in '"\\')
    return f'#,##0.00 "{literal}"'
