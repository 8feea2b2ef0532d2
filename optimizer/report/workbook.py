"""The purchase-order workbook: "Summary", one purchase order per supplier, "Payment
schedule" and "Shipping plan".

Each supplier's sheet is a purchase order the supplier can accept as it stands
(:class:`PurchaseOrder`, SPEC §3 lines and §6 money):

- a header block — PO number ``<campaign slug>-<supplier>-<planning date yyyymmdd>``
  (deterministic), PO date (the planning date), supplier name (suppliers.csv ``name``)
  and id, buyer (the campaign), the currency of the quote (skus.csv ``cost_currency``),
  the payment terms (suppliers.csv ``deposit_share``: "30 % deposit on order, balance
  before shipment") and the warehouses shipped to, with their address (warehouses.csv
  ``address``, optional);
- the lines — SKU, name, ship-to warehouse, mode, units per case, cases, units, the
  quoted unit price, the line total ``units × quoted price`` (to the cent), order-by and
  ship-by (plan.csv), sorted by order-by then ship-by — and their totals;
- the payment schedule — the deposits (due on the lines' order-by dates) and balances
  (on their ship-by dates) of :func:`~optimizer.report.tables.supplier_payments`, in the
  quoted currency, to the cent, adding up exactly to the PO value.

Money stays in the currency the supplier quotes. A supplier quoting some SKUs in one
currency and others in another gets one PO whose lines each carry their currency, with
a total and a payment schedule per currency (a sum over two currencies is no amount).
The sheet prints landscape and one page wide; on screen the line header stays frozen
below the header block.

"Summary", the first sheet, lists every PO by first order-by date (supplier, PO number,
currency, lines, units, value, first order-by, terms; the PO number links to its sheet).
"Payment schedule" lists every deposit and balance by supplier and due date, in the
currency the supplier quotes and, when any supplier quotes in another currency, also in
the campaign currency. Money cells carry a number format with their currency
(``#,##0.00 "CNY"``); dates are date cells.

Sheet names are sanitised to Excel's rules (≤ 31 characters, no ``[]:*?/\\``,
unique regardless of case). SKU, supplier and warehouse names and addresses come from
suppliers' exports: text that a spreadsheet would run as a formula is stored as a text
cell, shown as written (:mod:`optimizer.io.safe_text` explains the risk).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.evaluate.plan import PlanEvaluation
from optimizer.io.safe_text import sheet_names
from optimizer.prep.instance import Instance
from optimizer.report.tables import shipping_plan, supplier_payments

WORKBOOK_NAME = "purchase_orders.xlsx"
SUMMARY_SHEET = "Summary"
SHIPPING_SHEET = "Shipping plan"
PAYMENT_SHEET = "Payment schedule"
RESERVED_SHEETS = ("History", SUMMARY_SHEET, SHIPPING_SHEET, PAYMENT_SHEET)

DATE_FORMAT = "yyyy-mm-dd"
COUNT_FORMAT = "#,##0"
# PO sheet columns; "Currency" only on a PO quoted in two currencies.
PO_COLUMNS = ["SKU", "Name", "Ship to", "Mode", "Units per case", "Cases", "Units", "Currency",
              "Unit price", "Line total", "Order by", "Ship by"]
SUMMARY_COLUMNS = ["Supplier", "Supplier name", "PO number", "Currency", "Lines", "Units",
                   "Value", "Value in {cur}", "First order-by", "Payment terms"]

# Text columns left, money, counts and dates right; a column of codes centred, and text
# after a right-aligned number indented, so neighbours never touch.
_PO_ALIGN = {"SKU": "left", "Name": "left", "Ship to": "left", "Mode": "left", "Currency": "center"}
_SUMMARY_ALIGN = {"Supplier": "left", "Supplier name": "left", "PO number": "left",
                  "Currency": "center", "Payment terms": "indent"}

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
_THIN = Side(style="thin", color="808080")
_HEAD_BORDER = Border(bottom=_THIN)
_TOTAL_BORDER = Border(top=_THIN)
_WIDTH_MIN, _WIDTH_MAX = 8, 50
SHIP_TO_IN_HEADER = 3  # more warehouses with addresses: listed by id, addresses at the end


def write_purchase_orders(inst: Instance, ev: PlanEvaluation, out_dir: str | Path,
                          name: str = WORKBOOK_NAME) -> Path:
    """Write ``out_dir/name`` (never over an existing file) and return its path."""
    path = Path(out_dir) / name
    if path.exists():
        raise FileExistsError(f"{path} already exists; a run never overwrites another")
    orders = purchase_orders_by_supplier(inst, ev)
    names = sheet_names([po.supplier for po in orders], reserved=RESERVED_SHEETS)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl", date_format="YYYY-MM-DD",
                            datetime_format="YYYY-MM-DD") as xl:
            book = xl.book
            _write_summary(book.create_sheet(SUMMARY_SHEET), inst, orders, names)
            for po, sheet in zip(orders, names):
                _write_po(book.create_sheet(sheet), po)
            _write_payments(xl, supplier_payments(inst, ev), inst.campaign.config.currency)
            _write(xl, SHIPPING_SHEET, shipping_plan(inst, ev))
            _printable(xl.sheets[SHIPPING_SHEET])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------- purchase orders (data)

LINE_COLUMNS = ["sku", "name", "warehouse", "mode", "case_pack", "cases", "units", "currency",
                "unit_price", "line_total", "order_by", "ship_by", "line_value"]
PAYMENT_COLUMNS = ["kind", "share", "due", "currency", "amount", "value"]


@dataclass(frozen=True)
class PurchaseOrder:
    """One supplier's purchase order.

    ``lines``: :data:`LINE_COLUMNS` — ``unit_price`` and ``line_total`` in ``currency``
    (the quote), ``line_value`` the line in the campaign currency (unit cost × units).
    ``payments``: :data:`PAYMENT_COLUMNS` — ``amount`` in ``currency``, ``value`` in the
    campaign currency; per currency the amounts add up to the lines' totals.
    ``ship_to``: ``warehouse, address`` (address blank without warehouses.csv ``address``).
    """

    supplier: str
    supplier_name: str
    number: str
    date: dt.date
    buyer: str
    deposit_share: float
    ship_to: pd.DataFrame
    lines: pd.DataFrame
    payments: pd.DataFrame

    @property
    def currencies(self) -> list[str]:
        """The quote currencies of the lines, in order of first appearance."""
        return list(dict.fromkeys(self.lines["currency"]))

    @property
    def payment_terms(self) -> str:
        return payment_terms(self.deposit_share)

    def totals(self) -> pd.DataFrame:
        """Per quote currency: lines, cases, units, value (quoted) and value in the campaign
        currency, and the first order-by date."""
        g = self.lines.groupby("currency", sort=False).agg(
            lines=("sku", "size"), cases=("cases", "sum"), units=("units", "sum"),
            value=("line_total", "sum"), campaign_value=("line_value", "sum"),
            first_order_by=("order_by", "min"))
        g["value"] = g["value"].round(2)
        return g.reset_index()


def payment_terms(deposit_share: float) -> str:
    """``"30 % deposit on order, balance before shipment"`` (the order-by and ship-by dates)."""
    share = float(deposit_share)
    if share >= 1.0:
        return "payment in full on order"
    if share <= 0.0:
        return "payment in full before shipment"
    return f"{_pct(share)} deposit on order, balance before shipment"


def slug(text: str) -> str:
    """Lower-case letters, digits and ``-``: the run folders' campaign slug."""
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower()


