"""In-campaign monitoring: actual sales against the plan, flags, and a top-up re-plan.

:func:`monitor_campaign` (:mod:`~optimizer.monitor.campaign_monitor`) is the step;
:mod:`~optimizer.monitor.actuals` reads its inputs, :mod:`~optimizer.monitor.pace`
judges the pace and :mod:`~optimizer.monitor.topup` derives the top-up campaign.
"""

from optimizer.monitor.campaign_monitor import MonitorResult, default_monitor_dir, monitor_campaign, write_monitor
from optimizer.monitor.pace import Thresholds

__all__ = ["MonitorResult", "Thresholds", "default_monitor_dir", "monitor_campaign", "write_monitor"]
