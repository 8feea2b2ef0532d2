"""The purchase-order workbook: "Summary", one sheet per purchase order, "Payment
schedule" and "Shipping plan".

A purchase order is a supplier's lines with one PO date (SPEC §6: a line's PO date is
its order-by date rounded down to campaign.toml ``po_cycle_days``, counted from the
planning date), so a supplier gets one PO per PO date. Each PO sheet is a purchase
order the supplier can accept as it stands (:class:`PurchaseOrder`, SPEC §3 lines and
§6 money):

- a header block — PO number (:func:`po_numbers`: ``BF26-SUP01-001``, the campaign's
  initials and year, the supplier id and the supplier's PO in PO-date order; at most
  20 characters, unique), PO date, supplier name (suppliers.csv ``name``), id, address
  and contact (suppliers.csv ``address``, ``contact``), the buyer (campaign.toml
  ``[buyer]`` ``company``, ``address``, ``contact``; the campaign name without a
  company), the currency of the quote (skus.csv ``cost_currency``), the Incoterms rule
  (``[buyer]`` ``incoterms``, FOB by default), the payment terms (suppliers.csv
  ``deposit_share``: "30 % deposit on order, balance before shipment") and the
  warehouses shipped to, each with its market and address (warehouses.csv ``address``,
  optional);
- the lines — SKU, name, ship-to warehouse, mode, units per case, cases, units, the
  quoted unit price, the line total ``units × quoted price`` (to the cent) and ship-by
  (plan.csv), sorted by ship-by — and their totals;
- the payment schedule — the PO's deposit (due on the PO date) and the balances (on
  the lines' ship-by dates) of :func:`~optimizer.report.tables.supplier_payments`, in the
  quoted currency, to the cent, adding up exactly to the PO value.

Money stays in the currency the supplier quotes. A supplier quoting some SKUs in one
currency and others in another gets one PO whose lines each carry their currency, with
a total and a payment schedule per currency (a sum over two currencies is no amount).
Each PO sheet prints landscape, scaled to one page wide, its print area the PO, with
"PO number · page n of m" in its footer: numbered from 1 on every PO and counted on the
PO alone (:func:`_paginate` sets the page breaks), also when the whole workbook prints
or converts to one PDF. On screen the line header stays frozen below the header block.

"Summary", the first sheet, lists every PO by PO date (PO number — a link to its
sheet —, PO date, supplier, currency, lines, units, value, deposit, terms). "Payment
schedule" lists every deposit and balance by supplier and due date with its PO number,
in the currency the supplier quotes and, when any supplier quotes in another currency,
also in the campaign currency; its amounts are the PO sheets' to the cent. Money cells
carry a number format with their currency (``#,##0.00 "CNY"``); dates are date cells.

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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.pagebreak import Break
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
              "Unit price", "Line total", "Ship by"]
SUMMARY_COLUMNS = ["PO number", "PO date", "Supplier", "Supplier name", "Currency", "Lines", "Units",
                   "Value", "Value in {cur}", "Deposit", "Payment terms"]
PO_NUMBER_MAX = 20  # characters: fits an ERP's PO reference field and a sheet tab

# Text columns left, money, counts and dates right; a column of codes centred, and text
# after a right-aligned number indented, so neighbours never touch.
_PO_ALIGN = {"SKU": "left", "Name": "left", "Ship to": "left", "Mode": "left", "Currency": "center"}
_SUMMARY_ALIGN = {"Supplier": "left", "Supplier name": "left", "PO number": "left",
                  "PO date": "left", "Currency": "center", "Payment terms": "indent"}

# The workbook's own font (Calibri 11) named in full: a font without a name is drawn in
# whatever the spreadsheet falls back to.
_BOLD = Font(name="Calibri", size=11, bold=True)
_TITLE = Font(name="Calibri", size=14, bold=True)
_LINK = Font(name="Calibri", size=11, color="1F4E9A", underline="single")
_HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
_THIN = Side(style="thin", color="808080")
_HEAD_BORDER = Border(bottom=_THIN)
_TOTAL_BORDER = Border(top=_THIN)
_WIDTH_MIN, _WIDTH_MAX = 8, 50
SHIP_TO_IN_HEADER = 3  # more warehouses with addresses: listed by id, addresses at the end
# A printed PO page, landscape on A4 or Letter paper (the smaller of each side): its width
# inside half-inch side margins and its height inside 0.75-inch top and bottom margins, in
# points; a row is 15 points high at 100 % (Calibri 11), and a page is filled to 90 % each
# way (room for a spreadsheet whose fonts set a little wider).
_PAGE_WIDTH_PT, _PAGE_HEIGHT_PT, _ROW_PT, _PAGE_FILL = 792 - 72, 595 - 108, 15.0, 0.9


def write_purchase_orders(inst: Instance, ev: PlanEvaluation, out_dir: str | Path,
                          name: str = WORKBOOK_NAME) -> Path:
    """Write ``out_dir/name`` (never over an existing file) and return its path."""
    path = Path(out_dir) / name
    if path.exists():
        raise FileExistsError(f"{path} already exists; a run never overwrites another")
    orders = purchase_orders_by_po(inst, ev)
    names = sheet_names([po.number for po in orders], reserved=RESERVED_SHEETS)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl", date_format="YYYY-MM-DD",
                            datetime_format="YYYY-MM-DD") as xl:
            book = xl.book
            _write_summary(book.create_sheet(SUMMARY_SHEET), inst, orders, names)
            for po, sheet in zip(orders, names):
                _write_po(book.create_sheet(sheet), po)
            _write_payments(xl, orders, inst.campaign.config.currency)
            _write(xl, SHIPPING_SHEET, shipping_plan(inst, ev))
            _printable(xl.sheets[SHIPPING_SHEET])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------- purchase orders (data)

LINE_COLUMNS = ["sku", "name", "warehouse", "mode", "case_pack", "cases", "units", "currency",
                "unit_price", "line_total", "ship_by", "line_value"]
PAYMENT_COLUMNS = ["kind", "share", "due", "currency", "amount", "value"]


@dataclass(frozen=True)
class PurchaseOrder:
    """One purchase order: a supplier's lines with one PO date.

    ``lines``: :data:`LINE_COLUMNS` — ``unit_price`` and ``line_total`` in ``currency``
    (the quote), ``line_value`` the line in the campaign currency (unit cost × units).
    ``payments``: :data:`PAYMENT_COLUMNS` — ``amount`` in ``currency``, to the cent,
    ``value`` in the campaign currency; per currency the amounts add up to the lines'
    totals. ``ship_to``: ``warehouse, market, address`` (address blank without
    warehouses.csv ``address``). Supplier and buyer address and contact are blank when
    not given.
    """

    supplier: str
    supplier_name: str
    supplier_address: str
    supplier_contact: str
    number: str
    date: dt.date
    buyer: str
    buyer_address: str
    buyer_contact: str
    incoterms: str
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
        """Per quote currency: lines, cases, units, value (quoted), value in the campaign
        currency and the deposit (quoted, due on the PO date)."""
        g = self.lines.groupby("currency", sort=False).agg(
            lines=("sku", "size"), cases=("cases", "sum"), units=("units", "sum"),
            value=("line_total", "sum"), campaign_value=("line_value", "sum"))
        g["value"] = g["value"].round(2)
        deposits = self.payments[self.payments["kind"] == "deposit"].groupby("currency")["amount"].sum()
        g["deposit"] = deposits.reindex(g.index).fillna(0.0).round(2)
        return g.reset_index()


def payment_terms(deposit_share: float) -> str:
    """``"30 % deposit on order, balance before shipment"`` (the PO date and the lines'
    ship-by dates)."""
    share = float(deposit_share)
    if share >= 1.0:
        return "payment in full on order"
    if share <= 0.0:
        return "payment in full before shipment"
    return f"{_pct(share)} deposit on order, balance before shipment"


def po_prefix(campaign: str) -> str:
    """The campaign's short code: the initials of its name's words (at most four, text in
    brackets left out) and the last two digits of a year in it — ``Black Friday 2026
    (sample)`` → ``BF26``; ``PO`` for a name without letters."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", str(campaign))
    year = re.search(r"(?<!\d)(?:19|20)(\d{2})(?!\d)", text)
    initials = "".join(word[0] for word in re.findall(r"[A-Za-z]+", text)).upper()[:4]
    return (initials or "PO") + (year[1] if year else "")


