"""Comparison of an analysed session against its plan: sets, reps, rest, tempo and faults.

What is judged, and with which tolerances (module constants, stated in the output):

* **Reps per set**: full reps done (partial reps are listed, never counted) against the plan.
  A set is ``met`` when it has at least the planned full reps, ``short`` otherwise;
  planned sets that never happened are ``missing``, extra detected sets are ``extra``
  (detected sets are aligned with the planned ones in order, so that a stray one-rep
  "set" - unracking, a warm-up single - does not shift every set after it).
* **Rest**: the gap between the previous planned set's end (bottom of its last rep) and
  this set's start, against the plan's ``rest_s``; too short when more than
  :data:`REST_TOL_S` short.
* **Tempo**, per full rep of the planned sets, against the prescription
  eccentric-bottom-concentric-top: the top pause must be held at least the prescribed
  time minus :data:`TOP_PAUSE_TOL_S`;
  the eccentric must take at least the prescribed time minus :data:`ECCENTRIC_TOL_S`;
  when the prescription has a bottom pause, the time at the bottom before each rep after
  the first must be at least that minus :data:`BOTTOM_PAUSE_TOL_S`. The concentric is not
  judged (driving up faster than prescribed is never a fault).
* **Velocity** (when reps carry ``mean_velocity_mps``, i.e. on a bar mount): the first full
  rep's mean velocity and the loss across the set, ``(first - last) / first`` in percent.
* **Faults**: the detector's flags, plus the tempo misses above, each tallied with the
  coaching cue that fixes it; plus plan-level cues (missed reps, missing sets, rest too short).

Single-leg plans prescribe reps per side: each side is expected as a set of its own (the
switch between sides is not judged as rest). When the detector merged both sides into one set
(short switch), a set counts as both sides with twice the reps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .consts import FLAG_BOUNCE, FLAG_FAST_ECCENTRIC, FLAG_NO_TOP_PAUSE, FLAG_PARTIAL_RANGE
from .plans import Plan, plan_for
from .results import (
    Analysis,
    FaultTally,
    RepResult,
    SetResult,
    _r,  # one rounding rule for the JSON
    by_frequency,
)

if TYPE_CHECKING:
    from .plans import Tempo
    from .types import Recording

#: The top pause counts as held when at least the prescribed time minus this, seconds.
TOP_PAUSE_TOL_S = 0.2
#: The eccentric counts as controlled when at least the prescribed time minus this, seconds.
ECCENTRIC_TOL_S = 0.25
#: A prescribed bottom pause counts as held when at least the prescribed time minus this.
BOTTOM_PAUSE_TOL_S = 0.2
#: Rest counts as too short when more than this many seconds shorter than prescribed.
REST_TOL_S = 10.0
#: Velocity loss across a set above which a cue suggests the load is too heavy, percent.
VELOCITY_LOSS_CUE_PCT = 30.0

#: Plan-relative tempo faults (added by the comparison, not by the detector).
FAULT_SHORT_TOP_PAUSE = "short_top_pause"
FAULT_SHORT_ECCENTRIC = "short_eccentric"
FAULT_SHORT_BOTTOM_PAUSE = "short_bottom_pause"

#: The plan-relative tempo faults' cues: (the :class:`~sensorcoach.plans.Tempo` field, the
#: cue with ``{}`` for the prescribed time, what ``{}`` says without a tempo at hand).
_TEMPO_CUES: dict[str, tuple[str, str, str]] = {
    FAULT_SHORT_TOP_PAUSE: ("top_s", "Pause and squeeze at the top: hold it the full {}",
                            "prescribed count"),
    FAULT_SHORT_ECCENTRIC: ("eccentric_s", "Lower under control: take the full {} on the "
                                           "way down", "prescribed time"),
    FAULT_SHORT_BOTTOM_PAUSE: ("bottom_s", "Hold the bottom position (glutes hovering) for "
                                           "the full {} before driving up", "prescribed count"),
}
#: The coaching cue that fixes each fault (see :func:`cue_for`).
CUES: dict[str, str] = {
    FLAG_NO_TOP_PAUSE: "Pause and squeeze at the top for a one-count",
    FLAG_FAST_ECCENTRIC: "Lower under control",
    FLAG_BOUNCE: "Don't bounce off the bottom: let the glutes hover, then drive",
    FLAG_PARTIAL_RANGE: "Drive through the heels until torso and thighs are in line",
    **{f: text.format(generic) for f, (_, text, generic) in _TEMPO_CUES.items()},
}
#: Order in which faults are listed (most important first); unknown flags come after.
_FAULT_ORDER = (FLAG_PARTIAL_RANGE, FLAG_NO_TOP_PAUSE, FAULT_SHORT_TOP_PAUSE,
                FLAG_FAST_ECCENTRIC, FAULT_SHORT_ECCENTRIC, FLAG_BOUNCE,
                FAULT_SHORT_BOTTOM_PAUSE)


def cue_for(fault: str, tempo: Tempo | None = None) -> str:
    """The coaching cue for a fault word ('' when sensorcoach has none).

    Parameters
    ----------
    fault : str
        A detector flag or a plan-relative tempo fault.
    tempo : Tempo, optional
        The prescribed tempo: the tempo faults' cues then name the prescribed time
        (e.g. "Pause and squeeze at the top: hold it the full 1 s"), else the generic
        cue of :data:`CUES`.
    """
    if tempo is not None and fault in _TEMPO_CUES:
        attr, text, _ = _TEMPO_CUES[fault]
        return text.format(f"{getattr(tempo, attr):g} s")
    return CUES.get(fault, "")


def rep_faults(rep: RepResult) -> list[str]:
    """A rep's fault words: its flags once each, ``partial_range`` first for a partial rep
    (also when the detector did not flag it)."""
    faults = list(dict.fromkeys(rep.flags))
    if rep.partial and FLAG_PARTIAL_RANGE not in faults:
        faults.insert(0, FLAG_PARTIAL_RANGE)
    return faults


@dataclass
class RepCheck:
    """One detected rep judged against the prescribed tempo.

    ``*_ok`` are ``None`` where not judged (partial reps; no bottom pause prescribed).
    """

    set_index: int
    index: int
    count: int | None
    partial: bool
    eccentric_s: float
    bottom_before_s: float | None
    concentric_s: float
    top_pause_s: float
    top_pause_ok: bool | None
    eccentric_ok: bool | None
    bottom_pause_ok: bool | None
    faults: list[str] = field(default_factory=list)
    mean_velocity_mps: float | None = None
    rom_m: float | None = None

    @property
    def tempo_ok(self) -> bool | None:
        """All judged tempo phases met (``None`` for a partial rep)."""
        if self.partial:
            return None
        return all(x is not False for x in (self.top_pause_ok, self.eccentric_ok,
                                            self.bottom_pause_ok))

    @property
    def label(self) -> str:
        return f"{self.set_index}.{self.index}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "set": self.set_index, "rep": self.index, "count": self.count,
            "partial": self.partial,
            "eccentric_s": _r(self.eccentric_s), "bottom_before_s": _r(self.bottom_before_s),
            "concentric_s": _r(self.concentric_s), "top_pause_s": _r(self.top_pause_s),
            "top_pause_ok": self.top_pause_ok, "eccentric_ok": self.eccentric_ok,
            "bottom_pause_ok": self.bottom_pause_ok, "tempo_ok": self.tempo_ok,
            "faults": list(self.faults),
            "mean_velocity_mps": _r(self.mean_velocity_mps),
        }


@dataclass
class SetCheck:
    """One planned set (or one side of it) against what was detected.

    ``index`` numbers the planned slots 1..n (extra detected sets continue the numbering);
    ``detected_index`` is the :class:`~sensorcoach.results.SetResult` index, if any.
    """

    index: int
    label: str
    planned_reps: int | None
    done_reps: int
    partial_reps: int
    status: str
    detected_index: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    rest_planned_s: float | None = None
    rest_taken_s: float | None = None
    rest_ok: bool | None = None
    first_velocity_mps: float | None = None
    last_velocity_mps: float | None = None
    velocity_loss_pct: float | None = None
    reps: list[RepCheck] = field(default_factory=list)

    @property
    def tempo_ok_reps(self) -> int:
        return sum(1 for r in self.reps if r.tempo_ok)

    @property
    def missed_reps(self) -> int:
        if self.planned_reps is None:
            return 0
        return max(0, self.planned_reps - self.done_reps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "label": self.label, "detected_set": self.detected_index,
            "status": self.status,
            "planned_reps": self.planned_reps, "done_reps": self.done_reps,
            "partial_reps": self.partial_reps, "missed_reps": self.missed_reps,
            "tempo_ok_reps": self.tempo_ok_reps,
            "start_s": _r(self.start_s), "end_s": _r(self.end_s),
            "rest_planned_s": _r(self.rest_planned_s, 1),
            "rest_taken_s": _r(self.rest_taken_s, 1), "rest_ok": self.rest_ok,
            "first_velocity_mps": _r(self.first_velocity_mps),
            "last_velocity_mps": _r(self.last_velocity_mps),
            "velocity_loss_pct": _r(self.velocity_loss_pct, 1),
            "reps": [r.to_dict() for r in self.reps],
        }


def tally_faults(reps: Iterable[tuple[str, list[str]]], tempo: Tempo | None = None
                 ) -> list[FaultTally]:
    """Tally ``(rep label, fault words)`` pairs: one :class:`FaultTally` per fault with its
    cue (:func:`cue_for`), most important fault first (unknown ones after, by name)."""
    by_fault: dict[str, list[str]] = {}
    for label, faults in reps:
        for f in faults:
            by_fault.setdefault(f, []).append(label)
    order = {f: i for i, f in enumerate(_FAULT_ORDER)}
    return [FaultTally(fault=f, count=len(by_fault[f]), cue=cue_for(f, tempo), reps=by_fault[f])
            for f in sorted(by_fault, key=lambda f: (order.get(f, len(order)), f))]


def cue_lines(faults: list[FaultTally], cmp: PlanComparison | None = None) -> list[str]:
    """What to work on: the plan comparison's cues first, then each fault's cue with how
    often and what it fixes, the most frequent fault first, e.g. ``"Lower under control
    (7 reps: fast eccentric)"`` (the one list the terminal and the HTML report show)."""
    return [*(cmp.cues if cmp is not None else []),
            *(f"{f.cue} ({f.count} rep{'s' if f.count != 1 else ''}: "
              f"{f.fault.replace('_', ' ')})" for f in by_frequency(faults) if f.cue)]


