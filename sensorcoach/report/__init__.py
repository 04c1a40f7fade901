"""Where the report is drawn: the HTML session report, its figures and the per-rep CSV.

* :func:`write_html_report` (:mod:`.html`): one self-contained HTML file;
* :mod:`.figures`: the matplotlib figures as PNG bytes (Agg, no pyplot);
* :func:`write_csv` (:mod:`.csvout`): one row per rep.

matplotlib is only imported when a figure is drawn.
"""

from __future__ import annotations

from .csvout import write_csv
from .html import render_html, write_html_report

__all__ = ["render_html", "write_csv", "write_html_report"]