def po_numbers(campaign: str, orders: Sequence[tuple[str, dt.date]]) -> list[str]:
    """``<campaign code>-<supplier>-<nnn>`` per (supplier, PO date): :func:`po_prefix`,
    the supplier id in letters, digits and ``-`` (so never formula-like) and the
    supplier's POs numbered 001, 002, … in PO-date order.

    At most :data:`PO_NUMBER_MAX` characters (a long supplier id is shortened) and
    unique: two suppliers whose ids shorten or reduce to the same text get ``-2``, ``-3``
    … after the later one's (in id order), so each supplier has its own part, and a
    supplier's numbers differ in their fixed-width sequence.
    """
    prefix = po_prefix(campaign)
    count = Counter(str(supplier) for supplier, _ in orders)
    digits = {f: max(3, len(str(n))) for f, n in count.items()}
    room = PO_NUMBER_MAX - len(prefix) - 2  # the two dashes
    part, taken = {}, set()
    for supplier in sorted(count):
        width = room - digits[supplier]
        base = re.sub(r"[^A-Za-z0-9]+", "-", supplier).strip("-") or "SUP"
        token, k = base[:width].rstrip("-"), 1
        while token.casefold() in taken:
            k += 1
            tail = f"-{k}"
            token = base[:width - len(tail)].rstrip("-") + tail
        taken.add(token.casefold())
        part[supplier] = token
    sequence, seen = {}, Counter()
    for supplier, day in sorted({(str(f), d) for f, d in orders}):
        seen[supplier] += 1
        sequence[(supplier, day)] = seen[supplier]
    return [f"{prefix}-{part[str(f)]}-{sequence[(str(f), d)]:0{digits[str(f)]}d}" for f, d in orders]


