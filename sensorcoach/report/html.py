"""The session report: one self-contained HTML file (figures embedded as base64 PNG).

Sections (each an element with a stable ``id``): ``summary`` (session against the plan, the
cues to work on), ``sets`` (per-set table), ``timeline`` (signal with each rep's phases),
``tempo`` (per-rep tempo against the prescription), ``velocity`` (bar mount only), ``rom``
(range-of-motion consistency), ``faults`` (each fault with its cue) and ``reps`` (every rep).

All user-supplied text (athlete, notes, file names, plan names) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..compare import (
    ECCENTRIC_TOL_S,
    REST_TOL_S,
    TOP_PAUSE_TOL_S,
    analysis_faults,
    cue_lines,
    rep_checks,
)

if TYPE_CHECKING:
    from ..compare import PlanComparison
    from ..results import Analysis, FaultTally
    from ..types import Recording

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
background:#f5f5f5;color:#212121;line-height:1.4}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:26px}h2{font-size:19px;margin:0 0 10px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:16px 0;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
.meta{color:#616161;font-size:14px}.meta span{margin-right:18px;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}
.card{flex:1 1 150px;border:1px solid #e0e0e0;border-radius:6px;padding:10px 12px}
.card .v{font-size:24px;font-weight:600}
.card .k{font-size:12px;color:#757575;text-transform:uppercase}
.ok{color:#2e7d32}.bad{color:#c62828}.warn{color:#ef6c00}.muted{color:#757575}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #eee;padding:5px 8px;text-align:left}
th{background:#fafafa;font-weight:600}td.n,th.n{text-align:right}
img{max-width:100%;height:auto;display:block;margin:6px 0}
.verdict{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;color:#fff}
.verdict.ok{background:#2e7d32;color:#fff}.verdict.bad{background:#c62828;color:#fff}
.verdict.warn{background:#ef6c00;color:#fff}
ul.cues li{margin:4px 0}.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:14px;height:10px;margin-right:4px;opacity:.6}
details summary{cursor:pointer;font-weight:600}
footer{color:#9e9e9e;font-size:12px;text-align:center;margin:12px 0 24px}
"""


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _f(x: float | None, fmt: str = ".2f", unit: str = "") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:{fmt}}{unit}"


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return f'<p class="muted">No data to draw the {_e(alt)}.</p>'
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _yes_no(ok: bool | None) -> str:
    if ok is None:
        return '<span class="muted">–</span>'
    return '<span class="ok">✓</span>' if ok else '<span class="bad">✗</span>'


def _card(key: str, value: str, cls: str = "") -> str:
    return (f'<div class="card"><div class="k">{_e(key)}</div>'
            f'<div class="v {cls}">{value}</div></div>')


def _meta_line(analysis: Analysis, recording: Recording | None, athlete: str | None) -> str:
    info = analysis.recording
    meta = recording.meta if recording is not None else {}
    who = athlete or meta.get("athlete")
    parts = []
    if who:
        parts.append(f"<span>Athlete: <b>{_e(who)}</b></span>")
    path = info.path or (recording.path if recording is not None else None)
    if path:
        parts.append(f"<span>Recording: {_e(os.path.basename(path))}</span>")
    if meta.get("started_at"):
        parts.append(f"<span>Started: {_e(meta['started_at'])}</span>")
    mount = info.mount or "unknown"
    src = {"metadata": "from the recording", "option": "as given", "inferred": "inferred"}
    how = src.get(info.mount_source)
    parts.append(f"<span>Sensor: {_e(mount)} mount{f' ({how})' if how else ''}</span>")
    dur = info.end_s - info.start_s
    parts.append(f"<span>{info.sample_rate_hz:.0f} Hz, {dur / 60:.1f} min, "
                 f"{info.gaps} gaps</span>")
    if meta.get("load_kg"):
        body_weight = recording.load_kg == 0  # (meta is empty without a recording)
        load = "body weight" if body_weight else f"{_e(meta['load_kg'])} kg"
        parts.append(f"<span>Load: {load}</span>")
    out = f'<p class="meta">{" ".join(parts)}</p>'  # a space: the line can wrap
    notes = meta.get("notes")
    if notes:
        out += f'<p class="meta">Notes: {_e(notes)}</p>'
    return out


