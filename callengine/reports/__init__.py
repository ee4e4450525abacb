"""Read-side services for the dashboard, the calls log and the results (no Flask, no Asterisk).

Views and the CLI parse their input, call one of these functions and render what it returns.
"""

from callengine.reports.calls import CallFilters, CallRow, calls_log
from callengine.reports.dashboard import Dashboard, LiveFigures, dashboard, dashboard_live
from callengine.reports.figures import AreaFigures, Figures
from callengine.reports.live import ChannelUse
from callengine.reports.series import DayOutcomes
from callengine.results import result_rows as results_rows
from callengine.results import results_page

__all__ = [
    "AreaFigures", "CallFilters", "CallRow", "ChannelUse", "Dashboard", "DayOutcomes",
    "Figures", "LiveFigures", "calls_log", "dashboard", "dashboard_live", "results_page",
    "results_rows",
]
