"""Events the streaming detector emits (CONTRACT.md section 3).

* ``rep``       a full rep counted, fired at lockout (``top_s``);
* ``partial``   a movement that fell clearly short of the set's range (listed, not counted);
* ``rep_done``  a counted rep finished (bottom reached), with all its details;
* ``set_done``  a set ended (rest began, or the stream ended);
* ``gap``       samples were missing for longer than the detector bridges (extension).

``at_s`` is the recording time of the newest sample the detector had seen when it fired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .results import RepResult
from .results import _r as _t  # one rounding for the contract's numbers


@dataclass(frozen=True)
class RepEvent:
    set: int
    rep: int
    at_s: float
    top_s: float
    start_s: float
    rom_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"event": "rep", "set": self.set, "rep": self.rep,
                             "at_s": _t(self.at_s), "top_s": _t(self.top_s),
                             "start_s": _t(self.start_s)}
        if self.rom_m is not None:
            d["rom_m"] = _t(self.rom_m)
        return d


@dataclass(frozen=True)
class PartialEvent:
    set: int
    at_s: float
    rep: RepResult

    def to_dict(self) -> dict[str, Any]:
        return {"event": "partial", "set": self.set, "at_s": _t(self.at_s),
                "top_s": _t(self.rep.top_s), "rep_detail": self.rep.to_dict()}


@dataclass(frozen=True)
class RepDoneEvent:
    set: int
    at_s: float
    rep: RepResult

    def to_dict(self) -> dict[str, Any]:
        return {"event": "rep_done", "set": self.set, "rep": self.rep.count,
                "at_s": _t(self.at_s), "rep_detail": self.rep.to_dict()}


@dataclass(frozen=True)
class SetDoneEvent:
    set: int
    at_s: float
    reps: int
    partial_reps: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"event": "set_done", "set": self.set, "at_s": _t(self.at_s),
                "reps": self.reps, "partial_reps": self.partial_reps}


@dataclass(frozen=True)
class GapEvent:
    at_s: float
    gap_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"event": "gap", "at_s": _t(self.at_s), "gap_s": _t(self.gap_s)}


Event = RepEvent | PartialEvent | RepDoneEvent | SetDoneEvent | GapEvent
