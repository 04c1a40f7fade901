"""Plain-text rendering of an analysis for the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .results import Analysis

if TYPE_CHECKING:
    from .compare import PlanComparison


def _f(x: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def format_analysis(analysis: Analysis) -> str:
    """A readable table: sets, reps, tempo of each rep as E-B-C-T, flags."""
    rec = analysis.recording
    mount = f"{rec.mount} ({rec.mount_source})" if rec.mount else "unknown"
    lines = [
        f"recording: {rec.path or '-'}",
        f"mount: {mount}  rate: {rec.sample_rate_hz:.1f} Hz"
        f"  samples: {rec.samples}  gaps: {rec.gaps}  gyro: {'yes' if rec.has_gyro else 'no'}",
    ]
    if not analysis.sets:
        lines.append("no sets found")
    for s in analysis.sets:
        partial = len(s.partial_reps)
        lines.append("")
        lines.append(f"set {s.index}: {len(s.full_reps)} reps"
                     + (f" + {partial} partial" if partial else "")
                     + f"  ({s.start_s:.1f}-{s.end_s:.1f} s)")
        lines.append(f"  {'rep':>4} {'tempo E-B-C-T':>19} {'ecc':>5} {'bot':>5} {'con':>5} "
                     f"{'top':>5} {'rom_m':>6} {'v_mean':>6} {'v_peak':>6}  flags")
        for r in s.reps:
            label = "p" if r.partial else str(r.count)
            lines.append(
                f"  {label:>4} {r.tempo():>19} {r.eccentric_s:5.2f} {r.bottom_pause_s:5.2f} "
                f"{r.concentric_s:5.2f} {r.top_pause_s:5.2f} {_f(r.rom_m):>6} "
                f"{_f(r.mean_velocity_mps):>6} {_f(r.peak_velocity_mps):>6}  "
                f"{','.join(r.flags)}")
    return "\n".join(lines)


def format_comparison(cmp: PlanComparison) -> str:
    """The session against its plan in a few lines: verdict, sets, reps, tempo, rest, cues."""
    tc = cmp.tempo_compliance
    lines = [
        f"plan {cmp.plan.summary()}"
        + (f" (load used {cmp.load_kg:g} kg)" if cmp.load_kg != cmp.plan.load_kg else "")
        + f": {cmp.verdict()}",
        f"  sets met {cmp.sets_met}/{len(cmp.planned_sets)}, full reps "
        f"{cmp.done_reps}/{cmp.planned_reps}, partial {cmp.partial_reps}, tempo on "
        f"prescription {'-' if tc is None else f'{tc:.0%}'}, rest "
        f"{'ok' if cmp.rest_ok else 'too short'}",
    ]
    from .compare import cue_lines

    lines += [f"  work on: {c}" for c in cue_lines(cmp.faults, cmp)]
    return "\n".join(lines)