def analysis_faults(analysis: Analysis) -> list[FaultTally]:
    """The detector's faults of a session without a plan, tallied like a comparison's."""
    return tally_faults((f"{s.index}.{r.index}", rep_faults(r))
                        for s in analysis.sets for r in s.reps)


def rep_checks(comparison: PlanComparison | None) -> dict[tuple[int, int], RepCheck]:
    """Each rep's check by ``(set index, rep index)``; empty without a comparison."""
    if comparison is None:
        return {}
    return {(c.set_index, c.index): c for s in comparison.sets for c in s.reps}


@dataclass
class PlanComparison:
    """A session compared with its plan (see the module docstring for the rules)."""

    plan: Plan
    load_kg: float
    sets: list[SetCheck]
    faults: list[FaultTally]
    cues: list[str]
    merged_sides: bool = False

    # --- summary -------------------------------------------------------------------
    @property
    def planned_sets(self) -> list[SetCheck]:
        return [s for s in self.sets if s.planned_reps is not None]

    @property
    def planned_reps(self) -> int:
        return sum(s.planned_reps or 0 for s in self.sets)

    @property
    def done_reps(self) -> int:
        """Full reps done in planned sets (extra sets not included)."""
        return sum(s.done_reps for s in self.planned_sets)

    @property
    def partial_reps(self) -> int:
        return sum(s.partial_reps for s in self.sets)

    @property
    def sets_met(self) -> int:
        return sum(1 for s in self.sets if s.status == "met")

    @property
    def all_sets_met(self) -> bool:
        return all(s.status == "met" for s in self.planned_sets)

    @property
    def full_rep_checks(self) -> list[RepCheck]:
        """Full reps of the planned sets (extra sets are not judged against the plan)."""
        return [r for s in self.planned_sets for r in s.reps if not r.partial]

    @property
    def tempo_compliance(self) -> float | None:
        """Fraction of full reps whose tempo met the prescription (``None``: no reps)."""
        reps = self.full_rep_checks
        if not reps:
            return None
        return sum(1 for r in reps if r.tempo_ok) / len(reps)

    @property
    def tempo_met(self) -> bool:
        reps = self.full_rep_checks
        return bool(reps) and all(r.tempo_ok for r in reps)

    @property
    def rest_ok(self) -> bool:
        return all(s.rest_ok is not False for s in self.sets)

    @property
    def met(self) -> bool:
        """Every planned set done with its reps, every full rep on tempo."""
        return self.all_sets_met and self.tempo_met

    @property
    def volume_kg(self) -> float:
        """Load x full reps of all sets (0 for body-weight plans)."""
        return self.load_kg * sum(s.done_reps for s in self.sets)

    def verdict(self) -> str:
        if self.met:
            return "plan met"
        if self.all_sets_met:
            return "reps met, tempo missed"
        return "plan missed"

    def to_dict(self) -> dict[str, Any]:
        tc = self.tempo_compliance
        return {
            "plan": self.plan.to_dict(),
            "load_kg": _r(self.load_kg, 2),
            "tolerances": {
                "top_pause_s": TOP_PAUSE_TOL_S, "eccentric_s": ECCENTRIC_TOL_S,
                "bottom_pause_s": BOTTOM_PAUSE_TOL_S, "rest_s": REST_TOL_S,
            },
            "summary": {
                "verdict": self.verdict(),
                "met": self.met,
                "planned_sets": len(self.planned_sets),
                "sets_met": self.sets_met,
                "planned_reps": self.planned_reps,
                "done_reps": self.done_reps,
                "partial_reps": self.partial_reps,
                "tempo_compliance": None if tc is None else round(tc, 3),
                "rest_ok": self.rest_ok,
                "volume_kg": _r(self.volume_kg, 1),
                "merged_sides": self.merged_sides,
            },
            "sets": [s.to_dict() for s in self.sets],
            "faults": [f.to_dict() for f in self.faults],
            "cues": list(self.cues),
        }


