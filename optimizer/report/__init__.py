"""What users see: report tables, figures and HTML, the notebook runner, the purchase-order workbook.

The notebooks use this package as one namespace (``from optimizer import report``):
tables (:mod:`~optimizer.report.tables`), figures (:mod:`~optimizer.report.figures`:
profit waterfall and cash curve, allocation, timeline, risk, frontier),
display helpers (:mod:`~optimizer.report.html`), the planning step of the campaign
notebook (:func:`~optimizer.report.notebook_runner.plan_into`) and the rule-of-thumb
baseline (:mod:`optimizer.evaluate.rule_of_thumb`).
"""

from optimizer.evaluate.rule_of_thumb import SAFETY_Z, rule_of_thumb, rule_of_thumb_units
from optimizer.report.decision import (
    action_list_html,
    budget_advice,
    frontier_note,
    load_frontier,
    orders_due,
    previous_summary,
    summary_cards,
)
from optimizer.report.explorer_panel import show_explorer, what_if_kpis
from optimizer.report.figures import (
    allocation_by_mode_figure,
    allocation_by_warehouse_figure,
    cash_curve_figure,
    frontier_figures,
    pace_figure,
    profit_waterfall_figure,
    simulated_profit_figure,
    timeline_figure,
)
from optimizer.report.html import (
    TOP_ROWS,
    appendix_html,
    changes_html,
    figure_html,
    show_figure,
    show_html,
    show_table,
    table_html,
    title_html,
)
from optimizer.report.monitoring import flag_table, monitor_facts
from optimizer.report.notebook_runner import PACKAGE_ROOT, plan_into
from optimizer.report.tables import (
    abc_table,
    allocation,
    cash_limit_table,
    changes_since,
    compare_with_rule_of_thumb,
    demand_shapes,
    forecast_audit,
    forecast_audit_table,
    forecast_note,
    forecast_summary,
    headline_kpis,
    kpi_table,
    payment_schedule,
    purchase_orders,
    rule_breaches,
    run_facts,
    run_files,
    shipping_plan,
    simulate,
    simulation_summary,
    supplier_payments,
    supplier_summary,
    timeline,
    unreachable,
    unserved_table,
)
from optimizer.report.two_stage import two_stage_html
from optimizer.report.workbook import write_purchase_orders
from optimizer.workflows.frontier import read_frontier

__all__ = [
    "two_stage_html",
    "TOP_ROWS", "action_list_html", "budget_advice", "frontier_note", "load_frontier", "read_frontier", "appendix_html", "changes_html", "orders_due", "previous_summary",
    "summary_cards",
    "PACKAGE_ROOT", "SAFETY_Z", "show_explorer", "what_if_kpis", "write_purchase_orders", "abc_table", "allocation", "allocation_by_mode_figure", "allocation_by_warehouse_figure",
    "cash_curve_figure", "cash_limit_table", "changes_since", "compare_with_rule_of_thumb", "demand_shapes", "figure_html", "flag_table", "forecast_audit",
    "forecast_audit_table", "forecast_note", "forecast_summary", "frontier_figures", "headline_kpis",
    "kpi_table", "monitor_facts", "pace_figure", "payment_schedule", "plan_into", "profit_waterfall_figure", "purchase_orders", "rule_breaches",
    "rule_of_thumb", "rule_of_thumb_units", "run_facts", "run_files", "shipping_plan",
    "show_figure", "show_html", "show_table", "simulate", "simulated_profit_figure", "simulation_summary",
    "supplier_payments", "supplier_summary", "table_html", "timeline", "timeline_figure", "title_html", "unreachable",
    "unserved_table",
]