def po_numbers(campaign: str, suppliers, date: dt.date) -> list[str]:
    """``<campaign slug>-<supplier>-<yyyymmdd>`` per supplier: letters, digits and ``-``
    only (so never formula-like), unique (a ``-2``, ``-3`` … for suppliers whose ids
    differ only in punctuation)."""
    head, day = slug(campaign) or "campaign", date.strftime("%Y%m%d")
    out, taken = [], set()
    for supplier in suppliers:
        who = re.sub(r"[^A-Za-z0-9]+", "-", str(supplier)).strip("-") or "supplier"
        number, k = f"{head}-{who}-{day}", 1
        while number.casefold() in taken:
            k += 1
            number = f"{head}-{who}-{day}-{k}"
        taken.add(number.casefold())
        out.append(number)
    return out


def purchase_orders_by_supplier(inst: Instance, ev: PlanEvaluation) -> list[PurchaseOrder]:
    """One :class:`PurchaseOrder` per supplier the plan orders from, by supplier id."""
    if ev.lines.empty:
        return []
    cfg = inst.campaign.config
    skus = inst.skus
    l = ev.lines[["sku", "warehouse", "mode", "cases", "units", "order_by", "ship_by"]].merge(
        skus[["supplier", "name", "case_pack", "cost_currency", "quoted_unit_cost", "unit_cost"]],
        left_on="sku", right_index=True)
    l["name"] = l["name"].map(_text)
    l = l.rename(columns={"cost_currency": "currency", "quoted_unit_cost": "unit_price"})
    l["line_total"] = (l["units"] * l["unit_price"]).round(2)  # to the cent, as invoiced
    l["line_value"] = l["units"] * l["unit_cost"]
    l = l.sort_values(["supplier", "order_by", "ship_by", "sku", "warehouse", "mode"])
    pay = supplier_payments(inst, ev)
    sup = inst.suppliers
    names = sup["name"] if "name" in sup else pd.Series(dtype=object)
    address = inst.warehouses["address"] if "address" in inst.warehouses else pd.Series(dtype=object)
    suppliers = list(dict.fromkeys(l["supplier"]))
    numbers = po_numbers(cfg.name, suppliers, inst.planning_date)
    orders = []
    for supplier, number in zip(suppliers, numbers):
        lines = l[l["supplier"] == supplier].reset_index(drop=True)
        warehouses = list(dict.fromkeys(lines.sort_values(["ship_by", "warehouse"])["warehouse"]))
        ship_to = pd.DataFrame({"warehouse": warehouses,
                                "address": [_text(address.get(w)) for w in warehouses]})
        orders.append(PurchaseOrder(
            supplier=str(supplier), supplier_name=_text(names.get(supplier)), number=number,
            date=inst.planning_date, buyer=cfg.name,
            deposit_share=float(sup["deposit_share"].get(supplier, 1.0)), ship_to=ship_to,
            lines=lines[LINE_COLUMNS],
            payments=_payments(pay[pay["supplier"] == supplier], lines)))
    return orders


