"""Scoring an analysis against ground truth (a simulator's known events).

Used by the tests and by ``analysis/benchmark.py``. Detected reps are matched one-to-one to
true reps by the time of lockout (``top_s``): greedy nearest first, within ``max_dt_s``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .consts import FLAG_PARTIAL_RANGE
from .results import Analysis

EVENTS = ("start_s", "top_s", "descent_s", "end_s")


def load_truth(csv_path: str | Path) -> dict | None:
    """The ``NAME.truth.json`` beside ``NAME.csv``, or ``None``."""
    p = Path(csv_path)
    t = p.with_name(p.name.removesuffix(".gz").removesuffix(".csv") + ".truth.json")
    if not t.exists():
        return None
    return json.loads(t.read_text())


@dataclass
class Score:
    """Per-recording comparison with truth."""

    sets_true: int = 0
    sets_exact: int = 0  # sets whose full-rep count is exactly right
    tp: int = 0  # true full reps counted as full reps
    fp: int = 0  # full reps counted that were no rep, or a partial one
    fn: int = 0  # true full reps not counted (missed, or called partial)
    partial_true: int = 0
    partial_found: int = 0  # true partial reps detected and flagged partial
    errors: dict[str, list[float]] = field(default_factory=lambda: {e: [] for e in EVENTS})
    top_pause_err: list[float] = field(default_factory=list)
    eccentric_err: list[float] = field(default_factory=list)
    pause_ok: list[bool] = field(default_factory=list)  # "top pause >= 1 s" agrees
    rom_err: list[float] = field(default_factory=list)
    vmean_err: list[float] = field(default_factory=list)
    flags_true: dict[str, int] = field(default_factory=dict)
    flags_hit: dict[str, int] = field(default_factory=dict)
    flags_false: dict[str, int] = field(default_factory=dict)

    def merge(self, other: Score) -> None:
        for name in ("sets_true", "sets_exact", "tp", "fp", "fn", "partial_true",
                     "partial_found"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for e in EVENTS:
            self.errors[e].extend(other.errors[e])
        for name in ("top_pause_err", "eccentric_err", "pause_ok", "rom_err", "vmean_err"):
            getattr(self, name).extend(getattr(other, name))
        for name in ("flags_true", "flags_hit", "flags_false"):
            d = getattr(self, name)
            for k, v in getattr(other, name).items():
                d[k] = d.get(k, 0) + v

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _match(det_tops: np.ndarray, true_tops: np.ndarray, max_dt_s: float):
    pairs = []
    if len(det_tops) == 0 or len(true_tops) == 0:
        return pairs
    d = np.abs(det_tops[:, None] - true_tops[None, :])
    used_d, used_t = set(), set()
    for flat in np.argsort(d, axis=None):
        i, j = np.unravel_index(flat, d.shape)
        if d[i, j] > max_dt_s:
            break
        if i in used_d or j in used_t:
            continue
        used_d.add(i)
        used_t.add(j)
        pairs.append((int(i), int(j)))
    return pairs


def score(analysis: Analysis, truth: dict, *, max_dt_s: float = 1.0) -> Score:
    """Compare one analysis with its truth."""
    s = Score()
    det = [(si, r) for si, st in enumerate(analysis.sets) for r in st.reps]
    tru = [(si, r) for si, st in enumerate(truth["sets"]) for r in st["reps"]]
    pairs = _match(np.array([r.top_s for _, r in det]), np.array([r["top_s"] for _, r in tru]),
                   max_dt_s)
    matched_d = {i for i, _ in pairs}
    matched_t = {j for _, j in pairs}
    for i, j in pairs:
        d, t = det[i][1], tru[j][1]
        if t["partial"]:
            s.partial_found += int(d.partial)
            s.fp += int(not d.partial)  # a partial counted as a full rep
            continue
        if d.partial:
            s.fn += 1  # a full rep not counted
            continue
        s.tp += 1
        for e in EVENTS:
            s.errors[e].append(getattr(d, e) - t[e])
        t_top = t["descent_s"] - t["top_s"]
        s.top_pause_err.append(d.top_pause_s - t_top)
        s.eccentric_err.append(d.eccentric_s - (t["end_s"] - t["descent_s"]))
        s.pause_ok.append((d.top_pause_s >= 1.0) == (t_top >= 1.0))
        if d.rom_m is not None and t.get("rom_m") is not None:
            s.rom_err.append(d.rom_m - t["rom_m"])
        if d.mean_velocity_mps is not None and t.get("mean_velocity_mps") is not None:
            s.vmean_err.append(d.mean_velocity_mps - t["mean_velocity_mps"])
        for f in t.get("faults", []):
            s.flags_true[f] = s.flags_true.get(f, 0) + 1
            if f in d.flags:
                s.flags_hit[f] = s.flags_hit.get(f, 0) + 1
        for f in d.flags:
            if f not in t.get("faults", []) and f != FLAG_PARTIAL_RANGE:
                s.flags_false[f] = s.flags_false.get(f, 0) + 1
    for i, (_, d) in enumerate(det):
        if i not in matched_d and not d.partial:
            s.fp += 1
    for j, (_, t) in enumerate(tru):
        if t["partial"]:
            s.partial_true += 1
        if j not in matched_t and not t["partial"]:
            s.fn += 1
    # sets: a true set is exact when the detected reps matched to it include exactly its
    # full reps, all counted as full, and no extra full detection falls inside it
    for st in truth["sets"]:
        s.sets_true += 1
        full_true = sum(1 for r in st["reps"] if not r["partial"])
        lo, hi = st["reps"][0]["start_s"] - 2.0, st["reps"][-1]["end_s"] + 2.0
        full_det = sum(1 for _, d in det if not d.partial and lo <= d.top_s <= hi)
        s.sets_exact += int(full_det == full_true)
    return s
