"""Movement segments: runs of monotone motion found by hysteresis on a rate signal.

A segment is a maximal run where the rate stays beyond the *exit* threshold in one direction
and somewhere exceeds the *enter* threshold (with ``exit_frac``, it may end earlier: see
:class:`Segmenter`). The search is vectorised: only the threshold crossings are visited in
Python, so a one-hour file costs a few thousand steps.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, replace

import numpy as np

from ..consts import STANDARD_GRAVITY_MPS2
from .frontend import LEVEL_ERR_G


@dataclass
class RawSegment:
    """Grid-index bounds of one monotone movement, ``[k_start, k_end)``."""

    direction: int  # +1 rising rate signal, -1 falling
    k_start: int
    k_end: int
    #: for a movement merged from pieces: where the first piece ended and the last began
    k_first_end: int | None = None
    k_last_start: int | None = None
    #: bar mount: cut before the movement came to rest, on the velocity integrated from
    #: the rest before it (see RestToRestSegmenter's ``early_frac``)
    early: bool = False
    #: the largest rate magnitude in the segment (from a :class:`Segmenter` with
    #: ``exit_frac``, which tracks it; else ``None``)
    peak: float | None = None

    def joined(self, later: RawSegment) -> RawSegment:
        """This movement and a ``later`` piece of it, as one."""
        # between two pieces the rate stays below ``enter``, under either piece's peak
        peak = (None if self.peak is None or later.peak is None
                else max(self.peak, later.peak))
        return RawSegment(self.direction, self.k_start, later.k_end,
                          k_first_end=self.k_first_end or self.k_end,
                          k_last_start=later.k_last_start or later.k_start,
                          early=self.early, peak=peak)

    def follows(self, earlier: RawSegment, join_k: int) -> bool:
        """This segment goes on the way ``earlier`` went, at most ``join_k`` grid samples
        after it: a piece of the same movement."""
        return self.direction == earlier.direction and self.k_start <= earlier.k_end + join_k


def _first_outside(rate: np.ndarray, sign: int, pos: int, lo: float, hi: float) -> int:
    """First index from ``pos`` where ``sign * rate`` is at most ``lo`` or above ``hi``,
    else ``len(rate)``; tested in windows doubling from 64, so that a hit near ``pos``
    costs little in a long chunk."""
    n, size = len(rate), 64
    while pos < n:
        r = rate[pos:pos + size] * sign
        hits = (r <= lo) | (r > hi)
        j = int(np.argmax(hits))
        if hits[j]:
            return pos + j
        pos, size = pos + size, 2 * size
    return n


class Segmenter:
    """Streaming hysteresis segmenter.

    Parameters
    ----------
    enter : float
        Rate magnitude that starts a segment.
    exit : float
        Rate magnitude below which a segment ends (``exit < enter``).
    exit_frac : float
        ... or below this fraction of the segment's peak so far, whichever is higher: the
        movement's timing is settled once its rate has fallen that far (see
        ``detector._onset``), and what creeps on after it (a squeeze at lockout) must not
        hold the segment open. A segment closed that way while its rate was still beyond
        ``enter`` opens again the same way only once the rate fell below ``enter``, or rose
        again by more than ``exit`` above where it closed (the movement picking up again).
    """

    def __init__(self, *, enter: float, exit: float, exit_frac: float = 0.0):
        self.enter = enter
        self.exit = exit
        self.exit_frac = exit_frac
        self.state = 0
        self.k_open: int | None = None
        self._peak = 0.0  # the open segment's largest rate magnitude so far
        #: the direction of a segment closed by the relative exit while its rate was still
        #: beyond ``enter``, and the rate that re-arms it by rising (see ``exit_frac``)
        self._disarmed = 0
        self._rearm_above = 0.0

    @property
    def busy(self) -> bool:
        """A movement is under way."""
        return self.state != 0

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
                from_hi = from_lo = pos
                if self._disarmed:
                    # hysteresis: the same way again only after the rate fell below enter,
                    # or picked up again
                    i_back = _first_outside(rate, self._disarmed, pos, self.enter,
                                            self._rearm_above)
                    if self._disarmed == 1:
                        from_hi = i_back
                    else:
                        from_lo = i_back
                    if i_back < n:
                        self._disarmed = 0
                i_hi = (hi[np.searchsorted(hi, from_hi)] if len(hi) and hi[-1] >= from_hi
                        else n)
                i_lo = (lo[np.searchsorted(lo, from_lo)] if len(lo) and lo[-1] >= from_lo
                        else n)
                i = min(i_hi, i_lo)
                if i >= n:
                    break
                self.state = 1 if i_hi <= i_lo else -1
                # the segment begins where the rate crossed the enter threshold
                self.k_open = int(k[i])
                self._peak = 0.0
                pos = i
            else:
                ends = not_up if self.state == 1 else not_dn
                j = ends[np.searchsorted(ends, pos)] if len(ends) and ends[-1] >= pos else n
                seg_peak = None
                if self.exit_frac > 0:
                    # the relative exit comes at or before the absolute one
                    j_end = min(j, n - 1)
                    r = rate[pos:j_end + 1] * self.state
                    peak = np.maximum.accumulate(np.maximum(r, self._peak))
                    below = r <= self.exit_frac * peak
                    j_rel = int(np.argmax(below))
                    if below[j_rel]:
                        j = pos + j_rel
                        if r[j_rel] > self.enter:
                            self._disarmed = self.state
                            self._rearm_above = float(r[j_rel]) + self.exit
                    elif j >= n:
                        self._peak = float(peak[-1])
                    if j < n:
                        seg_peak = float(peak[j - pos])
                if j >= n:
                    break
                out.append(RawSegment(self.state, int(self.k_open), int(k[j]), peak=seg_peak))
                self.state = 0
                self.k_open = None
                pos = j
        return out


class RestToRestSegmenter:
    """Bar mount: movements found between two rests, each with its own velocity correction.

    A bar translates and barely rotates, so ``|f| - rest`` is its vertical acceleration.
    Integrated from a rest, it drifts: the rest level of ``|f|`` is only known to a few mg
    (noise, and bias seen from a bar that rolls a few degrees in the hip crease between
    bottom and top). Between two rests the drift is close to linear in time, and the
    velocity is zero at both ends, so each movement's velocity is integrated from the rest
    before it to the rest after it and the linear drift is removed. The corrected velocity
    is then cut into up and down segments by hysteresis (a fast tempo without pauses is one
    movement, up and down).

    Which rest candidates (steady ``|f|`` at the rest level, from the front end) end a
    movement is the crux: the middle of a slow movement glides at constant speed, with no
    acceleration, and looks just like rest. At a true rest the velocity integrated since the
    last rest has come back toward zero: under ``v_floor_mps`` or under ``rho`` of its peak.
    In a glide it sits at its peak. A movement that never reached ``enter`` speed may be a
    gentle start, and a candidate that stays steady for ``force_s`` ends the movement
    anyway. Refusing a true rest costs little (the two movements are one interval, still cut
    apart by the corrected velocity); accepting a glide would cut a rep in two. A movement
    longer than ``max_move_s`` (walking about) ends without corrected segments (early cuts
    from its first seconds may have gone out: the detector judges them as any movement).
    Pieces of one movement going the same way at most ``join_k`` grid samples apart are one
    segment.

    A rest candidate must match the rest level of ``|f|`` closely (see the front end's
    ``LEVEL_ERR_G``): a slow rep accelerates the bar by only ~10 mg, so a looser tolerance
    takes its glide for rest. A pause inside a brisk movement, though, may shake by more (a
    squeeze at the top, the hands re-gripping): where ``|f|`` is steady and within
    ``pause_tol_g`` of its level, it is a rest candidate too (ending the movement on the
    same velocity test) if that distance is under ``pause_frac`` of the movement's largest
    acceleration so far, measured from a level worth integrating from. A glide is not such a
    pause: through a bell-shaped velocity peak the acceleration stays under a tenth of its
    own peak for under 4 % of the movement, shorter than the stillness window (0.3 s) for
    any movement under ~8 s. (With the tight tolerance alone, a set of quick reps with
    half-second pauses was one movement, counted only when it ended, seconds late.)

    A rest is known only once the bar has been steady for the front end's stillness window,
    a few tenths of a second after it stopped, and a lifter who skips the top pause never
    rests there at all. A rise, though, is over when its velocity has come back from its
    peak, and the velocity integrated from the rest before it is good enough for that over
    a few seconds when it starts from the rest level just before the movement.

    The rest level of ``|f|`` belongs to an orientation: the accelerometer's per-axis scale
    and bias errors move it by tens of mg when the sensor is turned over. A movement that
    turned the sensor by more than ``turn_deg`` since it began (a dumbbell picked up, a
    bar rolled: a rep turns a bar by a few degrees at most) therefore has no trustworthy
    integrated velocity, and ends at the next rest candidate whatever that velocity says
    (once it has reached ``enter`` speed at all; else only a lasting rest ends it); the
    level is then learnt afresh, and until it rests on a stillness window's worth of
    samples the next movement ends at a rest candidate the same way. So does the first
    movement of a stream (no level yet), with or without ``u``. (Without that, a
    lifter who picks up a dumbbell and goes straight into a set, pausing only at the top
    of each rep, never shows a rest.)

    With ``early_frac`` > 0 the open movement's velocity, integrated that way, is cut by
    hysteresis with a relative exit at ``early_frac`` of each segment's peak (as a hip
    belt's tilt rate is); a segment that does not pick up again within ``join_k`` is
    emitted at once, marked ``early`` (its velocity: :attr:`raw_velocity`). This runs from
    the movement's start (a rise from the bottom, or a lowering from the top and the rise
    after it) until a segment's cut level is not clear of twice the drift the velocity may
    have gathered by then (a level error of ``early_level_err_g``: the noise of the level,
    and ``|f|``'s bias changing as the bar rolls a few degrees), or ``early_max_s`` has
    passed; a slow rep's low peak velocity fails it, and its segments come corrected when
    the movement ends, less what the early cuts already covered.
    """

    def __init__(self, *, enter: float, exit: float, dt_s: float, n_still: int,
                 v_floor_mps: float = 0.03, rho: float = 0.5,
                 force_s: float = 1.0, max_move_s: float = 60.0, level_n: int = 50,
                 join_k: int = 0, early_frac: float = 0.0, early_max_s: float = 4.0,
                 early_level_err_g: float = LEVEL_ERR_G, turn_deg: float = 20.0,
                 pause_tol_g: float = 0.008, pause_frac: float = 0.1):
        self.enter, self.exit, self.dt = enter, exit, dt_s
        self.pause_tol_g, self.pause_frac = pause_tol_g, pause_frac
        self.join_k = join_k
        self.early_frac = early_frac
        self.early_level_err_g = early_level_err_g
        self.early_max_n = int(round(early_max_s / dt_s))
        self._opens: list[int] = []  # where the early hysteresis opened segments, recently
        #: ``(k, velocity integrated from the last rest)`` of the moving samples last fed
        self.raw_velocity: list[tuple[np.ndarray, np.ndarray]] = []
        self.n_still = n_still
        self._cos_turn = math.cos(math.radians(turn_deg))
        self._u0: np.ndarray | None = None  # gravity direction where the open movement began
        self._level_ok = True  # the open movement began from a level worth integrating from
        self.v_floor, self.rho = v_floor_mps, rho
        self.force_n = int(round(force_s / dt_s))
        self.max_n = int(round(max_move_s / dt_s))
        self.level_n = level_n
        self.moving = False
        self.k_moving = -1  # grid index where the open movement left rest
        #: the open movement's samples (or the last ``n_still`` samples while resting)
        self._k_parts: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
        self._m_parts: list[np.ndarray] = [np.empty(0)]
        self._n_open = 0
        self._rest_m = np.empty(0)  # |f| at the latest rest samples (level)
        self._level = None
        self._reset_early(np.empty(0))
        self._run = 0  # length of the current run of rest candidates
        self._vq = 0  # uncorrected velocity at the end of the open movement (quantised)
        self.scale = 1e6  # |f| quantum for exact sums (1 micro-g)
        self._peak = 0.0  # largest |velocity| of the open movement so far
        self._acc_peak = 0.0  # largest ||f| - level| of the open movement so far, g

    def _quantise(self, m_g: np.ndarray) -> np.ndarray:
        return np.round((m_g - self._level) * self.scale).astype(np.int64)

    @property
    def busy(self) -> bool:
        """A movement is under way (its velocity may still be below ``enter``)."""
        return self.moving

    @property
    def state(self) -> int:
        """Sign of the open movement's velocity once beyond ``enter``, else 0."""
        if not self.moving:
            return 0
        v = self._vq * (STANDARD_GRAVITY_MPS2 * self.dt / self.scale)
        return int(np.sign(v)) if abs(v) > self.enter else 0

    @property
    def k_first(self) -> int:
        """Grid index of the oldest sample the open movement still needs."""
        return next((int(p[0]) for p in self._k_parts if len(p)), -1)

    #: grid samples per pass: every step of a pass scans what is left of it
    BLOCK = 1024

    def push(self, k: np.ndarray, m_g: np.ndarray, at_rest: np.ndarray,
             u: np.ndarray | None = None, *, rest_dev_g: np.ndarray | None = None
             ) -> tuple[list[RawSegment], list[tuple[np.ndarray, np.ndarray]]]:
        """Feed grid indices, ``|f|`` (g), rest candidates and (optionally) the gravity
        direction in the sensor frame, unit vectors (n, 3), for ``turn_deg``, and where
        ``|f|`` is steady, its distance from the rest level (g; ``inf`` where it is not:
        see ``pause_tol_g``); return the
        segments of the movements that ended (and the early cuts), and
        ``(k, corrected velocity)`` of each movement. The uncorrected velocity of the
        samples fed is left in :attr:`raw_velocity`."""
        segs: list[RawSegment] = []
        vels: list[tuple[np.ndarray, np.ndarray]] = []
        self.raw_velocity = []
        n = len(k)
        if n == 0:
            return segs, vels
        # the length of each run of rest candidates, over the whole chunk at once
        rest = at_rest.astype(bool)
        idx = np.arange(n)
        breaks = np.maximum.accumulate(np.where(~rest, idx, -1))
        run = np.where(rest, np.where(breaks < 0, self._run + idx + 1, idx - breaks), 0)
        self._run = int(run[-1])
        forced = run >= self.force_n  # a lasting rest ends any movement
        # chunk-exact, so a long chunk goes in blocks: the same result in linear time
        for i in range(0, n, self.BLOCK):
            b = slice(i, i + self.BLOCK)
            s, v = self._push(k[b], m_g[b], rest[b], forced[b], None if u is None else u[b],
                              None if rest_dev_g is None else rest_dev_g[b])
            segs += s
            vels += v
        return segs, vels

    def _push(self, k: np.ndarray, m_g: np.ndarray, rest: np.ndarray, forced: np.ndarray,
              u: np.ndarray | None, dev: np.ndarray | None
              ) -> tuple[list[RawSegment], list[tuple[np.ndarray, np.ndarray]]]:
        """One block: ``rest`` are the rest candidates, ``forced`` those that end any
        movement (a lasting rest), ``u`` the gravity direction (or ``None``), ``dev``
        the distance of a steady ``|f|`` from its rest level (see ``pause_tol_g``; or
        ``None``)."""
        segs: list[RawSegment] = []
        vels: list[tuple[np.ndarray, np.ndarray]] = []
        n = len(k)
        moves = np.flatnonzero(~rest).tolist()  # where the sensor is not at rest
        if self._level is None:
            self._level = float(m_g[0])
        pos = 0
        g_dt = STANDARD_GRAVITY_MPS2 * self.dt
        while pos < n:
            if not self.moving:
                i_move = bisect_left(moves, pos)
                j = moves[i_move] if i_move < len(moves) else n
                r_m = m_g[pos:j]  # all rest candidates: a non-rest sample starts a movement
                if len(r_m):
                    self._rest_m = np.concatenate([self._rest_m, r_m])[-self.level_n:]
                    self._level = float(self._rest_m.mean())
                i = max(pos, j - self.n_still)
                kk = np.concatenate([*self._k_parts, k[i:j]])[-self.n_still:]
                mm0 = np.concatenate([*self._m_parts, m_g[i:j]])[-self.n_still:]
                self._k_parts, self._m_parts, self._n_open = [kk], [mm0], len(kk)
                if j >= n:
                    break
                # a movement begins (the rest samples just before it are kept: a gentle
                # start shows in the steadiness window only after a while)
                self.moving = True
                self.k_moving = int(k[j])
                self._u0 = None if u is None else u[j].copy()
                # a level from fewer samples than the stillness window (just after a turn,
                # or at the stream's start) is no base to integrate from
                self._level_ok = len(self._rest_m) >= self.n_still
                self._peak = 0.0
                self._acc_peak = 0.0
                self._vq = int(np.sum(self._quantise(self._m_parts[0])))
                self._reset_early(self._m_parts[0])
                pos = j
                continue
            # moving: where may it end?
            mm = m_g[pos:]
            # exact integer sums: the same decisions for any chunking
            vq = np.cumsum(self._quantise(mm))
            vq += self._vq
            v = vq * (g_dt / self.scale)
            speed = np.abs(v)
            peak = np.maximum.accumulate(speed)
            np.maximum(peak, self._peak, out=peak)
            # a movement that has not yet reached ``enter`` speed may be a gentle start:
            # only a lasting rest ends it
            back = (speed <= self.v_floor) | (speed <= self.rho * peak)
            # turned over: the level it was integrated from no longer holds
            turned = None if self._u0 is None else (u[pos:] @ self._u0) < self._cos_turn
            if not self._level_ok:
                back[:] = True
            elif turned is not None:
                back |= turned
            ends = rest[pos:]
            pause_rule = dev is not None and self._level_ok
            if pause_rule:
                # a pause in a brisk movement may shake by more than a rest's tolerance (a
                # squeeze at the top): it is a rest candidate too where the bar is steady
                # and its acceleration is small next to the movement's own so far
                # (measured from a level worth integrating from; see pause_tol_g)
                acc_peak = np.maximum.accumulate(np.abs(mm - self._level))
                np.maximum(acc_peak, self._acc_peak, out=acc_peak)
                d = dev[pos:]
                ends = ends | ((d < self.pause_tol_g) & (d < self.pause_frac * acc_peak))
            ok = (peak >= self.enter) & back
            ok |= forced[pos:]
            ok &= ends
            e_ok = int(np.argmax(ok))
            if not ok[e_ok]:
                e_ok = len(mm)
            # ... or it has gone on too long (its ``max_n``-th sample)
            e = min(e_ok, max(0, self.max_n - self._n_open - 1))
            n_in = min(e + 1, len(mm))
            # from the rest level just before this movement (as its correction does), not
            # the running one: the bar may have been turned since that was measured
            v_early = v[:n_in] - self._early_slope * np.arange(
                self._n_open + 1, self._n_open + n_in + 1)
            self.raw_velocity.append((k[pos:pos + n_in], v_early))
            if self.early_frac > 0:
                segs.extend(self._early_cuts(k[pos:pos + n_in], v_early, ended=e < len(mm)))
            if e >= len(mm):
                self._k_parts.append(k[pos:])
                self._m_parts.append(mm)
                self._n_open += len(mm)
                self._vq, self._peak = int(vq[-1]), float(peak[-1])
                if pause_rule:
                    self._acc_peak = float(acc_peak[-1])
                break
            mk = np.concatenate([*self._k_parts, k[pos:pos + e + 1]])
            mv = np.concatenate([*self._m_parts, mm[:e + 1]])
            if e == e_ok:
                s, vcorr = self._segments(mk, mv)
                segs.extend(self._after_early(s, mk, vcorr))
                # the rest samples before the movement keep velocity zero (they may also
                # end the previous movement)
                sel = mk >= self.k_moving
                vels.append((mk[sel], vcorr[sel]))
            self.moving = False
            if turned is not None and turned[e]:
                self._rest_m = np.empty(0)  # the level learnt before the turn is stale
            self._k_parts, self._m_parts = [mk[-self.n_still:]], [mv[-self.n_still:]]
            self._n_open = len(self._k_parts[0])
            pos += e + 1
        return segs, vels

    def _reset_early(self, pre_m_g: np.ndarray) -> None:
        """A movement begins, after the rest samples ``pre_m_g`` (``|f|``, g)."""
        #: the open movement's early cuts: hysteresis on its uncorrected velocity, the
        #: segment cut but not yet confirmed, the last one emitted, and whether they are
        #: over for this movement; the velocity so far
        self._early = Segmenter(enter=self.enter, exit=self.exit, exit_frac=self.early_frac)
        self._held: RawSegment | None = None
        self._last_cut: RawSegment | None = None
        self._early_off = False
        #: the velocity's correction per sample integrated, to the rest level just before
        #: the movement
        self._early_slope = ((float(pre_m_g.mean()) - self._level)
                             * STANDARD_GRAVITY_MPS2 * self.dt if len(pre_m_g) else 0.0)

    def _early_cuts(self, k: np.ndarray, v: np.ndarray, *, ended: bool) -> list[RawSegment]:
        """The open movement's segments that are over, from its uncorrected velocity ``v``
        (see ``early_frac``); ``ended``: the movement ends at the last sample given."""
        out: list[RawSegment] = []
        # the hysteresis runs on to the movement's end: where its segments open bounds a
        # lowering's settle point (see :meth:`opened_after`), whatever was emitted
        closed = self._early.push(k, v)
        for raw in closed:
            self._note_open(raw.k_start)
        if self._early.state:
            self._note_open(int(self._early.k_open))
        if self._early_off:
            return out
        for raw in closed:
            held = self._held
            if held is not None and raw.follows(held, self.join_k):
                joined = held.joined(raw)  # it picked up again: one movement ...
                if self._clear_of_drift(joined):
                    self._held = joined
                    continue
                # ... whose end is not clear: the piece goes out as it is, the rest comes
                # corrected at the movement's end
                self._emit_held(out)
                self._early_off = True
                return out
            if held is not None:
                self._emit_held(out)
            if not self._clear_of_drift(raw):
                self._early_off = True  # the rest comes corrected, at the movement's end
                return out
            self._held = replace(raw, early=True)
        held = self._held
        if held is None:
            return out
        # confirmed once nothing picks up within ``join_k`` (or the movement came to rest)
        near = held.k_end + self.join_k
        going_on = self._early.state == held.direction and self._early.k_open <= near
        if ended or (int(k[-1]) >= near and not going_on):
            self._emit_held(out)
        return out

    def _clear_of_drift(self, raw: RawSegment) -> bool:
        """``raw``'s cut level stands clear of twice the drift the velocity may have
        gathered since the rest it was integrated from, within ``early_max_s``."""
        level = max(self.exit, self.early_frac * raw.peak)
        drift = (self.early_level_err_g * STANDARD_GRAVITY_MPS2 * self.dt
                 * (raw.k_end - self.k_moving + self.n_still))
        return level >= 2.0 * drift and raw.k_end - self.k_moving <= self.early_max_n

    def _emit_held(self, out: list[RawSegment]) -> None:
        held = self._held
        out.append(held)
        self._last_cut, self._held = held, None

    def _note_open(self, k_open: int) -> None:
        if not self._opens or k_open > self._opens[-1]:
            self._opens.append(k_open)

    def opened_after(self, k_after: int) -> list[int]:
        """Where the first segment of the early cuts' hysteresis opened after grid index
        ``k_after`` (of those seen so far and not forgotten), as a list of at most one."""
        i = bisect_left(self._opens, k_after + 1)
        return self._opens[i:i + 1]

    def forget_opens(self, before_k: int) -> None:
        """Forget where segments opened before grid index ``before_k``."""
        del self._opens[:bisect_left(self._opens, before_k)]

    def _after_early(self, segs: list[RawSegment], k: np.ndarray,
                     v: np.ndarray) -> list[RawSegment]:
        """The corrected segments (velocity ``v`` at grid indices ``k``) of a movement
        that ended, less what its early cuts already covered: a segment running on past
        the last cut keeps what follows it only where it picked up beyond ``enter`` again
        after ``join_k`` (a hitch), not the creep at its end."""
        if self._last_cut is None:
            return segs
        cut = self._last_cut.k_end
        out = []
        for seg in segs:
            if seg.k_end <= cut:
                continue
            if seg.k_start < cut:
                if seg.direction == self._last_cut.direction:
                    i0, i1 = np.searchsorted(k, [cut + self.join_k, seg.k_end]).tolist()
                    after = v[i0:i1 + 1] * seg.direction
                    if not (after.size and after.max() > self.enter):
                        continue
                seg = RawSegment(seg.direction, cut, seg.k_end)
            out.append(seg)
        return out

    def _segments(self, k: np.ndarray, m_g: np.ndarray) -> tuple[list[RawSegment], np.ndarray]:
        """One movement from rest to rest: corrected velocity and its up / down segments."""
        a = (m_g - m_g[:self.n_still].mean()) * STANDARD_GRAVITY_MPS2
        # trapezoids from v = 0, in place: (a[1:] + a[:-1]) * 0.5, summed, times dt
        step = a[1:] + a[:-1]
        step *= 0.5
        v = np.empty(len(a))
        v[0] = 0.0
        np.cumsum(step, out=v[1:])
        v *= self.dt
        span = max(int(k[-1] - k[0]), 1)
        ramp = (k - k[0]).astype(float)
        ramp *= v[-1]
        ramp /= span
        v -= ramp
        hyst = Segmenter(enter=self.enter, exit=self.exit)
        segs = hyst.push(k, v)
        if hyst.state != 0:
            segs.append(RawSegment(hyst.state, int(hyst.k_open), int(k[-1])))
        joined: list[RawSegment] = []
        for seg in segs:
            last = joined[-1] if joined else None
            if last is not None and seg.follows(last, self.join_k):
                joined[-1] = last.joined(seg)
            else:
                joined.append(seg)
        return joined, v