def _payments(pay: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """The supplier's payments by due date, to the cent, adding up per currency to the
    lines' (rounded) totals: the cents lost in rounding go on the last payment."""
    p = pay.rename(columns={"quoted_amount": "amount", "amount": "value"}).copy()
    p["kind_order"] = p["kind"].map({"deposit": 0, "balance": 1})
    p = p.sort_values(["due", "kind_order", "currency"]).reset_index(drop=True)
    p["amount"] = p["amount"].astype(float).round(2)
    target = lines.groupby("currency")["line_total"].sum()
    for code, rows in p.groupby("currency").groups.items():
        last = rows[-1]
        p.loc[last, "amount"] = round(p.at[last, "amount"] + target[code] - p.loc[rows, "amount"].sum(), 2)
    return p[PAYMENT_COLUMNS]


def _text(value) -> str:
    """A cell of an optional text column as text; blank for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _pct(share: float) -> str:
    return f"{round(100 * share, 2):g} %"


# ---------------------------------------------------------------- one purchase order


def _write_po(ws: Worksheet, po: PurchaseOrder) -> None:
    """Header block, lines, totals and payment schedule of one supplier's PO."""
    mixed = len(po.currencies) > 1
    cols = [c for c in PO_COLUMNS if mixed or c != "Currency"]
    at = {c: i + 1 for i, c in enumerate(cols)}

    _put(ws, 1, 1, "Purchase order", font=_TITLE)
    header = [("PO number", po.number, None), ("PO date", po.date, DATE_FORMAT),
              ("Supplier", po.supplier_name or po.supplier, None),
              ("Supplier id", po.supplier, None), ("Buyer", po.buyer, None),
              ("Currency", " and ".join(po.currencies) + (" (each line in its own)" if mixed else ""), None),
              ("Payment terms", _terms_text(po), None)]
    r = 3
    for label, value, fmt in header:
        _put(ws, r, 1, label, font=_BOLD)
        _put(ws, r, 2, value, fmt, font=_BOLD if label == "PO number" else None,
             align="left")
        r += 1
    ship_to = po.ship_to
    addressed = bool((ship_to["address"] != "").any())
    inline = addressed and len(ship_to) <= SHIP_TO_IN_HEADER  # else the block stays short
    if inline:
        for i, w in enumerate(ship_to.itertuples(index=False)):
            _put(ws, r, 1, "Ship to" if i == 0 else None, font=_BOLD)
            _put(ws, r, 2, f"{w.warehouse}: {w.address}" if w.address else w.warehouse)
            r += 1
    else:
        _put(ws, r, 1, "Ship to", font=_BOLD)
        _put(ws, r, 2, ", ".join(ship_to["warehouse"]) + (" (addresses below)" if addressed else ""))
        r += 1

    head = r + 1
    for c, title in enumerate(cols, start=1):
        _put(ws, head, c, title, font=_BOLD, fill=_HEAD_FILL, border=_HEAD_BORDER,
             align=_PO_ALIGN.get(title, "right"))
    r = head + 1
    for line in po.lines.itertuples(index=False):
        money = _money_format(line.currency)
        values = {"SKU": (line.sku, None), "Name": (line.name, None), "Ship to": (line.warehouse, None),
                  "Mode": (line.mode, None), "Units per case": (int(line.case_pack), COUNT_FORMAT),
                  "Cases": (int(line.cases), COUNT_FORMAT), "Units": (int(line.units), COUNT_FORMAT),
                  "Currency": (line.currency, None),
                  "Unit price": (float(line.unit_price), _price_format(line.currency)),
                  "Line total": (float(line.line_total), money),
                  "Order by": (line.order_by, DATE_FORMAT), "Ship by": (line.ship_by, DATE_FORMAT)}
        for title in cols:
            _put(ws, r, at[title], *values[title], align=_PO_ALIGN.get(title))
        r += 1

    totals = po.totals()
    rows = [(f"Total {t.currency}" if mixed else "Total", t.cases, t.units, t.value, t.currency)
            for t in totals.itertuples(index=False)]
    if mixed:  # units and cases add up across currencies; money does not
        rows.append(("Total", totals["cases"].sum(), totals["units"].sum(), None, None))
    for i, (label, cases, units, value, code) in enumerate(rows):
        border = _TOTAL_BORDER if i == 0 else None
        for c in range(1, len(cols) + 1):
            _put(ws, r, c, None, border=border)
        _put(ws, r, 1, label, font=_BOLD, border=border)
        _put(ws, r, at["Cases"], int(cases), COUNT_FORMAT, font=_BOLD, border=border)
        _put(ws, r, at["Units"], int(units), COUNT_FORMAT, font=_BOLD, border=border)
        if value is not None:
            _put(ws, r, at["Line total"], float(value), _money_format(code), font=_BOLD, border=border)
        r += 1

    r += 1
    _put(ws, r, 1, "Payment schedule", font=_BOLD)
    r += 1
    amount_col = at["Line total"]
    for c, title in ((1, "Payment"), (2, "Due"), (amount_col, "Amount")):
        _put(ws, r, c, title, font=_BOLD, fill=_HEAD_FILL, border=_HEAD_BORDER,
             align="right" if c == amount_col else "left")
    for c in range(3, amount_col):
        _put(ws, r, c, None, fill=_HEAD_FILL, border=_HEAD_BORDER)
    r += 1
    for p in po.payments.itertuples(index=False):
        _put(ws, r, 1, _payment_label(p.kind, p.share))
        _put(ws, r, 2, p.due, DATE_FORMAT, align="left")
        _put(ws, r, amount_col, float(p.amount), _money_format(p.currency))
        r += 1
    paid = po.payments.groupby("currency", sort=False)["amount"].sum()
    for i, (code, amount) in enumerate(paid.items()):
        border = _TOTAL_BORDER if i == 0 else None
        for c in range(1, amount_col + 1):
            _put(ws, r, c, None, border=border)
        _put(ws, r, 1, f"Total {code}" if mixed else "Total", font=_BOLD, border=border)
        _put(ws, r, amount_col, round(float(amount), 2), _money_format(code), font=_BOLD, border=border)
        r += 1
    _fit_columns(ws, first_row=head, label_rows=range(3, head))  # before the text that overflows
    r += 1
    _put(ws, r, 1, _note(po.deposit_share))
    if addressed and not inline:
        r += 2
        _put(ws, r, 1, "Ship-to addresses", font=_BOLD)
        for w in ship_to.itertuples(index=False):
            r += 1
            _put(ws, r, 1, w.warehouse)
            _put(ws, r, 2, w.address)
    # Frozen below the header block on screen. Not repeated on printed pages: they would
    # head the payment schedule too, whose columns are not the lines'.
    ws.freeze_panes = ws.cell(row=head + 1, column=1).coordinate
    _printable(ws, footer=f"{po.number} · page &P")


def _terms_text(po: PurchaseOrder) -> str:
    return po.payment_terms[:1].upper() + po.payment_terms[1:]


def _note(deposit_share: float) -> str:
    """When each payment falls due (SPEC §6) and what the ship-by date asks."""
    if deposit_share >= 1:
        due = "Payment is due on the order-by date of the lines."
    elif deposit_share <= 0:
        due = "Payment is due on the ship-by date of the lines."
    else:
        due = "Deposits are due on the order-by date of their lines, balances on their ship-by date."
    return f"{due} Ship each line to its warehouse by its ship-by date."


def _payment_label(kind: str, share: float) -> str:
    """``Deposit 30 %``, ``Balance 70 %``; ``Payment 100 %`` for one paid in full."""
    return f"{'Payment' if share >= 1 else kind.capitalize()} {_pct(float(share))}"


# ---------------------------------------------------------------- summary


def _write_summary(ws: Worksheet, inst: Instance, orders: list[PurchaseOrder], sheets: list[str]) -> None:
    """Every PO on one sheet, by first order-by date; a row per PO and quote currency."""
    cur = inst.campaign.config.currency.upper()
    _put(ws, 1, 1, "Purchase orders", font=_TITLE)
    for r, (label, value, fmt) in enumerate((("Buyer", inst.campaign.config.name, None),
                                             ("PO date", inst.planning_date, DATE_FORMAT),
                                             ("Purchase orders", len(orders), COUNT_FORMAT)), start=3):
        _put(ws, r, 1, label, font=_BOLD)
        _put(ws, r, 2, value, fmt, align="left")
    head = 7
    if not orders:
        _put(ws, head, 1, "the plan orders nothing")
        _fit_columns(ws, first_row=head, label_rows=range(3, head))
        return
    rows = []
    for po, sheet in zip(orders, sheets):
        for t in po.totals().itertuples(index=False):
            rows.append((t.first_order_by, po.supplier, po, sheet, t))
    rows.sort(key=lambda x: (x[0], x[1], x[4].currency))
    foreign = any(t.currency != cur for *_, t in rows)
    cols = [c.format(cur=cur) for c in SUMMARY_COLUMNS if foreign or c != "Value in {cur}"]
    at = {c: i + 1 for i, c in enumerate(cols)}
    for c, title in enumerate(cols, start=1):
        _put(ws, head, c, title, font=_BOLD, fill=_HEAD_FILL, border=_HEAD_BORDER,
             align=_SUMMARY_ALIGN.get(title, "right"))
    r = head + 1
    for first, supplier, po, sheet, t in rows:
        _put(ws, r, at["Supplier"], supplier)
        _put(ws, r, at["Supplier name"], po.supplier_name)
        link = _put(ws, r, at["PO number"], po.number, font=Font(color="1F4E9A", underline="single"))
        link.hyperlink = Hyperlink(ref=link.coordinate, location="'{}'!A1".format(sheet.replace("'", "''")),
                                   display=po.number)
        _put(ws, r, at["Currency"], t.currency, align="center")
        _put(ws, r, at["Lines"], int(t.lines), COUNT_FORMAT)
        _put(ws, r, at["Units"], int(t.units), COUNT_FORMAT)
        _put(ws, r, at["Value"], float(t.value), _money_format(t.currency))
        if foreign:
            _put(ws, r, at[f"Value in {cur}"], round(float(t.campaign_value), 2), _money_format(cur))
        _put(ws, r, at["Payment terms"], _terms_text(po), align="indent")
        _put(ws, r, at["First order-by"], first, DATE_FORMAT)
        r += 1
    for c in range(1, len(cols) + 1):
        _put(ws, r, c, None, border=_TOTAL_BORDER)
    _put(ws, r, 1, "Total", font=_BOLD, border=_TOTAL_BORDER)
    _put(ws, r, at["Lines"], sum(int(x[4].lines) for x in rows), COUNT_FORMAT, font=_BOLD, border=_TOTAL_BORDER)
    _put(ws, r, at["Units"], sum(int(x[4].units) for x in rows), COUNT_FORMAT, font=_BOLD, border=_TOTAL_BORDER)
    codes = {x[4].currency for x in rows}
    if len(codes) == 1:  # one currency throughout: its values add up
        _put(ws, r, at["Value"], round(sum(float(x[4].value) for x in rows), 2),
             _money_format(codes.pop()), font=_BOLD, border=_TOTAL_BORDER)
    if foreign:
        _put(ws, r, at[f"Value in {cur}"], round(sum(float(x[4].campaign_value) for x in rows), 2),
             _money_format(cur), font=_BOLD, border=_TOTAL_BORDER)
    _fit_columns(ws, first_row=head, label_rows=range(3, head))
    ws.freeze_panes = ws.cell(row=head + 1, column=1).coordinate
    ws.print_title_rows = f"{head}:{head}"
    _printable(ws)


# ---------------------------------------------------------------- cells and layout


def _put(ws: Worksheet, row: int, col: int, value, number_format: str | None = None, *,
         font: Font | None = None, fill: PatternFill | None = None, border: Border | None = None,
         align: str | None = None):
    """Write one cell; text is stored as text even when it looks like a formula."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value is not None:
        cell.value = value
        if cell.data_type == "f":  # text beginning with "=": keep it text, never a formula
            cell.data_type = "s"
    if number_format:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
    if align == "indent":
        cell.alignment = Alignment(horizontal="left", indent=1)
    elif align is not None:
        cell.alignment = Alignment(horizontal=align)
    return cell


def _shown_width(cell) -> int:
    """About how many characters a cell shows."""
    v = cell.value
    if v is None:
        return 0
    if isinstance(v, (dt.date, dt.datetime)):
        return 10
    if isinstance(v, (int, float)):
        fmt = cell.number_format or ""
        decimals = 4 if "0.00##" in fmt else 2 if "0.00" in fmt else 0
        text = f"{v:,.{decimals}f}"
        if '"' in fmt:  # the currency literal after the amount
            text += " " + fmt.split('"')[1]
        return len(text)
    return len(str(v))


def _fit_columns(ws: Worksheet, first_row: int, label_rows=()) -> None:
    """A readable width per column from the table (header row down), capped; the header
    block's values overflow into the empty cells to their right, only its labels count."""
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=first_row):
        for cell in row:
            widths[cell.column] = max(widths.get(cell.column, 0), _shown_width(cell))
    for r in label_rows:
        widths[1] = max(widths.get(1, 0), _shown_width(ws.cell(row=r, column=1)))
    for col, width in widths.items():
        letter = ws.cell(row=1, column=col).column_letter
        ws.column_dimensions[letter].width = min(max(_WIDTH_MIN, width + 2), _WIDTH_MAX)


def _printable(ws: Worksheet, footer: str | None = None) -> None:
    """Printed landscape, one page wide (as many pages down as needed)."""
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    if footer:
        ws.oddFooter.center.text = footer


# ---------------------------------------------------------------- table sheets


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
    _printable(ws)


def _money_format(code: str) -> str:
    """An Excel number format showing the currency after the amount: ``#,##0.00 "USD"``."""
    literal = "".join(ch for ch in str(code) if ch not in '"\\')
    return f'#,##0.00 "{literal}"'


def _price_format(code: str) -> str:
    """A unit price: two decimals, up to four when the quote has them (``0.0125 USD``)."""
    literal = "".join(ch for ch in str(code) if ch not in '"\\')
    return f'#,##0.00## "{literal}"'