def _summary(analysis: Analysis, cmp: PlanComparison | None, faults: list[FaultTally]
             ) -> str:
    full = sum(len(s.full_reps) for s in analysis.sets)
    partial = sum(len(s.partial_reps) for s in analysis.sets)
    out = ['<section id="summary"><h2>Session summary</h2>']
    if cmp is None:
        out.append('<p class="muted">No plan given: the session is shown as detected. '
                   "Use <code>--plan</code> (or a <code>plan</code> line in the recording) "
                   "to compare it with a prescription.</p>")
        out.append('<div class="cards">')
        out.append(_card("sets", str(len(analysis.sets))))
        out.append(_card("full reps", str(full)))
        out.append(_card("partial reps", str(partial), "warn" if partial else ""))
        out.append("</div>")
    else:
        v = cmp.verdict()
        cls = "ok" if cmp.met else ("warn" if cmp.all_sets_met else "bad")
        out.append(f'<p>Plan: <b>{_e(cmp.plan.summary())}</b>'
                   + (f" — load used {cmp.load_kg:g} kg" if cmp.load_kg != cmp.plan.load_kg
                      else "")
                   + f' &nbsp; <span class="verdict {cls}">{_e(v)}</span></p>')
        planned_sets = len(cmp.planned_sets)
        tc = cmp.tempo_compliance
        out.append('<div class="cards">')
        out.append(_card("sets met", f"{cmp.sets_met} / {planned_sets}",
                         "ok" if cmp.all_sets_met else "bad"))
        out.append(_card("full reps", f"{cmp.done_reps} / {cmp.planned_reps}",
                         "ok" if cmp.done_reps >= cmp.planned_reps else "bad"))
        out.append(_card("partial reps", str(cmp.partial_reps), "warn" if partial else ""))
        out.append(_card("tempo on prescription", "–" if tc is None else f"{tc * 100:.0f} %",
                         "ok" if cmp.tempo_met else "bad"))
        out.append(_card("rest", "ok" if cmp.rest_ok else "too short",
                         "ok" if cmp.rest_ok else "warn"))
        if cmp.load_kg:
            out.append(_card("volume", f"{cmp.volume_kg:g} kg"))
        out.append("</div>")
    cues = cue_lines(faults, cmp)
    if cues:
        out.append("<h3>To work on</h3><ul class=\"cues\">")
        out += [f"<li>{_e(c)}</li>" for c in cues]
        out.append("</ul>")
    elif full:
        out.append('<p class="ok">Clean session: nothing to fix.</p>')
    out.append("</section>")
    return "".join(out)


