"""Measurement: responses within a window, lift against the holdout, ROI, charts.

    responses.py   units (one step of one enrolment) and who responded, from the ledger
    statistics.py  Newcombe and Welch intervals (statsmodels); "lift unknown" when too small
    tables.py      rows per cadence, step and variant, and the global holdout; JSON
    text.py        the terminal report
    charts.py      PNG charts (matplotlib, Agg)
    html.py        one self-contained HTML file

statsmodels and matplotlib take seconds to import: only the modules that need them
import them, so `rapport` commands that never report stay quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.reporting.responses import Scope, load_units

if TYPE_CHECKING:
    from engine.config import Report
    from engine.history.db import Database
    from engine.reporting.tables import MeasurementReport

__all__ = ["Scope", "load_units", "measure"]


def measure(db: Database, scope: Scope, settings: Report) -> MeasurementReport:
    """Units from the ledger, then the tables: what every output format starts from."""
    from engine.reporting.tables import build_report

    return build_report(load_units(db, scope, settings), scope, settings)
