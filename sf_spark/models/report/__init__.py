"""The training report: one self-contained HTML file per training, figures first.

Everything in it is an aggregate over firm-months (score histograms, counts per month, metrics
by region or NAF section, feature importances), so the file travels like the run's metadata:
no firm identifier enters it, and inputs that could carry one are refused. Figures are drawn on
matplotlib's Agg canvas (no display, no pyplot state) and embedded as base64 PNG; the page
needs no other file and no network.
"""

from __future__ import annotations

from sf_spark.exports import lazy_exports

EXPORTS = {
    "HorizonResult": "data",
    "MIN_GROUP_POSITIVES": "data",
    "ALERT_COLOURS": "figures",
    "MISSING_VALUE_COLOUR": "figures",
    "OTHER_TOPIC_COLOUR": "figures",
    "TOPIC_COLOURS": "figures",
    "VALUE_CMAP": "figures",
    "render_report": "page",
    "write_report": "page",
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
__all__ = sorted(EXPORTS)