def _sets_table(analysis: Analysis, cmp: PlanComparison | None) -> str:
    out = ['<section id="sets"><h2>Sets</h2><table><thead><tr>']
    if cmp is not None:
        # velocity columns only where there are velocities (bar mount)
        vel = any(s.first_velocity_mps is not None for s in cmp.sets)
        out.append('<th>Set</th><th class="n">Planned</th><th class="n">Done</th>'
                   '<th class="n">Partial</th><th class="n">Rest taken / planned</th>'
                   '<th class="n">Tempo ok</th>'
                   + ('<th class="n">1st-rep velocity</th><th class="n">Velocity loss</th>'
                      if vel else "")
                   + "<th>Status</th></tr></thead><tbody>")
        for s in cmp.sets:
            rest = _f(s.rest_taken_s, ".0f", " s")
            if s.rest_planned_s is not None:
                rest += f" / {s.rest_planned_s:g} s"
            rest_cls = "bad" if s.rest_ok is False else ""
            status_cls = {"met": "ok", "short": "bad", "missing": "bad"}.get(s.status, "warn")
            full = sum(1 for r in s.reps if not r.partial)
            out.append(
                f"<tr><td>{_e(s.label)}</td><td class=n>{_e(s.planned_reps or '–')}</td>"
                f"<td class=n>{s.done_reps}</td><td class=n>{s.partial_reps}</td>"
                f'<td class="n {rest_cls}">{rest}</td>'
                f"<td class=n>{s.tempo_ok_reps} / {full}</td>"
                + (f"<td class=n>{_f(s.first_velocity_mps, '.2f', ' m/s')}</td>"
                   f"<td class=n>{_f(s.velocity_loss_pct, '.0f', ' %')}</td>" if vel else "")
                + f'<td class="{status_cls}">{_e(s.status)}</td></tr>')
    else:
        out.append('<th>Set</th><th class="n">Full reps</th><th class="n">Partial</th>'
                   '<th class="n">Rest before</th><th class="n">Mean tempo (E-B-C-T)</th>'
                   "</tr></thead><tbody>")
        prev = None
        for s in analysis.sets:
            if not s.reps:
                continue
            rest = None if prev is None else s.start_s - prev.end_s
            full = s.full_reps
            if full:
                n = len(full)
                tempo = "-".join(f"{x:.1f}" for x in (
                    sum(r.eccentric_s for r in full) / n,
                    sum(r.bottom_pause_s for r in full) / n,
                    sum(r.concentric_s for r in full) / n,
                    sum(r.top_pause_s for r in full) / n))
            else:
                tempo = "–"
            out.append(f"<tr><td>Set {s.index}</td><td class=n>{len(full)}</td>"
                       f"<td class=n>{len(s.partial_reps)}</td>"
                       f"<td class=n>{_f(rest, '.0f', ' s')}</td><td class=n>{tempo}</td></tr>")
            prev = s
    out.append("</tbody></table></section>")
    return "".join(out)


def _faults(faults: list[FaultTally]) -> str:
    out = ['<section id="faults"><h2>Faults and cues</h2>']
    if not faults:
        out.append('<p class="ok">No faults detected.</p></section>')
        return "".join(out)
    out.append('<table><thead><tr><th>Fault</th><th class="n">Reps</th><th>Which</th>'
               "<th>Cue</th></tr></thead><tbody>")
    for f in faults:
        shown = ", ".join(f.reps[:12]) + (" …" if len(f.reps) > 12 else "")
        out.append(f"<tr><td>{_e(f.fault.replace('_', ' '))}</td><td class=n>{f.count}</td>"
                   f"<td>{_e(shown)}</td><td>{_e(f.cue or '–')}</td></tr>")
    out.append("</tbody></table></section>")
    return "".join(out)


def _reps_table(analysis: Analysis, cmp: PlanComparison | None) -> str:
    checks = rep_checks(cmp)
    out = ['<section id="reps"><details><summary>Every rep</summary><table><thead><tr>'
           '<th>Set.rep</th><th class="n">Count</th><th class="n">Eccentric</th>'
           '<th class="n">Bottom</th><th class="n">Concentric</th><th class="n">Top pause</th>'
           '<th class="n">ROM</th><th class="n">Mean v</th><th>Tempo ok</th><th>Flags</th>'
           "</tr></thead><tbody>"]
    for s in analysis.sets:
        for r in s.reps:
            c = checks.get((s.index, r.index))
            ok = _yes_no(None if c is None else c.tempo_ok)
            count = "partial" if r.partial else (r.count if r.count is not None else "")
            out.append(
                f"<tr><td>{s.index}.{r.index}</td><td class=n>{_e(count)}</td>"
                f"<td class=n>{r.eccentric_s:.2f} s</td>"
                f"<td class=n>{_f(r.bottom_before_s, '.2f', ' s')}</td>"
                f"<td class=n>{r.concentric_s:.2f} s</td><td class=n>{r.top_pause_s:.2f} s</td>"
                f"<td class=n>{_f(None if r.rom_m is None else r.rom_m * 100, '.0f', ' cm')}</td>"
                f"<td class=n>{_f(r.mean_velocity_mps, '.2f', ' m/s')}</td><td>{ok}</td>"
                f"<td>{_e(', '.join(r.flags))}</td></tr>")
    out.append("</tbody></table></details></section>")
    return "".join(out)


