"""Movement segments: runs of monotone motion found by hysteresis on a rate signal.

A segment is a maximal run where the rate stays beyond the *exit* threshold in one direction
and somewhere exceeds the *enter* threshold. The search is vectorised: only the threshold
crossings are visited in Python, so a one-hour file costs a few thousand steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RawSegment:
    """Grid-index bounds of one monotone movement, ``[k_start, k_end)``."""

    direction: int  # +1 rising rate signal, -1 falling
    k_start: int
    k_end: int
    #: for a movement merged from pieces: where the first piece ended and the last began
    k_first_end: int | None = None
    k_last_start: int | None = None


class Segmenter:
    """Streaming hysteresis segmenter.

    Parameters
    ----------
    enter : float
        Rate magnitude that starts a segment.
    exit : float
        Rate magnitude below which a segment ends (``exit < enter``).
    """

    def __init__(self, *, enter: float, exit: float):
        self.enter = enter
        self.exit = exit
        self.state = 0
        self.k_open: int | None = None

    def push(self, k: np.ndarray, rate: np.ndarray) -> list[RawSegment]:
        """Feed grid indices and rate values; return the segments that closed."""
        out: list[RawSegment] = []
        if len(k) == 0:
            return out
        hi = np.flatnonzero(rate > self.enter)
        lo = np.flatnonzero(rate < -self.enter)
        not_up = np.flatnonzero(rate <= self.exit)
        not_dn = np.flatnonzero(rate >= -self.exit)
        n = len(k)
        pos = 0
        while pos < n:
            if self.state == 0:
                i_hi = hi[np.searchsorted(hi, pos)] if len(hi) and hi[-1] >= pos else n
                i_lo = lo[np.searchsorted(lo, pos)] if len(lo) and lo[-1] >= pos else n
                i = min(i_hi, i_lo)
                if i >= n:
                    break
                self.state = 1 if i_hi <= i_lo else -1
                # the segment began where the rate last crossed the exit threshold
                self.k_open = int(k[i])
                pos = i
            else:
                ends = not_up if self.state == 1 else not_dn
                j = ends[np.searchsorted(ends, pos)] if len(ends) and ends[-1] >= pos else n
                if j >= n:
                    break
                out.append(RawSegment(self.state, int(self.k_open), int(k[j])))
                self.state = 0
                self.k_open = None
                pos = j
        return out