# --- the comparison -----------------------------------------------------------------------


def _check_rep(rep: RepResult, set_index: int, prev: RepResult | None, plan: Plan) -> RepCheck:
    tempo = plan.tempo
    bottom_before = rep.bottom_before_s
    if bottom_before is None and prev is not None:
        bottom_before = prev.bottom_pause_s
    faults = rep_faults(rep)
    top_ok = ecc_ok = bottom_ok = None
    if not rep.partial:
        top_ok = tempo.top_s == 0 or rep.top_pause_s >= tempo.top_s - TOP_PAUSE_TOL_S
        ecc_ok = tempo.eccentric_s == 0 or rep.eccentric_s >= tempo.eccentric_s - ECCENTRIC_TOL_S
        if tempo.bottom_s > 0 and prev is not None and bottom_before is not None:
            bottom_ok = bottom_before >= tempo.bottom_s - BOTTOM_PAUSE_TOL_S
        if top_ok is False and FLAG_NO_TOP_PAUSE not in faults:
            faults.append(FAULT_SHORT_TOP_PAUSE)
        if ecc_ok is False and FLAG_FAST_ECCENTRIC not in faults:
            faults.append(FAULT_SHORT_ECCENTRIC)
        if bottom_ok is False and FLAG_BOUNCE not in faults:
            faults.append(FAULT_SHORT_BOTTOM_PAUSE)
    return RepCheck(
        set_index=set_index, index=rep.index, count=rep.count, partial=rep.partial,
        eccentric_s=rep.eccentric_s, bottom_before_s=bottom_before,
        concentric_s=rep.concentric_s, top_pause_s=rep.top_pause_s,
        top_pause_ok=top_ok, eccentric_ok=ecc_ok, bottom_pause_ok=bottom_ok,
        faults=faults, mean_velocity_mps=rep.mean_velocity_mps, rom_m=rep.rom_m,
    )