def render_html(analysis: Analysis, comparison: PlanComparison | None = None,
                recording: Recording | None = None, *, athlete: str | None = None,
                title: str | None = None) -> str:
    """The report as an HTML string (see :func:`write_html_report`)."""
    from . import figures

    title = title or "Hip thrust session report"
    # the faults with their cues: the comparison's, else the detector's (tallied once)
    faults = comparison.faults if comparison is not None else analysis_faults(analysis)
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        _meta_line(analysis, recording, athlete),
        _summary(analysis, comparison, faults),
        _sets_table(analysis, comparison),
    ]
    signal = ("Black line: magnitude of the measured acceleration (g)." if recording is not None
              else "No recording given: phases only.")
    parts.append(f'<section id="timeline"><h2>Set timeline</h2>'
                 f'<p class="muted">{signal} Reps are numbered by their '
                 "position in the set (set.rep everywhere in this report); P marks a partial "
                 "rep, which is shown but not counted.</p>"
                 + _img(figures.timeline_png(analysis, recording), "set timeline")
                 + "</section>")
    if comparison is not None:
        t = comparison.plan.tempo
        expl = (f"Prescribed tempo {_e(str(t))} (eccentric-bottom-concentric-top). "
                f"A rep is on tempo when the top pause is at least {t.top_s:g} s − "
                f"{TOP_PAUSE_TOL_S:g} s and the eccentric at least {t.eccentric_s:g} s − "
                f"{ECCENTRIC_TOL_S:g} s. Green: met, red: missed.")
    else:
        expl = "No plan: durations only."
    parts.append(f'<section id="tempo"><h2>Tempo per rep</h2><p class="muted">{expl}</p>'
                 + _img(figures.tempo_png(analysis, comparison), "tempo per rep")
                 + "</section>")
    vel = figures.velocity_png(analysis)
    if vel is not None:
        what = "Bar" if analysis.recording.mount == "bar" else "Concentric"
        parts.append(f'<section id="velocity"><h2>{what} velocity</h2><p class="muted">Mean '
                     "concentric velocity per rep; the loss across a set (first to last "
                     "rep) shows fatigue: above about 20–30 % the reps are grinding.</p>"
                     + _img(vel, "velocity per rep") + "</section>")
    parts.append('<section id="rom"><h2>Range of motion</h2><p class="muted">Every full rep '
                 "should reach the same lockout: torso and thighs in line.</p>"
                 + _img(figures.rom_png(analysis), "range of motion") + "</section>")
    parts.append(_faults(faults))
    parts.append(_reps_table(analysis, comparison))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rest = f"; rest too short when more than {REST_TOL_S:g} s short" if comparison else ""
    parts.append(f"<footer>sensorcoach {_e(__version__)} — generated {now}{rest}.</footer>")
    parts.append("</main></body></html>\n")
    return "".join(parts)


def write_html_report(analysis: Analysis, comparison: PlanComparison | None,
                      out_path: str | os.PathLike[str], recording: Recording | None = None,
                      *, athlete: str | None = None, title: str | None = None) -> Path:
    """Write the session report as one self-contained HTML file.

    Parameters
    ----------
    analysis : Analysis
        The detector's result.
    comparison : PlanComparison or None
        The comparison with the plan, if there was one.
    out_path : path
        Where to write (parent directories are created).
    recording : Recording, optional
        The samples, to draw the acceleration magnitude under the rep phases.
    athlete, title : str, optional
        Shown in the header (the athlete defaults to the recording's metadata).

    Returns
    -------
    Path
        The written file.
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(analysis, comparison, recording, athlete=athlete, title=title)
    out.write_text(text, encoding="utf-8")
    return out