def purchase_orders_by_po(inst: Instance, ev: PlanEvaluation) -> list[PurchaseOrder]:
    """One :class:`PurchaseOrder` per supplier and PO date the plan orders from, by PO
    date, then supplier id."""
    if ev.lines.empty:
        return []
    cfg = inst.campaign.config
    skus = inst.skus
    l = ev.lines[["sku", "warehouse", "mode", "cases", "units", "po_date", "ship_by"]].merge(
        skus[["supplier", "name", "case_pack", "cost_currency", "quoted_unit_cost", "unit_cost"]],
        left_on="sku", right_index=True)
    l["name"] = l["name"].map(_text)
    l = l.rename(columns={"cost_currency": "currency", "quoted_unit_cost": "unit_price"})
    l["line_total"] = (l["units"] * l["unit_price"]).round(2)  # to the cent, as invoiced
    l["line_value"] = l["units"] * l["unit_cost"]
    l = l.sort_values(["po_date", "supplier", "ship_by", "sku", "warehouse", "mode"])
    pay = supplier_payments(inst, ev)
    sup = inst.suppliers
    text_of = {c: sup[c] if c in sup else pd.Series(dtype=object) for c in ("name", "address", "contact")}
    wh = inst.warehouses
    address = wh["address"] if "address" in wh else pd.Series(dtype=object)
    keys = list(dict.fromkeys(zip(l["supplier"], l["po_date"])))
    numbers = po_numbers(cfg.name, keys)
    buyer = cfg.buyer
    orders = []
    for (supplier, day), number in zip(keys, numbers):
        lines = l[(l["supplier"] == supplier) & (l["po_date"] == day)].reset_index(drop=True)
        warehouses = list(dict.fromkeys(lines.sort_values(["ship_by", "warehouse"])["warehouse"]))
        ship_to = pd.DataFrame({"warehouse": warehouses,
                                "market": [_text(wh["market"].get(w)) for w in warehouses],
                                "address": [_text(address.get(w)) for w in warehouses]})
        mine = pay[(pay["supplier"] == supplier) & (pay["po_date"] == day)]
        orders.append(PurchaseOrder(
            supplier=str(supplier), supplier_name=_text(text_of["name"].get(supplier)),
            supplier_address=_text(text_of["address"].get(supplier)),
            supplier_contact=_text(text_of["contact"].get(supplier)), number=number, date=day,
            buyer=buyer.company or cfg.name, buyer_address=buyer.address or "",
            buyer_contact=buyer.contact or "", incoterms=buyer.incoterms,
            deposit_share=float(sup["deposit_share"].get(supplier, 1.0)), ship_to=ship_to,
            lines=lines[LINE_COLUMNS], payments=_payments(mine, lines)))
    return orders


