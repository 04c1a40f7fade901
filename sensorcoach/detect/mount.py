"""Mount inference: run a hip and a bar detector side by side; the first to count two reps
in one set claims the recording.

A pelvis rotates tens of degrees every rep and a bar barely rotates, so real reps pass only
one detector's tests; a single odd movement can fool one detector once, two consistent reps
in a set do not happen by chance. Until the claim, events are held; then the winner's held
events are released (stamped with the time they are released at) and it runs alone.
"""

from __future__ import annotations

import dataclasses

from ..events import RepEvent
from ..types import SampleChunk
from .detector import RepDetector
from .frontend import FrontEnd


class AutoMountDetector:
    """Same interface as :class:`RepDetector` (``update``, ``finish``, ``mount``, ``phase``).

    Parameters
    ----------
    reps_to_claim : int
        Counted reps in one set that decide the mount.
    **params
        Passed to both :class:`RepDetector` instances.
    """

    def __init__(self, *, reps_to_claim: int = 2, **params):
        self.reps_to_claim = reps_to_claim
        self._front = FrontEnd()  # one front end feeds both detectors
        self._dets = {m: RepDetector(mount=m, front=self._front, **params) for m in ("hip", "bar")}
        self._held: dict[str, list] = {m: [] for m in self._dets}
        self._winner: str | None = None

    @property
    def mount(self) -> str | None:
        return self._winner

    @property
    def phase(self) -> str:
        return self._dets[self._winner].phase if self._winner else "idle"

    def update(self, chunk: SampleChunk) -> list:
        if self._winner:
            return self._dets[self._winner].update(chunk)
        if len(chunk) == 0:
            return []
        feats, gaps = self._front.push(chunk)
        for m, det in self._dets.items():
            self._held[m].extend(det.ingest(feats, gaps, newest_t=float(chunk.time_s[-1])))
        return self._decide()

    def finish(self) -> list:
        if self._winner:
            return self._dets[self._winner].finish()
        for m, det in self._dets.items():
            self._held[m].extend(det.finish())
        return self._decide()

    def _claim_time(self, m: str) -> float | None:
        """Lockout time of the rep that completed ``reps_to_claim`` in one set, if any."""
        for ev in self._held[m]:
            if isinstance(ev, RepEvent) and ev.rep >= self.reps_to_claim:
                return ev.top_s
        return None

    def _decide(self) -> list:
        times = {m: self._claim_time(m) for m in self._dets}
        ready = {m: t for m, t in times.items() if t is not None}
        if not ready:  # undecided (at the end too: report nothing rather than guess)
            return []
        self._winner = min(ready, key=lambda m: (ready[m], m))
        self._front.mounts = (self._winner,)  # the other mount's signals are not read again
        now = self._dets[self._winner]._newest_t
        released = [dataclasses.replace(ev, at_s=max(ev.at_s, now)) for ev in
                    self._held[self._winner]]
        self._held = {}
        return released
