"""The report's figures, drawn with matplotlib's Agg backend and returned as PNG bytes.

Only the object-oriented API (:class:`matplotlib.figure.Figure`) is used: no pyplot, no
global state, safe in threads and headless. matplotlib is imported lazily inside the
functions so that importing :mod:`sensorcoach.report` stays cheap.

Each function returns ``None`` when the analysis holds nothing to draw for it (e.g. no
velocities on a hip mount), so the caller can leave the section out.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

from ..compare import (
    ECCENTRIC_TOL_S,
    TOP_PAUSE_TOL_S,
    VELOCITY_LOSS_CUE_PCT,
    rep_checks,
    set_velocity,
)

if TYPE_CHECKING:
    from ..compare import PlanComparison
    from ..results import Analysis, RepResult, SetResult
    from ..types import Recording

#: Phase colours, used in every figure and in the HTML legend.
PHASE_COLOURS = {
    "concentric": "#4caf50",
    "top pause": "#1e88e5",
    "eccentric": "#fb8c00",
    "bottom pause": "#9e9e9e",
}
OK_COLOUR = "#43a047"
MISS_COLOUR = "#e53935"
PARTIAL_COLOUR = "#8e24aa"
DPI = 110


def _figure(width_in: float, height_in: float, nrows: int = 1, ncols: int = 1, **kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _rep_figure(n_reps: int, height_in: float, nrows: int = 1, **kw):
    """A figure with reps along x: wider for more reps (10 to 14 inches)."""
    return _figure(min(14.0, max(10.0, 0.16 * n_reps + 3)), height_in, nrows, 1, **kw)


def _rep_ticks(ax, xs, labels: list[str], *, rotate: bool = True) -> None:
    """Label the reps along x: at most about 40 labels, turned upright past 12 reps."""
    step = max(1, len(xs) // 40)
    ax.set_xticks(xs[::step], labels[::step], rotation=90 if rotate and len(xs) > 12 else 0,
                  fontsize=7)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _phases(rep: RepResult) -> list[tuple[str, float, float]]:
    out = [("concentric", rep.start_s, rep.top_s), ("top pause", rep.top_s, rep.descent_s),
           ("eccentric", rep.descent_s, rep.end_s)]
    if rep.bottom_pause_s:
        out.append(("bottom pause", rep.end_s, rep.end_s + rep.bottom_pause_s))
    return out


def timeline_png(analysis: Analysis, recording: Recording | None = None, *,
                 margin_s: float = 3.0) -> bytes | None:
    """One panel per set: |acceleration| (g) with each rep's phases shaded.

    Without a recording the panels show the phases only. Partial reps are hatched.
    """
    sets = [s for s in analysis.sets if s.reps]
    if not sets:
        return None
    from matplotlib.patches import Patch

    fig, axes = _figure(11.0, 0.4 + 1.75 * len(sets), nrows=len(sets), ncols=1)
    t = mag = None
    if recording is not None and len(recording.samples):
        t = recording.samples.time_s
        mag = np.linalg.norm(recording.samples.acc_g, axis=1)
    for ax, s in zip(axes[:, 0], sets, strict=True):
        t0, t1 = s.start_s - margin_s, s.end_s + margin_s
        if t is not None:
            i0, i1 = np.searchsorted(t, [t0, t1])
            ax.plot(t[i0:i1] - s.start_s, mag[i0:i1], color="#212121", lw=0.7, zorder=3)
            if i1 > i0:
                lo, hi = float(np.min(mag[i0:i1])), float(np.max(mag[i0:i1]))
                pad = max(0.05, 0.1 * (hi - lo))
                ax.set_ylim(lo - pad, hi + pad)
            ax.set_ylabel("|acc| (g)")
        else:
            ax.set_yticks([])
        for rep in s.reps:
            for name, a, b in _phases(rep):
                ax.axvspan(a - s.start_s, b - s.start_s, color=PHASE_COLOURS[name],
                           alpha=0.35, lw=0, hatch="///" if rep.partial else None, zorder=1)
            label = f"{rep.index}P" if rep.partial else str(rep.index)
            ax.text((rep.start_s + rep.top_s) / 2 - s.start_s, 0.97, label,
                    transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8,
                    color=PARTIAL_COLOUR if rep.partial else "#212121", zorder=4)
        ax.set_xlim(-margin_s, s.end_s - s.start_s + margin_s)
        ax.set_title(f"Set {s.index}: {len(s.full_reps)} reps"
                     + (f" + {len(s.partial_reps)} partial" if s.partial_reps else "")
                     + f"   (starts at {s.start_s:.1f} s)", fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel("time since set start (s)")
    handles = [Patch(color=c, alpha=0.5, label=n) for n, c in PHASE_COLOURS.items()]
    handles.append(Patch(facecolor="white", edgecolor="#555", hatch="///", label="partial"))
    fig.legend(handles=handles, loc="outside upper right", ncols=5, fontsize=8, frameon=False)
    return _png(fig)


def _rep_axis(sets: list[SetResult]):
    """x positions for full reps grouped by set, with a gap between sets."""
    xs, labels, bounds = [], [], []
    x = 0.0
    for s in sets:
        first = x
        for r in s.full_reps:
            xs.append(x)
            labels.append(f"{s.index}.{r.index}")
            x += 1.0
        bounds.append((first, x - 1.0, s.index))
        x += 1.0
    return np.asarray(xs), labels, bounds


def _set_lines(ax, bounds) -> None:
    """A thin line in the gap between sets (bounds from :func:`_rep_axis`)."""
    for _a, b, _idx in bounds[:-1]:
        ax.axvline(b + 1.0, color="#bbb", lw=0.8)


def _set_labels(ax, bounds) -> None:
    for a, b, idx in bounds:
        if b >= a:
            ax.text((a + b) / 2, 1.0, f"set {idx}", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8, color="#555")
    _set_lines(ax, bounds)


def tempo_png(analysis: Analysis, comparison: PlanComparison | None = None) -> bytes | None:
    """Per full rep: top pause and eccentric duration against the prescription.

    Bars are green where the prescription (dashed) minus its tolerance (dotted) was met, red
    where it was not; without a plan all bars are neutral.
    """
    sets = [s for s in analysis.sets if s.full_reps]
    if not sets:
        return None
    xs, labels, bounds = _rep_axis(sets)
    reps = [r for s in sets for r in s.full_reps]
    checks = rep_checks(comparison)
    fig, axes = _rep_figure(len(xs), 4.6, nrows=2, sharex=True)
    panels = [("top pause (s)", "top_pause_s", "top_pause_ok", "top_s", TOP_PAUSE_TOL_S),
              ("eccentric (s)", "eccentric_s", "eccentric_ok", "eccentric_s", ECCENTRIC_TOL_S)]
    set_of = [s.index for s in sets for _ in s.full_reps]
    for ax, (title, attr, ok_attr, tempo_attr, tol) in zip(axes[:, 0], panels, strict=True):
        vals = np.array([getattr(r, attr) for r in reps])
        colours = []
        for si, r in zip(set_of, reps, strict=True):
            c = checks.get((si, r.index))
            ok = None if c is None else getattr(c, ok_attr)
            colours.append("#90a4ae" if ok is None else (OK_COLOUR if ok else MISS_COLOUR))
        ax.bar(xs, vals, width=0.8, color=colours)
        top = float(np.nanmax(vals)) if len(vals) else 1.0
        ymax = max(top * 1.25, 0.5)
        tiny = [(x, c) for x, v, c in zip(xs, vals, colours, strict=True) if v < 0.03 * ymax]
        if tiny:  # a zero-length phase still shows: a marker on the axis
            ax.scatter([x for x, _ in tiny], [0.0] * len(tiny), marker="^", s=28,
                       color=[c for _, c in tiny], zorder=4, clip_on=False)
        if comparison is not None:
            target = getattr(comparison.plan.tempo, tempo_attr)
            ax.axhline(target, color="#212121", ls="--", lw=1,
                       label=f"prescribed {target:g} s")
            if target > 0:
                ax.axhline(target - tol, color="#212121", ls=":", lw=1,
                           label=f"accepted ≥ {target - tol:g} s")
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False)
        ax.set_ylabel(title, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylim(0, ymax)
        _set_labels(ax, bounds)
    ax = axes[-1, 0]
    _rep_ticks(ax, xs, labels)
    ax.set_xlabel("rep (set.rep)")
    ax.set_xlim(-1, (xs[-1] if len(xs) else 0) + 1)
    return _png(fig)


def velocity_png(analysis: Analysis) -> bytes | None:
    """Mean concentric velocity per full rep, with the loss across each set (bar mount)."""
    sets = [s for s in analysis.sets
            if any(r.mean_velocity_mps is not None for r in s.full_reps)]
    if not sets:
        return None
    xs, labels, bounds = _rep_axis(sets)
    v = np.array([np.nan if r.mean_velocity_mps is None else r.mean_velocity_mps
                  for s in sets for r in s.full_reps], dtype=float)
    fig, axes = _rep_figure(len(xs), 3.0)
    ax = axes[0, 0]
    ax.bar(xs, v, width=0.8, color="#5e35b1")
    top = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
    i = 0
    for s in sets:
        n = len(s.full_reps)
        # the loss and its threshold are the comparison's (one definition: the cue and
        # the red label agree, non-finite velocities are skipped alike)
        loss = set_velocity(s)[2]
        if loss is not None:
            xa, xb = xs[i], xs[i + n - 1]
            text = "0%" if round(loss) == 0 else (f"−{loss:.0f}%" if loss > 0 else f"+{-loss:.0f}%")
            ax.annotate(text,
                        xy=((xa + xb) / 2, top * 1.08), ha="center", fontsize=9,
                        color=MISS_COLOUR if loss > VELOCITY_LOSS_CUE_PCT else "#212121")
        i += n
    ax.set_ylim(0, top * 1.3)
    ax.set_ylabel("mean velocity (m/s)", fontsize=9)
    _rep_ticks(ax, xs, labels, rotate=False)
    ax.set_xlabel("rep (set.rep); label above each set: velocity loss first → last rep")
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    _set_lines(ax, bounds)
    ax.set_xlim(-1, xs[-1] + 1)
    return _png(fig)


def rom_png(analysis: Analysis) -> bytes | None:
    """Range of motion per rep (cm, or fraction of the set's typical range) - consistency."""
    reps = [(s.index, r) for s in analysis.sets for r in s.reps]
    use_rom = any(r.rom_m is not None for _, r in reps)
    use_frac = not use_rom and any(r.range_fraction is not None for _, r in reps)
    if not (use_rom or use_frac):
        return None
    vals, xs, colours, labels, bounds = [], [], [], [], []
    x = 0.0
    prev = None
    for si, r in reps:
        if prev is not None and si != prev:
            bounds.append(x)
            x += 1.0
        prev = si
        val = (r.rom_m * 100 if r.rom_m is not None else np.nan) if use_rom else (
            r.range_fraction if r.range_fraction is not None else np.nan)
        vals.append(val)
        xs.append(x)
        colours.append(PARTIAL_COLOUR if r.partial else "#00897b")
        labels.append(f"{si}.{r.index}{'P' if r.partial else ''}")
        x += 1.0
    vals_a = np.asarray(vals, dtype=float)
    fig, axes = _rep_figure(len(xs), 2.8)
    ax = axes[0, 0]
    ax.scatter(xs, vals_a, c=colours, s=22, zorder=3)
    full = np.array([v for v, (_, r) in zip(vals_a, reps, strict=True) if not r.partial])
    full = full[np.isfinite(full)]
    if len(full):
        med = float(np.median(full))
        median = f"median {med:.1f} cm" if use_rom else f"median {med:.2f}"
        ax.axhline(med, color="#00897b", lw=1, ls="--", label=median)
        ax.axhspan(med * 0.9, med * 1.1, color="#00897b", alpha=0.1, label="±10 %")
        cv = float(np.std(full) / np.mean(full) * 100) if np.mean(full) > 0 else float("nan")
        ax.set_title(f"full reps vary by {cv:.0f} % (coefficient of variation); "
                     "purple = partial", fontsize=9, loc="left")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False)
    for b in bounds:
        ax.axvline(b, color="#bbb", lw=0.8)
    ax.set_ylabel("ROM (cm)" if use_rom else "range (fraction)", fontsize=9)
    finite = vals_a[np.isfinite(vals_a)]
    if len(finite):
        ax.set_ylim(0, float(np.max(finite)) * 1.2)
    _rep_ticks(ax, xs, labels)
    ax.set_xlabel("rep (set.rep; P: partial)")
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