def _payments(pay: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """The PO's payments by due date, to the cent. Per currency the payments are the
    differences of their running total rounded to the cent, the last one closing on the
    lines' (rounded) totals: each is within a cent of its exact amount, and together they
    are the PO's value."""
    p = pay.rename(columns={"quoted_amount": "amount", "amount": "value"}).copy()
    p["kind_order"] = p["kind"].map({"deposit": 0, "balance": 1})
    p = p.sort_values(["due", "kind_order", "currency"]).reset_index(drop=True)
    p["amount"] = p["amount"].astype(float)
    target = lines.groupby("currency")["line_total"].sum()
    for code, rows in p.groupby("currency").groups.items():
        running = p.loc[rows, "amount"].cumsum().round(2).to_numpy()
        running[-1] = round(float(target[code]), 2)
        p.loc[rows, "amount"] = [round(float(x), 2) for x in pd.Series(running).diff().fillna(running[0])]
    return p[PAYMENT_COLUMNS]


def _text(value) -> str:
    """A cell of an optional text column as text; blank for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _one_line(text: str) -> str:
    """Text of several lines (a TOML address) on one line, its lines joined by commas."""
    return ", ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _pct(share: float) -> str:
    return f"{round(100 * share, 2):g} %"


# ---------------------------------------------------------------- one purchase order


def _header_block(po: PurchaseOrder) -> list[tuple[str, object, str | None]]:
    """The PO's header rows (label, value, number format) above the Ship to rows; the
    optional addresses and contacts only when given."""
    mixed = len(po.currencies) > 1
    rows = [("PO number", po.number, None), ("PO date", po.date, DATE_FORMAT),
            ("Supplier", po.supplier_name or po.supplier, None), ("Supplier id", po.supplier, None),
            ("Supplier address", _one_line(po.supplier_address), None),
            ("Supplier contact", _one_line(po.supplier_contact), None),
            ("Buyer", _one_line(po.buyer), None),
            ("Buyer address", _one_line(po.buyer_address), None),
            ("Buyer contact", _one_line(po.buyer_contact), None),
            ("Currency", " and ".join(po.currencies) + (" (each line in its own)" if mixed else ""), None),
            ("Incoterms", po.incoterms, None),
            ("Payment terms", _terms_text(po), None)]
    return [row for row in rows if row[1] != ""]


def _ship_to_text(w) -> str:
    """``ONT8 (US)``, with ``: <address>`` when warehouses.csv gives one."""
    where = f"{w.warehouse} ({w.market})" if w.market else str(w.warehouse)
    return f"{where}: {_one_line(w.address)}" if w.address else where


def _write_po(ws: Worksheet, po: PurchaseOrder) -> None:
    """Header block, lines, totals and payment schedule of one purchase order."""
    mixed = len(po.currencies) > 1
    cols = [c for c in PO_COLUMNS if mixed or c != "Currency"]
    at = {c: i + 1 for i, c in enumerate(cols)}

    _put(ws, 1, 1, "Purchase order", font=_TITLE)
    r = 3
    for label, value, fmt in _header_block(po):
        _put(ws, r, 1, label, font=_BOLD)
        _put(ws, r, 2, value, fmt, font=_BOLD if label == "PO number" else None,
             align="left")
        r += 1
    ship_to = po.ship_to
    addressed = bool((ship_to["address"] != "").any())
    inline = not addressed or len(ship_to) <= SHIP_TO_IN_HEADER  # else the block stays short
    if inline:
        for i, w in enumerate(ship_to.itertuples(index=False)):
            _put(ws, r, 1, "Ship to" if i == 0 else None, font=_BOLD)
            _put(ws, r, 2, _ship_to_text(w))
            r += 1
    else:
        _put(ws, r, 1, "Ship to", font=_BOLD)
        _put(ws, r, 2, ", ".join(_ship_to_text(w._replace(address="")) for w in ship_to.itertuples(index=False))
             + " (addresses below)")
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
                  "Ship by": (line.ship_by, DATE_FORMAT)}
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

    lines_end = r - 1
    r += 1
    schedule = r
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
    schedule_end = r - 1
    _fit_columns(ws, first_row=head, label_rows=range(3, head))  # before the text that overflows
    r += 1
    _put(ws, r, 1, _note(po.deposit_share))
    if not inline:
        r += 2
        _put(ws, r, 1, "Ship-to addresses", font=_BOLD)
        for w in ship_to.itertuples(index=False):
            r += 1
            _put(ws, r, 1, w.warehouse)
            _put(ws, r, 2, _ship_to_text(w).removeprefix(f"{w.warehouse} "))
    # Frozen below the header block on screen. Not repeated on printed pages: they would
    # head the payment schedule too, whose columns are not the lines'.
    ws.freeze_panes = ws.cell(row=head + 1, column=1).coordinate
    # Kept on one page when they fit: the header block with the first line, the last line
    # with the totals, the payment schedule.
    pages = _paginate(ws, len(cols), r, keep=[(1, head + 1), (head + len(po.lines), lines_end),
                                              (schedule, schedule_end)])
    _printable(ws, footer=f"{po.number} · page &P of {pages}", first_page=1, fit=False)
    ws.print_area = f"A1:{get_column_letter(len(cols))}{r}"


def _paginate(ws: Worksheet, n_cols: int, last_row: int, keep=()) -> int:
    """Print the sheet at the scale that fits its columns on one page width, with page
    breaks where a page is full, and return its number of pages. A ``keep`` block of rows
    (first, last) that fits on a page is not split: the page ends above it.

    The page count is the sheet's own, so the footer can say "page 2 of 3" whatever else
    is printed with it (a spreadsheet's page-count field counts every page of a print
    job or PDF export, all the other POs' too). A scale rather than "fit to page" keeps
    the breaks: spreadsheets drop manual breaks on a sheet fitted to the page.
    """
    width_pt = sum(ws.column_dimensions[get_column_letter(c)].width * 7 + 5  # pixels, Calibri 11
                   for c in range(1, n_cols + 1)) * 0.75
    scale = max(10, min(100, math.floor(100 * _PAGE_FILL * _PAGE_WIDTH_PT / width_pt)))
    per_page = max(1, math.floor(_PAGE_FILL * _PAGE_HEIGHT_PT / (_ROW_PT * scale / 100)))
    ws.page_setup.scale = scale
    pages, top = 1, 1
    while last_row - top + 1 > per_page:
        end = top + per_page - 1  # the last row that fits
        for first, last in keep:
            if top < first <= end < last and last - first < per_page:
                end = first - 1
        ws.row_breaks.append(Break(id=end))
        pages, top = pages + 1, end + 1
    return pages


def _terms_text(po: PurchaseOrder) -> str:
    return po.payment_terms[:1].upper() + po.payment_terms[1:]


def _note(deposit_share: float) -> str:
    """When each payment falls due (SPEC §6) and what the ship-by date asks."""
    if deposit_share >= 1:
        due = "Payment is due on the PO date."
    elif deposit_share <= 0:
        due = "Payment is due on the ship-by date of the lines."
    else:
        due = "The deposit is due on the PO date, the balance of each line on its ship-by date."
    return f"{due} Ship each line to its warehouse by its ship-by date."


def _payment_label(kind: str, share: float) -> str:
    """``Deposit 30 %``, ``Balance 70 %``; ``Payment 100 %`` for one paid in full."""
    return f"{'Payment' if share >= 1 else kind.capitalize()} {_pct(float(share))}"


# ---------------------------------------------------------------- summary


def _cycle_text(days: int) -> str:
    return "daily (each line on its order-by date)" if days == 1 else f"every {days} days from the planning date"


def _write_summary(ws: Worksheet, inst: Instance, orders: list[PurchaseOrder], sheets: list[str]) -> None:
    """Every PO on one sheet, by PO date; a row per PO and quote currency."""
    cfg = inst.campaign.config
    cur = cfg.currency.upper()
    _put(ws, 1, 1, "Purchase orders", font=_TITLE)
    block = [("Buyer", _one_line(cfg.buyer.company or cfg.name), None),
             ("Campaign", cfg.name, None) if cfg.buyer.company else None,
             ("Planning date", inst.planning_date, DATE_FORMAT),
             ("Order cycle", _cycle_text(cfg.po_cycle_days), None),
             ("Incoterms", cfg.buyer.incoterms, None),
             ("Purchase orders", len(orders), COUNT_FORMAT)]
    r = 3
    for label, value, fmt in (row for row in block if row):
        _put(ws, r, 1, label, font=_BOLD)
        _put(ws, r, 2, value, fmt, align="left")
        r += 1
    head = r + 1
    if not orders:
        _put(ws, head, 1, "the plan orders nothing")
        _fit_columns(ws, first_row=head, label_rows=range(3, head))
        return
    rows = []
    for po, sheet in zip(orders, sheets):
        for t in po.totals().itertuples(index=False):
            rows.append((po, sheet, t))
    rows.sort(key=lambda x: (x[0].date, x[0].supplier, x[2].currency))
    foreign = any(t.currency != cur for *_, t in rows)
    cols = [c.format(cur=cur) for c in SUMMARY_COLUMNS if foreign or c != "Value in {cur}"]
    at = {c: i + 1 for i, c in enumerate(cols)}
    for c, title in enumerate(cols, start=1):
        _put(ws, head, c, title, font=_BOLD, fill=_HEAD_FILL, border=_HEAD_BORDER,
             align=_SUMMARY_ALIGN.get(title, "right"))
    r = head + 1
    for po, sheet, t in rows:
        link = _put(ws, r, at["PO number"], po.number, font=_LINK)
        link.hyperlink = Hyperlink(ref=link.coordinate, location="'{}'!A1".format(sheet.replace("'", "''")),
                                   display=po.number)
        _put(ws, r, at["PO date"], po.date, DATE_FORMAT, align="left")
        _put(ws, r, at["Supplier"], po.supplier)
        _put(ws, r, at["Supplier name"], po.supplier_name)
        _put(ws, r, at["Currency"], t.currency, align="center")
        _put(ws, r, at["Lines"], int(t.lines), COUNT_FORMAT)
        _put(ws, r, at["Units"], int(t.units), COUNT_FORMAT)
        _put(ws, r, at["Value"], float(t.value), _money_format(t.currency))
        if foreign:
            _put(ws, r, at[f"Value in {cur}"], round(float(t.campaign_value), 2), _money_format(cur))
        _put(ws, r, at["Deposit"], float(t.deposit), _money_format(t.currency))
        _put(ws, r, at["Payment terms"], _terms_text(po), align="indent")
        r += 1
    for c in range(1, len(cols) + 1):
        _put(ws, r, c, None, border=_TOTAL_BORDER)
    _put(ws, r, 1, "Total", font=_BOLD, border=_TOTAL_BORDER)
    _put(ws, r, at["Lines"], sum(int(x[2].lines) for x in rows), COUNT_FORMAT, font=_BOLD, border=_TOTAL_BORDER)
    _put(ws, r, at["Units"], sum(int(x[2].units) for x in rows), COUNT_FORMAT, font=_BOLD, border=_TOTAL_BORDER)
    codes = {x[2].currency for x in rows}
    if len(codes) == 1:  # one currency throughout: its values add up
        code = codes.pop()
        _put(ws, r, at["Value"], round(sum(float(x[2].value) for x in rows), 2),
             _money_format(code), font=_BOLD, border=_TOTAL_BORDER)
        _put(ws, r, at["Deposit"], round(sum(float(x[2].deposit) for x in rows), 2),
             _money_format(code), font=_BOLD, border=_TOTAL_BORDER)
    if foreign:
        _put(ws, r, at[f"Value in {cur}"], round(sum(float(x[2].campaign_value) for x in rows), 2),
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
    """About how many characters a cell shows (bold ones a tenth wider)."""
    bold = cell.font is not None and cell.font.b
    return math.ceil(_shown_chars(cell) * (1.1 if bold else 1.0))


def _shown_chars(cell) -> int:
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


def _printable(ws: Worksheet, footer: str | None = None, first_page: int | None = None,
               fit: bool = True) -> None:
    """Printed landscape with half-inch side margins; ``fit``: one page wide (as many pages
    down as needed), else at the sheet's own scale. ``first_page`` numbers the sheet's
    printed pages from that number, whatever sheets print before it."""
    ws.sheet_properties.pageSetUpPr.fitToPage = fit
    ws.page_setup.orientation = "landscape"
    if fit:
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    if footer:
        ws.oddFooter.center.text = footer
    if first_page is not None:
        ws.page_setup.firstPageNumber = first_page
        ws.page_setup.useFirstPageNumber = True


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


def _write_payments(xl: pd.ExcelWriter, orders: list[PurchaseOrder], currency: str) -> None:
    """One row per purchase order × payment, by supplier and due date: supplier, PO
    number, kind, share, due, amount and currency (the supplier's; the PO sheet's
    amount, to the cent), and the amount in the campaign currency when any supplier
    quotes in another one."""
    own = currency.upper()
    columns = ["supplier", "po_number", "kind", "share", "due", "amount", "currency"]
    parts = [po.payments.assign(supplier=po.supplier, po_number=po.number) for po in orders]
    payments = (pd.concat(parts, ignore_index=True) if parts
                else pd.DataFrame(columns=columns + ["value"]))
    payments["kind_order"] = payments["kind"].map({"deposit": 0, "balance": 1})
    payments = payments.sort_values(["supplier", "due", "kind_order", "po_number", "currency"],
                                    kind="stable").reset_index(drop=True)
    rows = payments[columns].copy()
    rows["share"] = rows["share"].astype(float)
    rows["amount"] = rows["amount"].astype(float)
    in_own = f"amount in {currency}"
    foreign = bool((payments["currency"] != own).any())
    if foreign:
        rows[in_own] = _in_campaign_currency(payments, own)
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


def _in_campaign_currency(payments: pd.DataFrame, own: str) -> list[float]:
    """Each payment in the campaign currency, to the cent: a payment quoted in it is its
    own amount; the others of a supplier are the differences of their running total
    (``value``) rounded to the cent, so that what a supplier is paid adds up to its
    purchase value (cash.csv's deposits and balances) to the cent."""
    out, running = [], {}
    for supplier, code, amount, value in zip(payments["supplier"], payments["currency"],
                                             payments["amount"], payments["value"]):
        if code == own:
            out.append(float(amount))
            continue
        before = running.get(supplier, 0.0)
        running[supplier] = before + float(value)
        out.append(round(round(running[supplier], 2) - round(before, 2), 2))
    return out


def _money_format(code: str) -> str:
    """An Excel number format showing the currency after the amount: ``#,##0.00 "USD"``."""
    literal = "".join(ch for ch in str(code) if ch not in '"\\')
    return f'#,##0.00 "{literal}"'


def _price_format(code: str) -> str:
    """A unit price: two decimals, up to four when the quote has them (``0.0125 USD``)."""
    literal = "".join(ch for ch in str(code) if ch not in '"\\')
    return f'#,##0.00## "{literal}"'
