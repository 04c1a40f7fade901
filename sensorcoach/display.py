"""Plain-text rendering of an analysis for the terminal."""

from __future__ import annotations

from .results import Analysis


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
