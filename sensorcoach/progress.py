"""Progress over weeks and the next session by progressive overload.

:func:`weekly_progress` aggregates the logged sessions per ISO week (Monday to Sunday, UTC):
sessions, full reps, volume (load x full reps), top load, tempo compliance (sessions with a
plan) and the mean first-rep velocity at a given load (bar mount). :func:`plot_progress`
draws them (PNG, or an HTML page with the PNG and the table).

:func:`next_session` proposes the next session from the athlete's last session on the plan:

* every planned set done and every rep on tempo: progress by the plan's rule - ``load``
  adds ``increment_kg`` (moving on to ``next_plan`` past ``max_load_kg``), ``reps`` adds
  ``rep_increment`` per set up to ``target_reps`` and then moves on to ``next_plan``;
* otherwise: repeat the same prescription;
* in every case: what to work on from the last session (at most four cues): its plan-level
  cues (missed reps, rest too short, bar speed dropping) first, then the cue of each fault,
  the most frequent fault first.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .errors import PlanError
from .plans import Plan, load_plan, parse_plan
from .store import SessionRow, StoreError, history


@dataclass
class WeekStats:
    """One ISO week of training."""

    week_start: str
    sessions: int
    full_reps: int
    volume_kg: float
    top_load_kg: float
    tempo_compliance: float | None
    velocity_mps: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _week_start(row: SessionRow) -> str:
    d = row.started.date()
    return (d - timedelta(days=d.weekday())).isoformat()


def reference_load(rows: list[SessionRow]) -> float | None:
    """The load most sessions with a velocity were done at (the velocity reference)."""
    counts: dict[float, int] = {}
    for r in rows:
        if r.first_velocity_mps is not None and r.load_kg:
            counts[r.load_kg] = counts.get(r.load_kg, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda k: (counts[k], k))


def weekly_progress(rows: list[SessionRow], *, velocity_load_kg: float | None = None
                    ) -> list[WeekStats]:
    """Aggregate sessions per week; velocity only from sessions at ``velocity_load_kg``."""
    if velocity_load_kg is None:
        velocity_load_kg = reference_load(rows)
    weeks: dict[str, list[SessionRow]] = {}
    for r in rows:
        weeks.setdefault(_week_start(r), []).append(r)
    out = []
    for wk in sorted(weeks):
        rs = weeks[wk]
        tc = [r.tempo_compliance for r in rs if r.tempo_compliance is not None]
        vel = [r.first_velocity_mps for r in rs if r.first_velocity_mps is not None
               and velocity_load_kg is not None and r.load_kg is not None
               and math.isclose(r.load_kg, velocity_load_kg)]
        out.append(WeekStats(
            week_start=wk, sessions=len(rs), full_reps=sum(r.full_reps for r in rs),
            volume_kg=sum(r.volume_kg for r in rs),
            top_load_kg=max((r.load_kg or 0.0) for r in rs),
            tempo_compliance=sum(tc) / len(tc) if tc else None,
            velocity_mps=sum(vel) / len(vel) if vel else None,
        ))
    return out


def week_offsets(weeks: list[WeekStats]) -> list[int]:
    """Each week's position on the progress plots: weeks since the first one, so a week
    without training leaves a gap."""
    if not weeks:
        return []
    first = date.fromisoformat(weeks[0].week_start)
    return [(date.fromisoformat(w.week_start) - first).days // 7 for w in weeks]


def _progress_png(weeks: list[WeekStats], title: str, velocity_load_kg: float | None) -> bytes:
    import numpy as np

    from .report.figures import _figure, _png

    fig, axes = _figure(10.0, 6.5, nrows=2, ncols=2, sharex=True)
    x = np.array(week_offsets(weeks))
    labels = [w.week_start for w in weeks]

    def series(attr):
        return np.array([np.nan if getattr(w, attr) is None else getattr(w, attr)
                         for w in weeks], dtype=float)

    ax = axes[0, 0]
    vol = series("volume_kg")
    if np.nansum(vol) > 0:
        ax.bar(x, vol, color="#5e35b1")
        ax.set_ylabel("volume (kg x reps)")
    else:
        ax.bar(x, series("full_reps"), color="#5e35b1")
        ax.set_ylabel("full reps (body weight)")
    ax.set_title("Volume per week", fontsize=10, loc="left")
    ax = axes[0, 1]
    ax.plot(x, series("top_load_kg"), marker="o", color="#00897b")
    ax.set_ylabel("top load (kg)")
    ax.set_title("Load", fontsize=10, loc="left")
    ax = axes[1, 0]
    tc = series("tempo_compliance") * 100
    ax.plot(x, tc, marker="o", color="#fb8c00")
    ax.set_ylim(0, 105)
    ax.set_ylabel("reps on tempo (%)")
    ax.set_title("Tempo compliance (sessions with a plan)", fontsize=10, loc="left")
    ax = axes[1, 1]
    vel = series("velocity_mps")
    if np.isfinite(vel).any():
        ax.plot(x, vel, marker="o", color="#1e88e5")
        lo, hi = float(np.nanmin(vel)), float(np.nanmax(vel))
        ax.set_ylim(max(0.0, lo - 0.1), hi + 0.1)
        ax.set_ylabel("first-rep velocity (m/s)")
    else:
        ax.text(0.5, 0.5, "no bar velocities logged", ha="center", va="center",
                transform=ax.transAxes, color="#757575")
        ax.set_yticks([])  # no scale without data
    at = f" at {velocity_load_kg:g} kg" if velocity_load_kg else ""
    ax.set_title(f"Velocity{at}", fontsize=10, loc="left")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in axes[1]:
        ax.set_xticks(x, labels, rotation=45, ha="right")
        ax.set_xlabel("week starting")
    fig.suptitle(title, fontsize=12)
    return _png(fig)


def plot_progress(db: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
                  athlete: str | None = None, velocity_load_kg: float | None = None) -> Path:
    """Draw weekly volume, load, tempo compliance and velocity at a load.

    ``out_path`` ending in ``.html`` writes a self-contained page (figure and table),
    anything else a PNG.

    Raises
    ------
    StoreError
        No ``athlete`` given and the history holds several.
    """
    rows = history(db, athlete)
    names = _athletes_of(rows, athlete)
    if velocity_load_kg is None:
        velocity_load_kg = reference_load(rows)
    weeks = weekly_progress(rows, velocity_load_kg=velocity_load_kg)
    who = athlete or ", ".join(names) or "nobody yet"
    title = f"Hip thrust progress: {who}"
    png = _progress_png(weeks, title, velocity_load_kg)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".html", ".htm"):
        from .report.html import _e, _f, _img

        body = "".join(
            f"<tr><td>{_e(w.week_start)}</td><td>{w.sessions}</td><td>{w.full_reps}</td>"
            f"<td>{w.volume_kg:g}</td><td>{w.top_load_kg:g}</td>"
            f"<td>{_f(w.tempo_compliance, '.0%')}</td><td>{_f(w.velocity_mps, '.2f')}</td>"
            "</tr>" for w in weeks)
        out.write_text(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>body{{font-family:sans-serif;max-width:1100px;"
            "margin:24px auto}table{border-collapse:collapse}td,th{padding:4px 10px;"
            "border-bottom:1px solid #ddd;text-align:right}img{max-width:100%}</style>"
            f"</head><body><h1>{_e(title)}</h1>"
            + _img(png, "progress") +
            "<table><thead><tr><th>Week</th><th>Sessions</th><th>Full reps</th>"
            "<th>Volume (kg)</th><th>Top load (kg)</th><th>On tempo</th>"
            f"<th>Velocity (m/s)</th></tr></thead><tbody>{body}</tbody></table>"
            "</body></html>\n", encoding="utf-8")
    else:
        out.write_bytes(png)
    return out


def _athletes_of(rows: list[SessionRow], athlete: str | None) -> list[str]:
    """The athletes of the sessions; with no ``athlete`` asked for there must be one."""
    names = sorted({r.athlete for r in rows})
    if athlete is None and len(names) > 1:
        raise StoreError(f"the history holds several athletes ({', '.join(names)}): "
                         "say which one (--athlete)")
    return names


# --- next session ----------------------------------------------------------------------


@dataclass
class Proposal:
    """The proposed next session.

    ``action`` is one of ``start`` (no history on this plan), ``add_load``, ``add_reps``,
    ``next_plan``, ``repeat``.
    """

    plan: Plan
    action: str
    reason: str
    cues: list[str] = field(default_factory=list)
    based_on_session: int | None = None

    def summary(self) -> str:
        return f"Next: {self.plan.summary()}  [{self.action.replace('_', ' ')}: {self.reason}]"

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "action": self.action, "reason": self.reason,
                "cues": list(self.cues), "based_on_session": self.based_on_session,
                "summary": self.summary()}


def _round_load(x: float) -> float:
    return round(x * 4) / 4  # quarter kilos: no float dust like 102.49999


def _last_on_plan(rows: list[SessionRow], plan: Plan | None) -> SessionRow | None:
    rows = [r for r in rows if r.plan_name is not None]
    if plan is not None:
        rows = [r for r in rows if r.plan_name == plan.name]
    return rows[-1] if rows else None


def _moved_on(plan: Plan, reason: str, based_on: int, cues: list[str]) -> Proposal:
    assert plan.progression.next_plan is not None
    try:
        nxt = load_plan(plan.progression.next_plan)
    except PlanError as exc:
        raise PlanError(f"plan {plan.name!r}: next_plan: {exc}") from None
    return Proposal(plan=nxt, action="next_plan",
                    reason=f"{reason}; move on to {nxt.name}", cues=cues,
                    based_on_session=based_on)


def next_session(db: str | os.PathLike[str], athlete: str | None, plan: Plan | None = None
                 ) -> Proposal:
    """Propose the next session for ``athlete`` on ``plan`` (see the module docstring).

    Without ``plan`` the plan of the athlete's most recent session with a plan is used.

    Raises
    ------
    PlanError
        No plan given and no session with a plan in the history.
    """
    rows = history(db, athlete)
    _athletes_of(rows, athlete)  # as plot_progress: one athlete, or the one asked for
    last = _last_on_plan(rows, plan)
    if last is None:
        if plan is None:
            who = f" for {athlete}" if athlete else ""
            raise PlanError(f"no session with a plan logged{who}: give --plan")
        return Proposal(plan=plan, action="start",
                        reason="no session on this plan logged yet: start as prescribed")
    # the prescription of the last session (its plan as stored, at the load used)
    base = parse_plan(last.plan_toml or "", source="builtin") if last.plan_toml else plan
    assert base is not None
    if plan is not None:
        base = replace(plan, reps=base.reps)
    if last.load_kg is not None:
        base = replace(base, load_kg=float(last.load_kg))
    cues = list(dict.fromkeys(last.cues))[:4]
    prog = base.progression
    sid = last.id
    if not last.met:
        why = []
        if last.sets_met is not None and last.planned_sets and last.sets_met < last.planned_sets:
            why.append(f"{last.sets_met} of {last.planned_sets} sets met")
        if last.tempo_compliance is not None and last.tempo_compliance < 1:
            why.append(f"{last.tempo_compliance:.0%} of reps on tempo")
        reason = ", ".join(why) or "plan not met"
        return Proposal(plan=base, action="repeat", reason=f"{reason} last time: repeat",
                        cues=cues, based_on_session=sid)
    if prog.kind == "load":
        new = _round_load(base.load_kg + prog.increment_kg)
        if prog.max_load_kg is not None and new > prog.max_load_kg + 1e-9:
            if prog.next_plan:
                return _moved_on(base, f"every set met at {base.load_kg:g} kg (the top load)",
                                 sid, cues)
            return Proposal(plan=base, action="repeat", cues=cues, based_on_session=sid,
                            reason=f"every set met at the plan's top load {base.load_kg:g} kg")
        return Proposal(plan=replace(base, load_kg=new), action="add_load", cues=cues,
                        based_on_session=sid,
                        reason=f"every set and rep on tempo at {base.load_kg:g} kg: "
                               f"+{prog.increment_kg:g} kg")
    if prog.kind == "reps":
        target = prog.target_reps or base.reps
        if base.reps < target:
            reps = min(target, base.reps + prog.rep_increment)
            return Proposal(plan=replace(base, reps=reps), action="add_reps", cues=cues,
                            based_on_session=sid,
                            reason=f"every set of {base.reps} on tempo: {reps} per set")
        if prog.next_plan:
            return _moved_on(base, f"{base.sets}x{base.reps} mastered on tempo", sid, cues)
        return Proposal(plan=base, action="repeat", cues=cues, based_on_session=sid,
                        reason=f"{base.sets}x{base.reps} (the target) met: keep it or "
                               "choose a harder plan")
    if prog.next_plan:
        return _moved_on(base, "plan met", sid, cues)
    return Proposal(plan=base, action="repeat", reason="plan met; it has no progression rule",
                    cues=cues, based_on_session=sid)
