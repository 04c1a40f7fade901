"""One CSV row per rep (partial reps included), for spreadsheets and notebooks.

Columns: ``set, rep, count, partial, start_s, top_s, descent_s, end_s, eccentric_s,
bottom_before_s, concentric_s, top_pause_s, bottom_pause_s, tempo, rom_m,
mean_velocity_mps, peak_velocity_mps, range_fraction, flags`` (flags joined with ``;``),
plus ``top_pause_ok, eccentric_ok, tempo_ok`` when a plan comparison is given. Empty cells
are unknown values.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..compare import rep_checks

if TYPE_CHECKING:
    from ..compare import PlanComparison
    from ..results import Analysis

COLUMNS = (
    "set", "rep", "count", "partial", "start_s", "top_s", "descent_s", "end_s",
    "eccentric_s", "bottom_before_s", "concentric_s", "top_pause_s", "bottom_pause_s",
    "tempo", "rom_m", "mean_velocity_mps", "peak_velocity_mps", "range_fraction", "flags",
)
PLAN_COLUMNS = ("top_pause_ok", "eccentric_ok", "tempo_ok")


def _cell(x: object, nd: int = 3) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def rows(analysis: Analysis, comparison: PlanComparison | None = None) -> list[dict[str, str]]:
    """The CSV rows as dicts of strings."""
    checks = rep_checks(comparison)
    out = []
    for s in analysis.sets:
        for r in s.reps:
            row = {
                "set": s.index, "rep": r.index, "count": r.count, "partial": r.partial,
                "start_s": r.start_s, "top_s": r.top_s, "descent_s": r.descent_s,
                "end_s": r.end_s, "eccentric_s": r.eccentric_s,
                "bottom_before_s": r.bottom_before_s, "concentric_s": r.concentric_s,
                "top_pause_s": r.top_pause_s, "bottom_pause_s": r.bottom_pause_s,
                "tempo": r.tempo(), "rom_m": r.rom_m,
                "mean_velocity_mps": r.mean_velocity_mps,
                "peak_velocity_mps": r.peak_velocity_mps, "range_fraction": r.range_fraction,
                "flags": ";".join(r.flags),
            }
            if comparison is not None:
                c = checks.get((s.index, r.index))
                row["top_pause_ok"] = None if c is None else c.top_pause_ok
                row["eccentric_ok"] = None if c is None else c.eccentric_ok
                row["tempo_ok"] = None if c is None else c.tempo_ok
            out.append({k: _cell(v) for k, v in row.items()})
    return out


def write_csv(analysis: Analysis, out_path: str | os.PathLike[str],
              comparison: PlanComparison | None = None) -> Path | None:
    """Write one row per rep to ``out_path`` (``"-"`` writes to standard output)."""
    cols = COLUMNS + (PLAN_COLUMNS if comparison is not None else ())
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows(analysis, comparison))
    if os.fspath(out_path) == "-":
        sys.stdout.write(buf.getvalue())
        return None
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buf.getvalue(), encoding="utf-8")
    return out