def set_velocity(s: SetResult) -> tuple[float | None, float | None, float | None]:
    """First and last full rep's mean velocity (m/s, finite ones only) and the loss
    between them (% of the first; None with fewer than two)."""
    v = [r.mean_velocity_mps for r in s.full_reps
         if r.mean_velocity_mps is not None and math.isfinite(r.mean_velocity_mps)]
    if not v:
        return None, None, None
    first, last = v[0], v[-1]
    loss = (first - last) / first * 100.0 if len(v) >= 2 and first > 0 else None
    return first, last, loss


def _slots(plan: Plan, detected: list[SetResult]) -> tuple[list[tuple[str, int, bool]], bool]:
    """Planned slots: (label, reps, rest judged before it), and whether sides are merged."""
    if not plan.per_side:
        return [(f"Set {i}", plan.reps, i > 1) for i in range(1, plan.sets + 1)], False
    full = sorted(len(s.full_reps) for s in detected)
    merged = bool(full) and len(detected) <= plan.sets and full[len(full) // 2] > 1.5 * plan.reps
    if merged:
        return [(f"Set {i} (both sides)", 2 * plan.reps, i > 1)
                for i in range(1, plan.sets + 1)], True
    slots = []
    for i in range(1, plan.sets + 1):
        slots.append((f"Set {i} side 1", plan.reps, i > 1))
        slots.append((f"Set {i} side 2", plan.reps, False))
    return slots, False


def _align(planned: list[int], done: list[int]) -> list[tuple[int | None, int | None]]:
    """Align planned sets with detected sets, in order (edit-distance alignment).

    Returns pairs ``(slot, detected)``; ``(slot, None)`` is a missing set, ``(None, j)`` an
    extra one. Matching costs the rep difference, a missing set its planned reps, an extra
    set its reps plus one: a stray one-rep "set" (unracking, a warm-up single) becomes an
    extra set instead of shifting every set after it. Ties put extra and missing sets last.
    """
    n, m = len(planned), len(done)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            c = cost[i][j]
            if c == inf:
                continue
            if i < n and j < m:
                v = c + abs(done[j] - planned[i])
                cost[i + 1][j + 1] = min(cost[i + 1][j + 1], v)
            if j < m:
                cost[i][j + 1] = min(cost[i][j + 1], c + done[j] + 1)
            if i < n:
                cost[i + 1][j] = min(cost[i + 1][j], c + planned[i])
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        c = cost[i][j]
        if j and cost[i][j - 1] + done[j - 1] + 1 == c:
            pairs.append((None, j - 1))
            j -= 1
        elif i and cost[i - 1][j] + planned[i - 1] == c:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


def compare_recording(analysis: Analysis, rec: Recording, plan_arg: str | None = None
                      ) -> PlanComparison | None:
    """The comparison with the plan that applies to a recording (``--plan NAME|FILE``, else
    its ``plan`` metadata: :func:`sensorcoach.plans.plan_for`), at the recording's load;
    its ``plan`` is that plan. ``None`` when no plan applies."""
    plan = plan_for(plan_arg, rec.meta)
    return None if plan is None else compare(analysis, plan, load_kg=rec.load_kg)


def analyze_against_plan(path: str, mount: str | None, plan_arg: str | None = None
                         ) -> tuple[Analysis, Recording, PlanComparison | None]:
    """``sensorcoach analyze`` of one recording: the analysis, the recording and the
    comparison with the plan that applies (:func:`compare_recording`), which also goes into
    the analysis JSON as ``plan_comparison``."""
    from .pipeline import analyze_file

    analysis, rec = analyze_file(path, mount=mount)
    comparison = compare_recording(analysis, rec, plan_arg)
    if comparison is not None:
        analysis.extra["plan_comparison"] = comparison.to_dict()
    return analysis, rec, comparison


def compare(analysis: Analysis, plan: Plan, *, load_kg: float | None = None) -> PlanComparison:
    """Compare an analysed session with the plan it was meant to follow.

    Parameters
    ----------
    analysis : Analysis
        The detector's result for the session.
    plan : Plan
        The prescription.
    load_kg : float, optional
        The load actually used (e.g. the recording's ``load_kg`` metadata); defaults to the
        plan's load.

    Returns
    -------
    PlanComparison
    """
    detected = [s for s in analysis.sets if s.reps]
    slots, merged = _slots(plan, detected)
    checks: list[SetCheck] = []
    prev_planned: SetResult | None = None
    prev_any: SetResult | None = None
    n_extra = 0
    for k, (slot_i, det_j) in enumerate(_align([p for _, p, _ in slots],
                                               [len(d.full_reps) for d in detected]), start=1):
        det = detected[det_j] if det_j is not None else None
        if slot_i is not None:
            label, planned, rest_judged = slots[slot_i]
        else:
            n_extra += 1
            label, planned, rest_judged = f"Extra set {n_extra}", None, False
        if det is None:
            checks.append(SetCheck(index=k, label=label, planned_reps=planned, done_reps=0,
                                   partial_reps=0, status="missing"))
            continue
        reps: list[RepCheck] = []
        prev_rep: RepResult | None = None
        for r in det.reps:
            reps.append(_check_rep(r, det.index, prev_rep, plan))
            prev_rep = r
        done = len(det.full_reps)
        if planned is None:
            status = "extra"
        else:
            status = "met" if done >= planned else "short"
        # rest: since the previous planned set (a stray movement in the rest is no set)
        prev = prev_planned if planned is not None else prev_any
        rest_taken = rest_planned = rest_ok = None
        if prev is not None:
            rest_taken = det.start_s - prev.end_s
            if rest_judged:
                rest_planned = plan.rest_s
                rest_ok = rest_taken >= plan.rest_s - REST_TOL_S
        first_v, last_v, loss = set_velocity(det)
        checks.append(SetCheck(
            index=k, label=label, planned_reps=planned, done_reps=done,
            partial_reps=len(det.partial_reps), status=status, detected_index=det.index,
            start_s=det.start_s, end_s=det.end_s, rest_planned_s=rest_planned,
            rest_taken_s=rest_taken, rest_ok=rest_ok, first_velocity_mps=first_v,
            last_velocity_mps=last_v, velocity_loss_pct=loss, reps=reps,
        ))
        prev_any = det
        if planned is not None:
            prev_planned = det

    load = plan.load_kg if load_kg is None else float(load_kg)
    faults = tally_faults(((r.label, r.faults) for s in checks for r in s.reps), plan.tempo)
    cues = _plan_cues(checks, plan, load)
    return PlanComparison(plan=plan, load_kg=load, sets=checks, faults=faults, cues=cues,
                          merged_sides=merged)


def _plan_cues(checks: list[SetCheck], plan: Plan, load_kg: float) -> list[str]:
    cues = []
    load = f" at {load_kg:g} kg" if load_kg else ""
    missing = [s for s in checks if s.status == "missing"]
    short = [s for s in checks if s.status == "short"]
    planned = [s for s in checks if s.planned_reps is not None]
    if missing:
        cues.append(f"Only {len(planned) - len(missing)} of {len(planned)} planned sets done: "
                    f"finish every set before adding load")
    if short:
        which = ", ".join(f"{s.label.lower()} ({s.done_reps}/{s.planned_reps})" for s in short)
        cues.append(f"Missed reps in {which}: repeat {plan.sets}x{plan.reps}{load} next "
                    f"session")
    too_short = [s for s in checks if s.rest_ok is False]
    if too_short:
        which = ", ".join(f"{s.rest_taken_s:.0f} s before {s.label.lower()}" for s in too_short)
        cues.append(f"Rest the full {plan.rest_s:g} s between sets (only {which})")
    slow = [s for s in checks if s.velocity_loss_pct is not None
            and s.velocity_loss_pct > VELOCITY_LOSS_CUE_PCT]
    if slow:
        which = ", ".join(f"{s.label.lower()} -{s.velocity_loss_pct:.0f}%" for s in slow)
        cues.append(f"Bar speed dropped more than {VELOCITY_LOSS_CUE_PCT:g}% ({which}): "
                    f"keep every rep crisp, the load may be too heavy today")
    return cues
