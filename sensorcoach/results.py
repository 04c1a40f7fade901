"""Result records and their one serialisation to the contract's analysis JSON.

Rep event definitions (CONTRACT.md section 2), all on the recording's ``time_s`` axis:

* ``start_s``  the hips leave the bottom (concentric starts);
* ``top_s``    lockout reached (concentric ends, top pause starts);
* ``descent_s`` lowering starts (top pause ends, eccentric starts);
* ``end_s``    bottom reached (eccentric ends).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .consts import ANALYSIS_SCHEMA


def _r(x: float | None, nd: int = 3) -> float | None:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return round(float(x), nd)


@dataclass
class RepResult:
    """One rep (or partial rep) as the detector finalised it."""

    index: int
    start_s: float
    top_s: float
    descent_s: float
    end_s: float
    bottom_pause_s: float = 0.0
    rom_m: float | None = None
    mean_velocity_mps: float | None = None
    peak_velocity_mps: float | None = None
    partial: bool = False
    flags: list[str] = field(default_factory=list)
    #: Full-rep count at this rep (the number announced live); ``None`` for a partial rep.
    count: int | None = None
    #: Range relative to the set's reference range (1.0 = a typical full rep of the set).
    range_fraction: float | None = None
    #: Rotation of the sensor over the concentric, degrees (pelvis tilt on a hip mount).
    rotation_deg: float | None = None
    #: Time at the bottom before this rep started (0 for the first rep of a set).
    bottom_before_s: float | None = None

    @property
    def concentric_s(self) -> float:
        return self.top_s - self.start_s

    @property
    def top_pause_s(self) -> float:
        return self.descent_s - self.top_s

    @property
    def eccentric_s(self) -> float:
        return self.end_s - self.descent_s

    def tempo(self) -> str:
        """Tempo as written by coaches: eccentric-bottom-concentric-top, seconds, 1 decimal."""
        return "-".join(
            f"{x:.1f}"
            for x in (self.eccentric_s, self.bottom_pause_s, self.concentric_s, self.top_pause_s)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": _r(self.start_s),
            "top_s": _r(self.top_s),
            "descent_s": _r(self.descent_s),
            "end_s": _r(self.end_s),
            "concentric_s": _r(self.concentric_s),
            "top_pause_s": _r(self.top_pause_s),
            "eccentric_s": _r(self.eccentric_s),
            "bottom_pause_s": _r(self.bottom_pause_s),
            "rom_m": _r(self.rom_m),
            "mean_velocity_mps": _r(self.mean_velocity_mps),
            "peak_velocity_mps": _r(self.peak_velocity_mps),
            "partial": bool(self.partial),
            "flags": list(self.flags),
            "count": self.count,
            "range_fraction": _r(self.range_fraction),
            "rotation_deg": _r(self.rotation_deg, 1),
        }


@dataclass
class SetResult:
    """A run of reps separated from the next run by rest."""

    index: int
    reps: list[RepResult] = field(default_factory=list)

    @property
    def start_s(self) -> float:
        return self.reps[0].start_s

    @property
    def end_s(self) -> float:
        return self.reps[-1].end_s

    @property
    def full_reps(self) -> list[RepResult]:
        return [r for r in self.reps if not r.partial]

    @property
    def partial_reps(self) -> list[RepResult]:
        return [r for r in self.reps if r.partial]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": _r(self.start_s),
            "end_s": _r(self.end_s),
            "full_reps": len(self.full_reps),
            "partial_reps": len(self.partial_reps),
            "reps": [r.to_dict() for r in self.reps],
        }


@dataclass
class RecordingInfo:
    """What the analysis knows about the recording it read."""

    path: str | None
    mount: str | None
    sample_rate_hz: float
    start_s: float
    end_s: float
    samples: int
    gaps: int
    has_gyro: bool
    #: Where ``mount`` came from: ``metadata``, ``option`` or ``inferred`` (or ``unknown``).
    mount_source: str = "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "mount": self.mount,
            "sample_rate_hz": _r(self.sample_rate_hz, 2),
            "start_s": _r(self.start_s),
            "end_s": _r(self.end_s),
            "samples": int(self.samples),
            "gaps": int(self.gaps),
            "has_gyro": bool(self.has_gyro),
            "mount_source": self.mount_source,
        }


@dataclass
class Analysis:
    """The analysis of one recording: sets of reps."""

    recording: RecordingInfo
    sets: list[SetResult] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def reps(self) -> list[RepResult]:
        return [r for s in self.sets for r in s.reps]

    def to_dict(self) -> dict[str, Any]:
        """The contract's analysis JSON (CONTRACT.md section 2), plus extension fields."""
        doc: dict[str, Any] = {
            "schema": ANALYSIS_SCHEMA,
            "recording": self.recording.to_dict(),
            "sets": [s.to_dict() for s in self.sets],
        }
        doc.update(self.extra)
        return doc


@dataclass
class FaultTally:
    """How often a fault occurred, on which reps (``"set.rep"``), and its cue."""

    fault: str
    count: int
    cue: str
    reps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"fault": self.fault, "count": self.count, "cue": self.cue,
                "reps": list(self.reps)}


def by_frequency(faults: Iterable[FaultTally]) -> list[FaultTally]:
    """The most frequent fault first (stable: ties keep the tally's order, most important
    first)."""
    return sorted(faults, key=lambda f: -f.count)
