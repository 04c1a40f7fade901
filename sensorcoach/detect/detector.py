"""The streaming rep detector: sets, reps, tempo, range, velocity and faults.

How it works (the physics)
--------------------------
* A **hip-belt** sensor rotates with the pelvis: every hip thrust tilts it by tens of degrees
  (torso from inclined to horizontal plus the posterior tilt of the squeeze). The tilt of the
  gravity direction along its dominant arc is a drift-free, position-like signal, exact even
  for very slow reps.
* A **bar** sensor translates and barely rotates. ``|f| - 1 g`` is its vertical acceleration
  whatever the mounting orientation. Integrated from one rest to the next, with the drift
  removed so the velocity is zero at both (the pauses), it gives velocity and range. In a
  slow movement the bar glides without acceleration and looks at rest, so a rest ends a
  movement only when the velocity has come back from its peak (see
  :class:`~sensorcoach.detect.segments.RestToRestSegmenter`).
* Both signals are cut into monotone **movement segments** (hysteresis on their rate). A rep
  is a rising segment (concentric) followed by a falling one (eccentric). The segment's
  vertical displacement, integrated with a zero-velocity update at both ends, tells which
  way is up, how far it went and how fast.
* A rising segment becomes a rep only if it looks like a hip thrust: plausible range and
  duration, and a rotation that fits the mount (a bar barely rotates; a pelvis does). Walking
  (small fast tilts), getting up (too large, too much rotation), rolling the bar (rotation
  without rise) and plate knocks (g-level spikes) fail those tests.
* The mount comes from metadata or the caller; otherwise
  :class:`~sensorcoach.detect.mount.AutoMountDetector` runs one detector per mount and the
  first to count two reps in a set decides.

Segment times are where the segment's rate profile starts / stops, extrapolated to zero
from two level crossings assuming the bell-shaped velocity of smooth human movement
(velocity ~ t^2 near rest), and corrected for the known group delay of the filters. The
times reported refine them from the vertical acceleration's lobes (acceleration ~ t near
rest; ``|f|`` is not bent by the hips' own acceleration as the accelerometer's tilt is)
and, on a bar or a gyro hip belt, extrapolate a lowering's slow tail.

The detector is streaming and chunk-exact: decisions use data up to a fixed look-ahead past
each segment, never "whatever arrived so far", so any chunking gives the same reps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..consts import (
    FLAG_BOUNCE,
    FLAG_FAST_ECCENTRIC,
    FLAG_NO_TOP_PAUSE,
    FLAG_PARTIAL_RANGE,
    MOUNTS,
    STANDARD_GRAVITY_MPS2,
)
from ..events import GapEvent, PartialEvent, RepDoneEvent, RepEvent, SetDoneEvent
from ..results import RepResult
from ..types import SampleChunk
from .frontend import GRID_RATE_HZ, LEVEL_ERR_G, FrontEnd
from .history import History
from .segments import RawSegment, RestToRestSegmenter, Segmenter

#: Hip movements split by a dip of the tilt rate (the hips' own acceleration, without a
#: gyro) are one movement when the rate turned back by less than this, degrees: in the
#: look-ahead, decided before the count (see _may_continue) ...
LOOKAHEAD_DIP_MAX_DEG = 1.0
#: ... and between two pieces, decided after the second (see _late_join)
SPLIT_DIP_MAX_DEG = 3.0
#: Fractions of a movement's peak rate whose crossings time its start and end (see _onset)
ONSET_LEVELS = (0.12, 0.4)
#: A movement's starting (braking) acceleration lobe is looked for this far before its
#: start (after its end) as the rate puts them, s (see _lobe_onset) ...
ACC_LOBE_REACH_S = 0.25
#: ... and times it only when it peaks above this, m/s^2 (about 0.03 g: several times an
#: accelerometer's noise after the 4-Hz low-pass; a rep slower than ~3 s may stay under)
ACC_LOBE_MIN_MPS2 = 0.3
#: A hip lowering's braking lobe (accelerometer only, see _refine) times its end when it
#: peaks above twice the uncertainty of the rest level of |f|, m/s^2: a 4-s lowering brakes
#: at only ~0.1 m/s^2
LOWERING_LOBE_MIN_MPS2 = 2.0 * LEVEL_ERR_G * STANDARD_GRAVITY_MPS2
#: A hip belt with a gyro reads a movement's starting pose where the hips last did not
#: accelerate (vertical acceleration under this, m/s^2: about 0.05 g, a tenth of a
#: bounce's) for this long, s, up to this long before its start, s, and carries it over
#: with the gyro (see _quiet_pose; a 2-deg/s gyro bias turns it by 3 deg at most)
QUIET_ACC_MPS2 = 0.5
QUIET_RUN_S = 0.2
QUIET_POSE_S = 1.5
#: How far before a movement its walking cues and the bar's turning are looked at, s
BEFORE_S = 2.0
#: A bar's lowering quicker than this shows as a movement of its own: its acceleration
#: stands out of the rest level of |f| (a glide of 0.25 m in 1.5 s peaks near 0.06 g)
UNSEEN_LOWERING_MIN_S = 1.5
#: How long past a movement's end the detector looks before deciding on it, s. A hip belt
#: with a gyroscope needs less: the look-ahead bridges the dips of the accelerometer's tilt
#: rate (the hips' own acceleration bends it mid-movement), which the gyro does not have.
LOOKAHEAD_S = 0.1
LOOKAHEAD_HIP_GYRO_S = 0.06
#: A hip lowering's end may be extrapolated up to where its rate settled under the exit
#: level (plus the look-ahead), looked for this long past its segment's end at most, s (the
#: segment closes earlier: see Segmenter.exit_frac)
SETTLE_MAX_S = 0.5


@dataclass
class Segment:
    """A refined movement segment (times already corrected for filter delay)."""

    direction: int  # +1 up, -1 down (physical, after sign resolution)
    tilt_dir: int  # direction of the raw rate signal
    t_start: float
    t_end: float
    amp: float  # the mount's units (deg for hip, m for bar), >= 0
    dz_m: float  # zero-velocity-updated vertical displacement
    peak_v_mps: float  # signed peak vertical velocity
    rotation_deg: float
    knock: bool
    peak_abs_acc_g: float  # largest |vertical acceleration| near the start, g
    peak_frac: float  # where in the segment the rate peaked (0 start .. 1 end)
    u_start: np.ndarray  # gravity direction before / after, sensor frame
    u_end: np.ndarray
    walked_before: bool = False  # step impacts or cadence in the seconds before
    stepped_before: bool = False  # a step cadence in the seconds before (never a rep's)
    #: the times reported, where they differ from ``t_start`` / ``t_end`` (from the rate,
    #: which decide what the movement is: a walking stride's impacts have acceleration
    #: lobes too; see RepDetector._refine): the start from the vertical acceleration's
    #: lobe, and the end from a rise's braking lobe or over a lowering's slow tail
    t_start_lobe: float | None = None
    t_end_report: float | None = None
    rate_trusted: bool = False  # the rate is not bent (bar; hip belt with a gyro)

    @property
    def t_start_event(self) -> float:
        """The reported start. Where the rate is trusted, no earlier than its start: the
        lobe that starts a movement may begin while the movement before is still braking
        (no pause between them)."""
        if self.t_start_lobe is None:
            return self.t_start
        return max(self.t_start_lobe, self.t_start) if self.rate_trusted else self.t_start_lobe

    @property
    def t_end_event(self) -> float:
        """The reported end."""
        if self.t_end_report is None:
            return self.t_end
        return max(self.t_end_report, self.t_start_event)


@dataclass
class _Rep:
    up: Segment
    set_index: int
    partial: bool
    count: int | None
    range_fraction: float | None
    down: Segment | None = None
    bottom_before_s: float | None = None
    index: int = 0
    next_up: Segment | None = None
    result: RepResult | None = None


@dataclass
class _SetState:
    index: int
    reps: list[_Rep] = field(default_factory=list)

    @property
    def full_amps(self) -> list[float]:
        return [r.up.amp for r in self.reps if not r.partial]


class RepDetector:
    """Streaming hip-thrust rep detector.

    Parameters
    ----------
    mount : {"hip", "bar"}
        Where the sensor sits (:class:`~sensorcoach.detect.mount.AutoMountDetector` infers it
        when unknown, by running one detector per mount).
    set_gap_s : float
        Rest longer than this between two reps splits them into two sets.
    partial_fraction : float
        A concentric reaching less than this fraction of the set's typical full range is a
        partial rep (listed and flagged, not counted).
    min_fraction, hip_min_fraction : float
        Below this fraction of the set's range a movement is settling, not a rep at all (on
        a bar, whose rise is integrated and drifts by a few cm, and on a hip belt, whose
        pelvis rotation is measured: its tilt is not proportional to the rise, and a
        partial rep of 30 % of the range may turn the pelvis through under 28 % of the
        rotation; settling moves the hips by about a tenth).
    hip_min_deg, hip_max_deg : float
        Pelvis rotation of a hip-thrust concentric on a hip mount (a full rep is typically
        25-55 degrees; getting up from the floor is 70-100).
    hip_partial_min_deg : float
        Inside a set the floor is ``hip_min_fraction`` of the set's range, but not below this.
    bar_min_m, bar_max_m : float
        Vertical travel of a concentric on a bar mount (the hips cannot rise much more
        than bench height minus the hover height: ~0.25-0.45 m).
    bar_first_min_m : float
        ... and of a concentric outside a set (a full rep: the hips rise at least this
        from hovering above the floor to lockout).
    min_rise_m, hip_min_rise_m_per_deg : float
        A hip-mount concentric must raise the hips at least this much, and at least this
        much per degree of pelvis rotation (the arc around the bench gives ~0.005-0.009 m/deg;
        lying back onto the bench ~0.001).
    hip_max_rise_m : float
        ... and at most this much: bench height (~0.45 m) minus the hover height at the
        bottom (~0.15 m), plus the belt's offset from the joint. Getting up rises far more.
        Inside a set a rise beyond this that turns the pelvis through the set's range of
        rotation (the partial-rep band) counts all the same: a fast rep without pauses has
        no rest at its ends for the rise's zero-velocity updates, and its rise comes out
        too large.
    bar_max_rotation_deg : float
        A bar that rotates more than this during a "concentric" is being rolled, not lifted.
    max_eccentric_s : float
        The slowest lowering. On a bar: a set's first concentric followed, within
        ``max_hold_s`` plus this, by a like rise from the same place was a rep whose lowering
        went unseen; and a rep whose lowering went unseen may still be lowering this long
        after lockout (the set stays open).
    max_hold_s, confirm_fraction : float
        The first rep of a set is counted once its lowering (at least ``confirm_fraction``
        of its range, starting within ``max_hold_s`` of lockout) confirms it; on a hip belt
        that lowering must also bring the pelvis back to within ``1 - confirm_fraction`` of
        the range of where it started (see _confirms_first).
    walk_off_s : float
        ... and unless a step cadence is felt from its start until this long after its
        lowering: a walk's first strides swing the hips like a rep (half a second to a
        second into the walk), and the cadence cue knows a walk after four steps (about two
        seconds). Nobody walks off within seconds of a rep's lowering: a heavy single is
        followed by rolling the bar off, sitting up and getting up. While a first rep is
        held, a segment that may be its lowering waits for this much more data, or until
        the hips have risen again for a concentric's time (the next rep under way: a walk
        swings the pelvis at the step cadence, under 0.3 s a swing; see _rise_after); the
        cadence is looked for until then. Hip belt only: a walk does not swing a bar like a
        rep's rise (no development session needed it there), and the wait held back every
        bar set's first reps.
    pose_match_deg : float
        Within a set, a rep must start within this angle of the previous rep's bottom
        orientation and a full-range rep must lock out within it of the set's last full
        rep's lockout (getting up after the last rep starts from sitting).
    known_pose_deg : float
        A set's first concentric that starts within this of the session's bottom pose and
        ends within it of its lockout pose is counted at lockout (a bar's, rolled between
        sets, must instead follow 2 s in which the sensor turned by less than this, and
        travel the previous set's range); other first concentrics wait for their lowering.
    no_top_pause_s, fast_eccentric_s : float
        Fault thresholds: top pause shorter than / eccentric faster than.
    bounce_acc_g : float
        Vertical deceleration at the bottom, above 1 g rest, that marks a bounce.
    knock_g, knock_window_s : float
        ``|f|`` above ``knock_g`` inside a movement, or in the ``knock_window_s`` before it,
        is an impact (plates being loaded, the bar dropped): the movement is not a rep.
    lookahead_s : float or None
        Data past a segment's end the detector waits for before deciding on it (``None``:
        :data:`LOOKAHEAD_S`, or :data:`LOOKAHEAD_HIP_GYRO_S` for a hip belt whose stream
        starts with gyro data).
    merge_s : float
        A movement whose rate dips below the exit level and picks up the same way within
        this time is one movement (when the look-ahead shows the rate picking up again, the
        detector waits this long instead).
    gyro_pose_max_s : float
        Hip mount with a gyroscope: a movement up to this long takes its end pose from the
        start pose turned by the integrated gyro (the accelerometer's direction at a fast
        lockout is bent by the deceleration; a gyro bias of a few deg/s costs a few degrees
        over this time).
    """

    def __init__(self, *, mount: str, set_gap_s: float = 8.0,
                 partial_fraction: float = 0.75, min_fraction: float = 0.28,
                 hip_min_fraction: float = 0.2,
                 hip_min_deg: float = 12.0, hip_partial_min_deg: float = 6.0,
                 hip_max_deg: float = 80.0, bar_min_m: float = 0.06, bar_max_m: float = 0.5,
                 bar_first_min_m: float = 0.12,
                 bar_max_rotation_deg: float = 10.0, min_rise_m: float = 0.03,
                 hip_min_rise_m_per_deg: float = 0.002, hip_max_rise_m: float = 0.45,
                 max_concentric_s: float = 6.0, min_concentric_s: float = 0.35,
                 max_eccentric_s: float = 6.0,
                 no_top_pause_s: float = 0.25, fast_eccentric_s: float = 0.6,
                 max_hold_s: float = 8.0, confirm_fraction: float = 0.5,
                 walk_off_s: float = 2.0,
                 pose_match_deg: float = 25.0, known_pose_deg: float = 15.0,
                 bounce_acc_g: float = 0.4, knock_g: float = 3.0, knock_window_s: float = 3.0,
                 lookahead_s: float | None = None, merge_s: float = 0.2,
                 gyro_pose_max_s: float = 2.0,
                 front: FrontEnd | None = None):
        if mount not in MOUNTS:
            raise ValueError(f"mount must be one of {MOUNTS}, got {mount!r}")
        self.mount = mount
        self.set_gap_s = set_gap_s
        self.partial_fraction = partial_fraction
        self.hip_min_deg = hip_min_deg
        self.hip_partial_min_deg = hip_partial_min_deg
        self.hip_max_deg = hip_max_deg
        self.bar_min_m = bar_min_m
        self.bar_max_m = bar_max_m
        self.bar_first_min_m = bar_first_min_m
        self.bar_max_rotation_deg = bar_max_rotation_deg
        self.min_rise_m = min_rise_m
        self.hip_min_rise_m_per_deg = hip_min_rise_m_per_deg
        self.hip_max_rise_m = hip_max_rise_m
        self.max_concentric_s = max_concentric_s
        self.min_concentric_s = min_concentric_s
        self.max_eccentric_s = max_eccentric_s
        self.no_top_pause_s = no_top_pause_s
        self.fast_eccentric_s = fast_eccentric_s
        self.bounce_acc_g = bounce_acc_g
        self.knock_g = knock_g
        self.max_hold_s = max_hold_s
        self.walk_off_s = walk_off_s
        self._walk_off_k = int(round(walk_off_s * GRID_RATE_HZ))
        self._settle_k = int(round(SETTLE_MAX_S * GRID_RATE_HZ))
        self._min_concentric_k = int(round(min_concentric_s * GRID_RATE_HZ))
        self.confirm_fraction = confirm_fraction
        self.pose_match_deg = pose_match_deg
        self.known_pose_deg = known_pose_deg
        self.knock_window_s = knock_window_s
        self.min_fraction = min_fraction
        self.hip_min_fraction = hip_min_fraction
        self.lookahead_s = lookahead_s
        self.merge_s = merge_s
        self.gyro_pose_max_s = gyro_pose_max_s
        self._start(front)

    # -- state ----------------------------------------------------------------------------
    def _start(self, front) -> None:
        self.front = front or FrontEnd(mounts=(self.mount,))
        self.hist = History(rate_hz=GRID_RATE_HZ,
                            fields=("tilt_rate_dps",) if self.mount == "hip" else (),
                            extra=("vbar_mps", "vraw_mps") if self.mount == "bar" else ())
        # hysteresis on the mount's rate signal: tilt rate (deg/s) or vertical velocity (m/s)
        enter_exit = {"hip": (8.0, 2.0), "bar": (0.06, 0.025)}[self.mount]
        self._set_lookahead(LOOKAHEAD_S if self.lookahead_s is None else self.lookahead_s)
        if self.mount == "bar":
            self._segmenter = RestToRestSegmenter(
                enter=enter_exit[0], exit=enter_exit[1], dt_s=1.0 / GRID_RATE_HZ,
                n_still=self.front.n_still, join_k=self._lookahead_k,
                early_frac=ONSET_LEVELS[0])
        else:
            self._segmenter = Segmenter(enter=enter_exit[0], exit=enter_exit[1],
                                        exit_frac=ONSET_LEVELS[0])
        self._rate_key = "vbar_mps" if self.mount == "bar" else "tilt_rate_dps"
        self._delay = (self.front.delay_acc_s if self.mount == "bar"
                       else self.front.delay_tilt_rate_s)
        self._pending: list[RawSegment] = []  # closed raw segments, by k_end
        self._last_seg_end_k = -10**9
        #: the last uncounted hip movement each way and the search bound before it
        #: (see _late_join)
        self._prev_piece: dict[int, tuple[RawSegment, int]] = {}
        self._hip_sign = 0  # +1: rising tilt is up; learned from counted reps
        #: a set's first concentric, awaiting its lowering
        self._first: Segment | None = None
        #: (bottom, lockout) gravity directions of the last counted rep
        self._poses: tuple[np.ndarray, np.ndarray] | None = None
        #: a partial concentric inside a set, awaiting its lowering
        self._partial: Segment | None = None
        #: hip belt: the uncounted rising movements of the open set since its last rep
        #: was counted (see _unseen_rise)
        self._rises: list[Segment] = []
        self._sets: list[_SetState] = []
        self._cur: _SetState | None = None
        self._last_rep: _Rep | None = None
        self._ref_amp: float | None = None
        self._newest_t = -math.inf
        #: how far before a segment its onset may be searched (keeps results chunk-exact)
        self._search_k = int(10.0 * GRID_RATE_HZ)
        self._phase = "idle"

    def _set_lookahead(self, seconds: float) -> None:
        self._lookahead_k = max(1, int(round(seconds * GRID_RATE_HZ)))
        self._merge_k = max(self._lookahead_k, int(round(self.merge_s * GRID_RATE_HZ)))

    @property
    def _settle_fraction(self) -> float:
        """Below this fraction of the set's range a movement is settling, not a rep: the
        mount's ``min_fraction`` or ``hip_min_fraction``."""
        return self.hip_min_fraction if self.mount == "hip" else self.min_fraction

    @property
    def _tilt_from_accelerometer(self) -> bool:
        """A hip belt without a gyro: its tilt rate is the accelerometer's alone, bent by
        the hips' own acceleration."""
        return self.mount == "hip" and not self.front.has_gyro

    @property
    def phase(self) -> str:
        """What the lifter is doing now: ``concentric`` / ``eccentric`` while a movement is
        under way, else the last state (``top``, ``rest``, ``idle``)."""
        state = self._segmenter.state
        if state:
            up = state if self.mount == "bar" else state * (self._hip_sign or 1)
            return "concentric" if up > 0 else "eccentric"
        return self._phase

    # -- public API -----------------------------------------------------------------------
    def update(self, chunk: SampleChunk) -> list:
        """Feed the next samples; return the events that fired, in order."""
        if len(chunk) == 0:
            return []
        return self.ingest(*self.front.push(chunk), newest_t=float(chunk.time_s[-1]))

    def ingest(self, feats, gaps: list, *, newest_t: float) -> list:
        """The front end's output for the newest chunk (a front end shared by several
        detectors: see ``front``)."""
        self._newest_t = newest_t
        events: list = []
        for t_after, gap_s in gaps:
            events.append(GapEvent(at_s=t_after, gap_s=gap_s))
        if feats is None:
            return events
        if (not len(self.hist) and self.lookahead_s is None and self.mount == "hip"
                and self.front.has_gyro):
            self._set_lookahead(LOOKAHEAD_HIP_GYRO_S)  # decided by the stream's first chunk
        self.hist.append(feats)
        if self.mount == "bar":
            segs, vels = self._segmenter.push(feats.k, feats.m_g, feats.at_rest, feats.u,
                                              rest_dev_g=feats.rest_dev_g)
            for k, v in vels:
                self.hist.put("vbar_mps", k, v)
            for k, v in self._segmenter.raw_velocity:
                self.hist.put("vraw_mps", k, v)
        else:
            segs = self._segmenter.push(feats.k, feats.tilt_rate_dps)
        self._pending.extend(segs)  # segments close in order: the list stays sorted
        events.extend(self._drain(final=False))
        events.extend(self._timeouts(final=False))
        oldest = min([p.k_start for p in self._pending], default=int(feats.k[-1]))
        if self.mount == "bar":
            if self._segmenter.moving:
                oldest = min(oldest, int(self._segmenter.k_first))
            self._segmenter.forget_opens(oldest)
        self.hist.trim(oldest - self._search_k)
        return events

    def finish(self) -> list:
        """The stream ended: decide what is pending and close the last set."""
        events = self._drain(final=True)
        events.extend(self._timeouts(final=True))
        return events

    # -- segment processing ---------------------------------------------------------------
    def _drain(self, *, final: bool) -> list:
        events: list = []
        k_have = int(self.hist["k"][-1]) if len(self.hist) else -1
        while self._pending:
            raw = self._pending[0]
            k_end = raw.k_end
            k_seen = k_end + self._lookahead_k  # the look-ahead's end
            if not final and k_seen > k_have:
                break
            if (not final and self.mount == "bar" and not raw.early
                    and self._segmenter.moving and self._segmenter.k_moving <= k_seen):
                break  # its look-ahead runs into a movement whose velocity is not known yet
            # a movement that dipped below the exit threshold for an instant and went on
            # the same way is one movement (one look-ahead decides, whatever the chunking)
            maybe = self._may_continue(raw)
            if not final and maybe and k_end + self._merge_k > k_have:
                break
            nxt = self._continuation(raw, self._merge_k if maybe else self._lookahead_k)
            if nxt is not None:
                if isinstance(nxt, RawSegment):
                    self._pending.pop(1)
                    self._pending[0] = raw.joined(nxt)
                    continue
                if not final:
                    break  # the continuation is still under way
            k_settled = k_end
            if self._is_lowering(raw):
                # a lowering counts nothing at its end: its end may be extrapolated up to
                # where its rate settled, not only to where the segment closed (see
                # Segmenter.exit_frac)
                k_settled = self._settled_k(raw, k_have, final)
                if k_settled is None:
                    break
            k_limit = k_settled + self._lookahead_k
            # hip belt: while a first rep is held, a segment that may be its lowering is
            # judged on the seconds after it too (walk_off_s), or until the hips have risen
            # again for a concentric's time (_rise_after); a rise is not held back
            first = self._first
            k_wait = k_limit
            rise_k = None
            if self.mount == "hip" and first is not None and raw.direction == -first.tilt_dir:
                k_wait += self._walk_off_k
                rise_k = self._rise_after(first.tilt_dir, k_wait, k_have)
                if rise_k is not None:  # (never before the look-ahead's end, however long)
                    k_wait = max(k_limit, rise_k)
            # hip belt without a gyro: a lowering's end comes from its braking lobe in |f|,
            # which may run on past where the tilt rate settled (see _refine)
            k_follow = None
            if self._tilt_from_accelerometer and self._is_lowering(raw):
                k_follow = self._lobe_follow_end(raw, k_limit, k_have, final)
                if k_follow is None:
                    break  # (once known, it lies within the data)
            if not final and k_wait > k_have:
                break
            self._pending.pop(0)
            # a set times out at a moment fixed by the stream, not by where a chunk ended
            if self._last_rep is not None:
                t_raw = float(self.hist["t_s"][self.hist.index(raw.k_start)])
                if t_raw - self._set_last_s() > self.set_gap_s + 1.0:
                    events.extend(self._close_set(at_s=t_raw))
            raw, lo_k = self._late_join(raw)
            seg = self._refine(raw, k_limit, lo_k, k_follow)
            self._last_seg_end_k = k_settled
            seg_events = self._on_segment(seg, rise_k) if seg is not None else []
            events.extend(seg_events)
            if self.mount == "hip":
                if seg_events:
                    self._prev_piece.clear()
                else:
                    self._prev_piece[raw.direction] = (raw, lo_k)
        return events

    def _is_lowering(self, raw: RawSegment) -> bool:
        """``raw`` is cut short of where its rate settled and goes down: on a hip mount it
        tilts the way this session's lowerings go (known once a rep was counted); on a bar,
        a lowering cut early (see RestToRestSegmenter's ``early_frac``)."""
        if self.mount == "hip":
            return raw.direction == -self._hip_sign
        return raw.early and raw.direction < 0

    def _rate_of(self, raw: RawSegment) -> np.ndarray:
        """The rate signal ``raw`` was cut on (a bar's early cut: the velocity integrated
        from the rest before, not yet corrected)."""
        return self.hist["vraw_mps" if raw.early else self._rate_key]

    def _settled_k(self, raw: RawSegment, k_have: int, final: bool) -> int | None:
        """Grid index where the rate after ``raw`` fell below the exit level (or turned),
        at most :data:`SETTLE_MAX_S` past its end and never past the next movement's start;
        ``None`` while not yet known."""
        k_cap = max(raw.k_end, min([raw.k_end + self._settle_k, *self._next_starts(raw)]))
        return self._first_k(raw, raw.k_end, k_cap, k_have, final, rising=False)

    def _lobe_follow_end(self, raw: RawSegment, k_from: int, k_have: int,
                         final: bool) -> int | None:
        """How far a hip lowering's braking lobe may be followed (see _refine): to
        SETTLE_MAX_S past ``k_from``, or to where the hips start to rise again before that
        (the tilt rate past the exit level the other way, as the next rep starts: a bottom
        pause of nothing puts that right at the lowering's end); ``None`` while not yet
        known."""
        return self._first_k(raw, k_from, k_from + self._settle_k, k_have, final,
                             rising=True)

    def _first_k(self, raw: RawSegment, k_from: int, k_cap: int, k_have: int, final: bool,
                 *, rising: bool) -> int | None:
        """The first grid index from ``k_from`` to ``k_cap`` where the rate ``raw`` was cut
        on has fallen to the exit level its own way (``rising``: passed it the other way);
        ``k_cap`` (or the newest index at the stream's end) when none did; ``None`` while
        not yet known. Found in the stream as it comes, so chunk-exact."""
        h = self.hist
        i0, i1 = h.indices([k_from, k_cap + 1])  # grid indices are integers
        if rising:
            hit = self._rate_of(raw)[i0:i1] * -raw.direction > self._segmenter.exit
        else:
            hit = self._rate_of(raw)[i0:i1] * raw.direction <= self._segmenter.exit
        j = int(np.argmax(hit)) if len(hit) else 0
        if len(hit) and hit[j]:
            return int(h["k"][i0 + j])
        if final or k_have >= k_cap:
            return min(k_cap, k_have)
        return None

    def _late_join(self, raw: RawSegment) -> tuple[RawSegment, int]:
        """``raw``, or the uncounted piece before it joined with it; and the grid index
        before which its onset is not searched.

        Without a gyro, the hips' own acceleration bends the accelerometer's tilt in the
        middle of a fast movement: its rate can dip below zero for a moment (longer than
        the look-ahead) and split one movement in two. When the first piece was not
        counted and the second follows within the merge window, having turned back by less
        than :data:`SPLIT_DIP_MAX_DEG` (a lowering turns back by far more), they are one
        movement; outside a set too, when the first piece began a stillness window after
        the movement before it (a set's first rep is as fast as the others). Counting waits
        for the second piece's end anyway: no delay."""
        prev = self._prev_piece.get(raw.direction)
        if prev is not None and self._splits_one_movement(prev[0], prev[1], raw):
            return prev[0].joined(raw), prev[1]
        return raw, self._last_seg_end_k

    def _splits_one_movement(self, p: RawSegment, lo_k: int, raw: RawSegment) -> bool:
        """The uncounted piece ``p`` (its onset searched from ``lo_k``) and ``raw`` are one
        movement split by a dip of the bent tilt (see _late_join)."""
        if raw.k_start - p.k_end > self._merge_k:
            return False
        if self._cur is None and p.k_start - lo_k < self.front.n_still:
            # outside a set, only a movement that began a stillness window's time after
            # the movement before it ended (a set's first rep starts from the hips settled
            # at the bottom; a gait's tilt swings on from stride to stride)
            return False
        i0, i1, gap = self._rate_span(p.k_end, raw.k_start, raw.direction)
        return not (i1 > i0 and _turned_back_deg(gap) >= SPLIT_DIP_MAX_DEG)

    def _may_continue(self, raw: RawSegment) -> bool:
        """Over the look-ahead after ``raw`` the rate turned back by less than
        :data:`LOOKAHEAD_DIP_MAX_DEG` and picked up again by more than the exit level (a
        tilt creeping on under it at lockout does not hold the count back): the movement
        may go on (decided from the look-ahead alone: chunk-exact)."""
        if self.mount == "bar":
            return False  # a bar movement ends at a rest: nothing runs on
        i0, i1, r = self._rate_span(raw.k_end, raw.k_end + self._lookahead_k, raw.direction)
        if i1 >= len(self.hist) or i1 <= i0:
            return False
        # a dip of the rate: the hips' own acceleration bends the accelerometer's tilt
        # mid-movement (without a gyro); a lowering turns back by far more than a degree
        return bool(_turned_back_deg(r) < LOOKAHEAD_DIP_MAX_DEG
                    and r[-1] - r.min() > self._segmenter.exit)

    def _continuation(self, raw: RawSegment, window_k: int) -> RawSegment | bool | None:
        """The raw segment that continues ``raw`` the same way, starting within
        ``window_k`` of its end: a closed one (pending), ``True`` for one still open,
        ``None`` for none."""
        if self.mount == "bar":
            return None  # a bar's movement arrives whole, its pieces already joined
        near = raw.k_end + window_k
        if len(self._pending) > 1:
            nxt = self._pending[1]
            if nxt.direction == raw.direction and raw.k_end <= nxt.k_start <= near:
                return nxt
        seg = self._segmenter
        if seg.state == raw.direction and raw.k_end <= seg.k_open <= near:
            return True
        return None

    def _next_starts(self, raw: RawSegment) -> list[int]:
        """Where the movements after ``raw`` (the oldest pending one) start: on a hip belt
        the next closed one and the one still open; on a bar, where the early cuts'
        hysteresis opened the next one (a corrected segment shows only when its movement
        ends, which would make the bound depend on the chunking)."""
        if self.mount == "bar":
            return self._segmenter.opened_after(raw.k_end)
        starts = [self._pending[1].k_start] if len(self._pending) > 1 else []
        if self._segmenter.state:
            starts.append(int(self._segmenter.k_open))
        return starts

    def _rate_span(self, k_a: int, k_b: int, direction: int) -> tuple[int, int, np.ndarray]:
        """History positions of grid indices ``k_a`` and ``k_b`` (or the first after each)
        and the rate from one to the other, both included, signed by ``direction``."""
        h = self.hist
        i0, i1 = h.indices([k_a, k_b])
        return i0, i1, h[self._rate_key][i0:i1 + 1] * direction

    def _refine(self, raw: RawSegment, k_limit: int, lo_k: int,
                k_follow: int | None = None) -> Segment | None:
        """The movement ``raw`` timed and measured; its onset is searched back to ``lo_k``
        at the earliest (the end of the previous movement), its end up to ``k_limit``
        (and a hip lowering's braking lobe up to ``k_follow``, when given)."""
        ch = self.mount
        h = self.hist
        t = h["t_s"]
        merged = raw.k_first_end is not None
        # the grid indices this needs, found in one search
        ks = [max(lo_k, raw.k_start - self._search_k), raw.k_start,
              raw.k_end, k_limit, k_follow if k_follow is not None else k_limit]
        if merged:
            ks += [raw.k_first_end, raw.k_last_start, raw.k_first_end + self._lookahead_k]
        at = h.indices(ks)
        i_lo_bound, i0, i1 = at[:3]
        i_lim = min(len(t) - 1, at[3])
        i_follow = min(len(t) - 1, at[4])
        if i1 <= i0 or i0 < 0:
            return None
        # the rate around the segment only (the history may hold a whole chunk): ``w`` is
        # the offset of ``r`` and ``t_w`` in the history, ``*_w`` indices are relative to it
        w = min(i_lo_bound, i0)
        rate = self._rate_of(raw)
        r = rate[w:max(i1, i_lim) + 1] * raw.direction
        t_w = t[w:w + len(r)]
        i0_w, i1_w = i0 - w, i1 - w
        ip_w = i0_w + int(np.argmax(r[i0_w:i1_w]))
        # a merged movement: its start from the first piece's peak, its end from the last's
        ip_on_w, ip_off_w = ip_w, ip_w
        if merged:
            i_fe_w = max(i0 + 1, at[5]) - w
            ip_on_w = i0_w + int(np.argmax(r[i0_w:i_fe_w]))
            i_ls_w = min(i1 - 1, at[6]) - w
            ip_off_w = i_ls_w + int(np.argmax(r[i_ls_w:i1_w]))
        # the rate may sit slightly off zero in the pause before (integration residue of the
        # previous move): measure levels from that baseline
        gap = r[i_lo_bound - w:i0_w]
        r_on, r_off = float(r[ip_on_w]), float(r[ip_off_w])
        base = min(max(_median(gap), 0.0), 0.3 * r_on) if gap.size >= 3 else 0.0
        peak = r_on - base
        if peak <= 0 or r_off <= 0:
            return None
        lo, hi = ONSET_LEVELS
        t_on = _onset(t_w, r - base, ip_on_w, i_lo_bound - w, peak, lo, hi, backward=True)
        t_off_free = _onset(t_w, r, ip_off_w, i_lim - w, r_off, lo, hi, backward=False,
                            clamp=False)
        t_off = min(t_off_free, float(t_w[i_lim - w]))
        delay = self._delay
        t_start, t_end = t_on - delay, t_off - delay
        if t_end <= t_start:
            return None
        # the range is the whole merged movement's; but when the faster piece came first
        # and covered most of the way, the movement proper ended with it and the slower
        # rest is a settle or squeeze in the pause (a glute squeeze tilts the pelvis on at
        # lockout): the event ends there
        cut = bool(merged and r_on >= r_off
                   and r[i0_w:i_fe_w].sum() >= r[i_fe_w:i1_w].sum())
        if cut:  # the movement proper ended with its first piece
            i_b_w = min(i_lim, at[7]) - w
            t_first = _onset(t_w, r, ip_on_w, i_b_w, r_on, lo, hi, backward=False)
            t_end_cut = max(t_start + 1.0 / GRID_RATE_HZ, t_first - delay)
        # kinematics with zero-velocity updates at both ends
        u = h.u
        delay_acc = self.front.delay_acc_s
        at_t = h.at_times([t_start + delay_acc, t_end + delay_acc,
                           t_start - self.knock_window_s, t_start - BEFORE_S,
                           t_start - 0.2])
        a0 = max(0, at_t[0])
        a1 = min(len(t) - 1, at_t[1])
        dz, peak_v, acc_peak = self._kinematics(a0, a1)
        if cut:
            t_end = t_end_cut
        u_end = u[a1]
        u_start = u[a0]
        gyro_pose = bool(ch == "hip" and self.front.has_gyro and a1 > a0
                         and np.isfinite(h.gyr_dps[a0:a1]).all())
        if gyro_pose:
            # a rise straight out of a bounce starts under a few tenths of a g: the pose
            # is read where the hips last did not accelerate, carried over by the gyro
            u_start = self._quiet_pose(a0)
        if gyro_pose and t_end - t_start <= self.gyro_pose_max_s:
            # the hips' own deceleration at lockout bends the accelerometer's direction
            # (tens of degrees in a fast rep); the gyro carries the start pose over instead
            u_end = _propagate(u_start, h.gyr_dps[a0:a1], np.diff(t[a0:a1 + 1]))
        rotation = _angle_deg(u_start, u_end)
        if ch == "hip":
            # the range runs from pose to pose: a start found a little late (the hips' own
            # acceleration bends the accelerometer's tilt at the start of a fast rep) must
            # not shorten it, so the bottom pose is the farthest one just before
            b0 = max(i_lo_bound, a0 - int(0.4 * GRID_RATE_HZ))
            if b0 < a0:
                rotation = max(rotation, _max_turn_deg(u[b0:a0 + 1], u_end))
        # plate knocks: g-level spikes in the seconds before or inside the movement (the
        # first 0.2 s may hold a bounce off the bottom, which belongs to the previous rep)
        k0 = max(i_lo_bound, at_t[2])
        pre = h["raw_m_g"][k0:max(k0, a0 - int(0.15 * GRID_RATE_HZ))]
        inside = h["raw_m_g"][a0 + int(0.2 * GRID_RATE_HZ):a1 + 1]
        knock = bool((pre.size and pre.max() > self.knock_g)
                     or (inside.size and inside.max() > self.knock_g))
        if ch == "hip":
            # the pelvis rotation itself (exact, free of the arc estimate's lag)
            amp = rotation
        else:
            # a rise runs bottom -> top pause: both ends at rest, so the rise with a
            # zero-velocity update at each end is right; a lowering may end still moving
            # (slow or bounced), so it takes the travel of the running velocity
            if raw.direction > 0:
                amp = abs(dz)
            else:
                v = rate[a0:a1 + 1]
                amp = abs(float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(t[a0:a1 + 1]))))
        if ch == "bar":
            direction = raw.direction
        else:
            direction = self._hip_direction(raw.direction, dz)
        before = slice(max(0, at_t[3]), max(0, at_t[4]))  # BEFORE_S before the start
        # the times reported: a movement's start and a rise's lockout from the
        # acceleration's own lobes (see _lobe_onset)
        trusted = ch == "bar" or gyro_pose
        mid = 0.5 * (t_start + t_end)
        t_start_lobe = self._lobe_onset(t_start, mid, direction, i_lo_bound, i_lim,
                                        backward=True)
        t_end_report = None
        if direction > 0 and not cut:
            t_end_report = self._lobe_onset(t_end, mid, direction, i_lo_bound, i_lim,
                                            backward=False)
        elif direction < 0 and not cut and trusted:
            # a lowering's rate fades slowly into the bottom (gravity is let in gently):
            # its zero lies past the data looked at, where the extrapolation puts it (at
            # most SETTLE_MAX_S on; the next rep's start cuts it, see _result). Not without
            # a gyro on the hips: their deceleration bends the accelerometer's tilt into
            # bumps that the extrapolation would follow too far
            t_end_report = min(t_off_free, t_off + SETTLE_MAX_S) - delay
        elif direction < 0 and not cut and k_follow is not None:
            # ... there, the lowering ends where its braking lobe in |f| (which no rotation
            # bends) comes back to zero, within SETTLE_MAX_S of the rate's end (the lobe is
            # followed as far as _lobe_follow_end allows); a slow lowering's rate fades
            # below its exit level well before the hips stop
            t_end_report = self._lobe_onset(t_end, mid, direction, i_lo_bound, i_lim,
                                            backward=False, reach_s=SETTLE_MAX_S,
                                            min_mps2=LOWERING_LOBE_MIN_MPS2,
                                            i_follow=i_follow)
        return Segment(direction=direction, tilt_dir=raw.direction,
                       t_start=t_start, t_end=t_end, t_start_lobe=t_start_lobe,
                       t_end_report=t_end_report, rate_trusted=trusted, amp=amp, dz_m=dz,
                       peak_v_mps=peak_v, rotation_deg=rotation, knock=knock,
                       peak_abs_acc_g=acc_peak,
                       peak_frac=(float(t_w[ip_w]) - delay - t_start) / (t_end - t_start),
                       u_start=np.array(u_start, dtype=float),
                       u_end=np.array(u_end, dtype=float),
                       walked_before=bool(h["walking"][before].any()),
                       stepped_before=bool(h["stepping"][before].any()))

    def _quiet_pose(self, a0: int) -> np.ndarray:
        """Hip belt with a gyro: the gravity direction at history position ``a0``, carried
        by the gyro from the end of the last QUIET_RUN_S (within QUIET_POSE_S before it)
        in which the hips did not accelerate: a rise straight out of a bounce starts under
        a few tenths of a g, which bends the accelerometer's direction by tens of degrees
        (a single quiet sample may be where a movement's acceleration changes sign). Looked
        for by time, not across a gap in the data (the history keeps no samples there)."""
        h = self.hist
        t = h["t_s"]
        j0 = h.at_times(t[a0] - QUIET_POSE_S)
        gaps = np.flatnonzero(np.diff(h["k"][j0:a0 + 1]) > 1)  # grid points missing
        if len(gaps):
            j0 += int(gaps[-1]) + 1
        n_run = int(round(QUIET_RUN_S * GRID_RATE_HZ))
        if a0 - j0 + 1 < n_run:
            return h.u[a0]
        loud = np.abs(h["az_mps2"][j0:a0 + 1]) >= QUIET_ACC_MPS2
        # the end of the last run of QUIET_RUN_S without acceleration
        run = np.convolve(loud, np.ones(n_run, dtype=int), mode="valid") == 0
        if not run.any():
            return h.u[a0]
        j = j0 + int(np.flatnonzero(run)[-1]) + n_run - 1
        if j == a0 or not np.isfinite(h.gyr_dps[j:a0]).all():
            return h.u[a0]
        return _propagate(h.u[j], h.gyr_dps[j:a0], np.diff(t[j:a0 + 1]))

    def _lobe_onset(self, t_rate: float, t_mid: float, direction: int, i_lo: int,
                    i_hi: int, *, backward: bool, reach_s: float = ACC_LOBE_REACH_S,
                    min_mps2: float = ACC_LOBE_MIN_MPS2,
                    i_follow: int | None = None) -> float | None:
        """A movement's start (``backward``) or end refined: where the vertical
        acceleration's strongest lobe that starts (brakes) a movement going ``direction``
        leaves zero or comes back to it, looked for between the time ``t_rate`` the rate
        gives, widened by ``reach_s``, and the movement's middle ``t_mid`` (history
        positions ``i_lo`` .. ``i_hi`` at most: the data the decision is made on; an end's
        lobe is followed back to zero up to ``i_follow`` if given, and must have come back
        under the low level before it); ``None`` when no lobe peaks above ``min_mps2``, or for
        an end, when it lies farther than that reach from ``t_rate`` (the braking into a
        sticking point's dip near lockout, not the lockout). A start may lie far after the
        rate's: without a gyro, the hips' first push bends the accelerometer's tilt well
        before they rise.

        A movement from rest starts with an acceleration lobe and ends with a braking one,
        and near rest the acceleration grows linearly (finite jerk), so its zero is
        extrapolated as :func:`_onset` does with the rate, one power lower. ``|f|`` is
        rotation-invariant: unlike the accelerometer's tilt, it is not bent by the hips'
        own acceleration, and unlike the rate it needs no integration."""
        h = self.hist
        d = self.front.delay_acc_s
        reach = reach_s
        t_a, t_b = (t_rate - reach, t_mid) if backward else (t_mid, t_rate + reach)
        i0, i1 = h.at_times([t_a + d, t_b + d])
        i0, i1 = max(i0, i_lo), min(i1, i_hi)
        if i1 - i0 < 3:
            return None
        i2 = i1 if backward or i_follow is None else max(i1, i_follow)
        tt = h["t_s"][i0:i2 + 1]
        a = h["az_mps2"][i0:i2 + 1] * (direction if backward else -direction)
        ip = int(np.argmax(a[:i1 - i0 + 1]))
        peak = float(a[ip])
        lo, hi = ONSET_LEVELS
        if i_follow is None or backward:
            whole = a[0 if backward else -1] < lo * peak  # the window's edge is past it
        else:  # followed: back under the low level somewhere before the follow's end (which
            whole = bool((a[ip:] < lo * peak).any())  # may lie in the next rise's lobe)
        if peak < min_mps2 or not whole:
            return None  # no lobe clear of the noise, or not all of it in the window
        t_lobe = _onset(tt, a, ip, 0 if backward else len(tt) - 1, peak, lo, hi,
                        backward=backward, power=1) - d
        return t_lobe if backward or abs(t_lobe - t_rate) <= reach else None

    def _hip_direction(self, tilt_dir: int, dz: float) -> int:
        """Which way is up: inside a set, the way its counted reps' tilt went (the pelvis
        tilts the same way whenever the hips rise, and the arc estimate keeps its sign
        while the lifter stays in position; the rise integrated from ``|f|`` drifts on slow
        movements); else the segment's own rise when it is clear, else the way the last
        counted reps' tilt went."""
        if self._last_rep is not None:
            return 1 if tilt_dir == self._last_rep.up.tilt_dir else -1
        if abs(dz) >= self.min_rise_m or not self._hip_sign:
            return 1 if dz > 0 else -1
        return tilt_dir * self._hip_sign

    def _kinematics(self, i0: int, i1: int) -> tuple[float, float, float]:
        """Vertical travel and peak velocity between two zero-velocity instants."""
        h = self.hist
        if i1 - i0 < 2:
            return 0.0, 0.0, 0.0
        t, v, dz = self._zupt_velocity(i0, i1)
        peak_v = float(v.max() if dz >= 0 else v.min())
        # strongest vertical acceleration in the first 0.3 s (a bounce off the bottom)
        n_head = max(1, int(0.3 * GRID_RATE_HZ))
        j0 = max(0, i0 - int(0.15 * GRID_RATE_HZ))
        head = h["az_mps2"][j0:i0 + n_head]
        acc_peak = max(float(head.max()), -float(head.min())) / STANDARD_GRAVITY_MPS2
        return dz, peak_v, acc_peak

    def _zupt_velocity(self, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray, float]:
        """Vertical velocity between two zero-velocity instants (history positions ``i0``,
        ``i1``; the linear drift removed so that it is zero at both), its times, and the
        vertical travel."""
        h = self.hist
        t = h["t_s"][i0:i1 + 1]
        a = h["az_mps2"][i0:i1 + 1]
        dt = np.diff(t)
        # trapezoids, in place: (a[1:] + a[:-1]) * 0.5 * dt, summed from v = 0
        step = a[1:] + a[:-1]
        step *= 0.5
        step *= dt
        v = np.empty(len(t))
        v[0] = 0.0
        np.cumsum(step, out=v[1:])
        span = t[-1] - t[0]
        ramp = t - t[0]
        ramp *= v[-1]
        ramp /= span
        v -= ramp
        step = v[1:] + v[:-1]
        step *= 0.5
        step *= dt
        dz = float(np.cumsum(step)[-1])  # a running sum (np.sum would add pairwise)
        return t, v, dz

    def _unseen_lowering(self, up: Segment, t_next_s: float) -> Segment | None:
        """Bar mount: the lowering between the lockout of ``up`` and the next rise starting
        at ``t_next_s``, when it was too slow to show as a movement of its own.

        A bar gliding down at constant speed feels no acceleration and looks at rest, so
        the segmenter may miss a slow eccentric. But the bar is still at both ends (the top
        pause, the bottom before the next rise): integrated between them with the drift
        removed, the velocity shows the lowering and when it ran. Its times are what this
        gives: over several seconds the travel is only good to about a decimetre, so any
        net lowering is taken (the decision that there was one is made elsewhere)."""
        h = self.hist
        t = h["t_s"]
        d = self.front.delay_acc_s
        i0, i1 = h.at_times([up.t_end + d, t_next_s + d])
        i1 = min(i1, len(t) - 1)
        if i1 - i0 < 3 or t[i0] > up.t_end + d + 0.1:
            return None  # the history no longer holds the lockout (or holds a gap)
        tt, v, dz = self._zupt_velocity(i0, i1)
        if dz >= 0:
            return None
        down = -v
        ip = int(np.argmax(down))
        peak = float(down[ip])
        if peak <= 0:
            return None
        lo, hi = ONSET_LEVELS
        t_on = _onset(tt, down, ip, 0, peak, lo, hi, backward=True) - d
        t_off = _onset(tt, down, ip, len(tt) - 1, peak, lo, hi, backward=False) - d
        if not 0 < t_off - t_on <= self.max_eccentric_s:
            return None
        return Segment(direction=-1, tilt_dir=-1, t_start=t_on, t_end=t_off, amp=-dz,
                       dz_m=dz, peak_v_mps=-peak,
                       rotation_deg=_angle_deg(h.u[i0], h.u[i1]), knock=False,
                       peak_abs_acc_g=0.0,
                       peak_frac=(float(tt[ip]) - d - t_on) / (t_off - t_on),
                       u_start=h.u[i0].copy(), u_end=h.u[i1].copy())

    # -- rep logic ------------------------------------------------------------------------
    def _concentric_time(self, s: Segment) -> bool:
        """``s`` takes a concentric's time, with no plate knock in or just before it."""
        return (self.min_concentric_s <= s.t_end - s.t_start <= self.max_concentric_s
                and not s.knock)

    def _is_concentric(self, s: Segment) -> bool:
        if not self._concentric_time(s):
            return False
        if self.mount == "hip":
            # inside a set the set's own range sets the floor (partial reps are small);
            # outside, an absolute one keeps walking sway and settling out
            min_deg = self.hip_min_deg
            ref = self._reference_amp() if self._last_rep is not None else None
            if ref:
                min_deg = max(self.hip_partial_min_deg, self._settle_fraction * ref)
            # on the hip-thrust arc the hips rise ~0.5 m per radian of pelvis rotation
            # (torso length); sitting down or lying back rotates the pelvis far more per rise
            if not self._hip_turn_in_range(s, min_deg):
                return False
            if (max(self.min_rise_m, self.hip_min_rise_m_per_deg * s.amp)
                    <= s.dz_m <= self.hip_max_rise_m):
                return True
            # inside a set, a rise that turns the pelvis through a full rep's range is one:
            # a fast rep without pauses has no rest at its ends for the rise's zero-velocity
            # updates, and its rise comes out far too large (getting up turns far more)
            if ref and s.dz_m > self.hip_max_rise_m and self._like_range(s.amp, ref):
                return True
            # the rise integrated from |f| is poor on slow movements; a movement from the
            # session's bottom pose to its lockout pose is a hip thrust all the same
            return self._known_pose(s)
        # outside a set only a full range counts (the hips rise from hovering above the
        # floor to bench height: 0.15 m at the very least); inside, the set's range sets
        # the floor (partial reps)
        min_m = self.bar_first_min_m
        ref = self._reference_amp() if self._last_rep is not None else None
        if ref:
            min_m = max(self.bar_min_m, self._settle_fraction * ref)
        return (min_m <= s.dz_m <= self.bar_max_m
                and s.rotation_deg <= self.bar_max_rotation_deg)

    def _turns_like_a_rep(self, s: Segment) -> bool:
        """Hip belt: ``s`` turns the pelvis through a hip thrust's range in a concentric's
        time, whatever its rise estimate. Without a gyro, the hips' own acceleration at
        the start of a fast rep bends the accelerometer's tilt back, its onset is found
        late and the rise integrated from there comes out short."""
        return (self._tilt_from_accelerometer and self._concentric_time(s)
                and self._hip_turn_in_range(s, self.hip_min_deg) and s.dz_m > 0)

    def _hip_turn_in_range(self, s: Segment, min_deg: float) -> bool:
        """``s`` turns the pelvis by ``min_deg`` at least and no further than a hip thrust
        can (sitting down or lying back turns it farther)."""
        return min_deg <= s.amp <= self.hip_max_deg

    def _lowers(self, s: Segment, up: Segment) -> bool:
        """``s`` moves back the way ``up`` came. On a hip mount the tilt direction says so
        exactly (the rise estimate of a rotating pelvis is only rough)."""
        if self.mount == "hip":
            return s.tilt_dir == -up.tilt_dir
        return s.direction < 0

    def _is_big_move(self, s: Segment) -> bool:
        """A movement far larger than a hip thrust: the athlete left the lifting position."""
        # judged by rotation only: the rise estimate is what drifts when things go wrong
        if self.mount == "hip":
            return s.amp > self.hip_max_deg
        return s.rotation_deg > 45.0

    def _on_segment(self, s: Segment, rise_k: int | None) -> list:
        """Judge the next movement ``s``; ``rise_k``: where the hips had risen again after
        it for a concentric's time, if they had by the end of the walk-off wait (see
        _rise_after)."""
        events: list = []
        rep = self._last_rep
        if s.direction < 0 and rep is not None and self._is_big_move(s):
            events.extend(self._close_set(at_s=self._newest_t))
            return events
        first = self._first
        if first is not None:
            if s.t_start > first.t_end + self._unseen_hold_s:
                self._first = None  # held too long: it was not a rep
            elif self._confirms_first(s, first):
                self._first = None
                if self.mount == "hip" and self._walks_off(first, s, rise_k):
                    return events  # the first strides of a walk
                # the lowering confirms the first rep of a set
                return events + self._count_lowered(first, s)
        pend, self._partial = self._partial, None
        if pend is not None and s.t_start <= pend.t_start:
            pend = None  # ``s`` is ``pend`` joined with the rest of its movement (_late_join)
        if pend is not None:
            if self._confirms(s, pend):
                # its lowering confirms a partial rep (announced late: it is not counted)
                return events + self._count_lowered(pend, s)
            if s.direction < 0:
                return events
            if (self._cur is not None and len(self._cur.reps) >= 2
                    and self._back_at_start(s, pend, self.max_hold_s)):
                # a lowering too slow to show as a movement: the next rise starts where
                # the partial rep started, so the hips came back down (in a set of a few
                # reps already: a "set" of one may be a settling movement, see below)
                events.extend(self._count(pend))
                rep = self._last_rep
        if s.direction < 0:
            if rep is not None:
                if rep.down is None and s.t_start >= rep.up.t_end - 0.05:
                    if s.amp >= 0.3 * rep.up.amp:
                        rep.down = s
                        self._phase = "eccentric"
                elif rep.down is not None and s.t_start - rep.down.t_end < 0.5:
                    rep.down = s if s.amp > rep.down.amp else rep.down
                elif rep.down is not None:
                    up = self._unseen_rise(rep, s)
                    if up is not None:
                        return events + self._count_lowered(up, s)
            return events
        # rising segment: a concentric?
        if not self._is_concentric(s):
            if rep is not None and self._is_big_move(s):  # getting up, sitting up...
                events.extend(self._close_set(at_s=self._newest_t))
            elif rep is not None and self.mount == "hip":
                self._rises.append(s)
            elif (rep is None and self._first is not None and not s.walked_before
                  and s.tilt_dir == self._first.tilt_dir and self._turns_like_a_rep(s)
                  and _angle_deg(s.u_start, self._first.u_end) <= self.known_pose_deg):
                # the held "concentric" ended where this starts, tilting the same way (lying
                # back ends in the bottom pose): the hips cannot rise twice without coming
                # down in between, so it was not a rep, and this one's rise estimate failed
                # (see _turns_like_a_rep). Held instead; its lowering must bring the pelvis
                # back (_confirms_first)
                self._first = s
            return events
        if (self.mount == "bar" and rep is not None and rep.down is None
                and s.t_start <= self._moved_until(rep) + self.set_gap_s):
            rep.down = self._unseen_lowering(rep.up, s.t_start)
        # set membership: a long gap ends a set, and so does a step cadence (the lifter
        # got up and walked off; a rep's bounce off the bottom may feel like a step
        # impact, but reps never come at a walking cadence)
        if rep is not None and (s.t_start - self._moved_until(rep) > self.set_gap_s
                                or s.stepped_before):
            events.extend(self._close_set(at_s=self._newest_t))
            rep = None
        if rep is None:
            # the first rep of a set waits for its lowering: getting up, lying back or
            # sitting down end like a concentric but never come back down. And nobody walks
            # straight into a hip thrust: no step impacts just before it.
            if s.walked_before:
                return events
            if self._known_pose(s):
                return events + self._count(s)
            held = self._first
            if held is None or not self._rises_again(s, held):
                self._first = s
                return events
            # the held concentric's lowering was too slow to show as a movement (a bar
            # gliding down at constant speed feels no acceleration), but the hips cannot
            # rise twice from the same place without coming back down: it was a rep
            down = self._unseen_lowering(held, s.t_start)
            events.extend(self._count(held) if down is None
                          else self._count_lowered(held, down))
            rep = self._last_rep
            if rep is None:  # too small against the last set's range to be a rep
                return events
        if not self._same_pose(rep, s):
            if self._cur is not None and len(self._cur.reps) <= 1:
                # the "set" so far is one movement from another pose: it was likely not a
                # rep. Close it; this concentric may open the real set (pending its lowering)
                events.extend(self._close_set(at_s=self._newest_t))
                if not s.walked_before:
                    self._first = s
            return events
        ref = self._reference_amp()
        if ref and s.amp < self.partial_fraction * ref:
            # a partial rep is not counted, so it can wait for its lowering to confirm it
            # (settling wiggles never come back down as a movement of their own)
            self._partial = s
            return events
        return events + self._count(s)

    def _unseen_rise(self, rep: _Rep, s: Segment) -> Segment | None:
        """Hip belt: the rise between the lowering of ``rep`` and the lowering ``s``, when
        no rise in between was counted.

        Without a gyro, the hips' own acceleration in a fast concentric bends the
        accelerometer's tilt so far that the rise comes out in pieces, none of them like a
        concentric (too short, or turned back by more than a split allows). The lowerings
        show well: they are slower, and the tilt at the top pause, at rest, is exact. The
        hips cannot lower twice without rising in between: a lowering of the set's range
        that starts from its lockout pose after the last rep's lowering ended means a rep
        was done. Its concentric runs over the uncounted rising pieces in between, and it
        is announced late, with its lowering."""
        if self.mount != "hip" or not self._lowers(s, rep.up) or s.walked_before:
            return None
        ref = self._reference_amp()
        if not ref or not self._like_range(s.amp, ref):
            return None
        full = self._last_full_rep()
        if full is None or _angle_deg(s.u_start, full.up.u_end) > self.known_pose_deg:
            return None
        # a rise takes a concentric's time at least, and the lowering begins from a squeeze
        # held at the top (a gait's tilt swings on without one: a lifter walking off the
        # bench is no set of reps)
        t_from = rep.down.t_end
        gap = s.t_start - t_from
        if not self.min_concentric_s + self.no_top_pause_s <= gap <= self.set_gap_s:
            return None
        # (all of them rose the way the set's reps do: _hip_direction, inside a set)
        pieces = [p for p in self._rises if t_from < p.t_end <= s.t_start + 0.05]
        if not pieces:
            return None
        first, last = pieces[0], pieces[-1]
        if last.t_end - first.t_start > self.max_concentric_s:
            return None
        u_start = rep.down.u_end  # a hip segment always carries its poses (_refine)
        amp = _angle_deg(u_start, s.u_start)
        if not self._like_range(amp, ref):
            return None  # the lowering before it went part of the way only
        return Segment(direction=1, tilt_dir=rep.up.tilt_dir, t_start=first.t_start,
                       t_end=last.t_end, t_start_lobe=first.t_start_lobe,
                       t_end_report=last.t_end_report, rate_trusted=first.rate_trusted,
                       amp=amp, dz_m=-s.dz_m,
                       peak_v_mps=max(p.peak_v_mps for p in pieces), rotation_deg=amp,
                       knock=False, peak_abs_acc_g=first.peak_abs_acc_g, peak_frac=0.5,
                       u_start=u_start, u_end=s.u_start)

    def _back_at_start(self, s: Segment, up: Segment, within_s: float) -> bool:
        """The rise ``s`` starts where the held rise ``up`` started, within ``within_s``
        of its lockout."""
        return (s.t_start <= up.t_end + within_s
                and _angle_deg(s.u_start, up.u_start) <= self.pose_match_deg)

    @property
    def _unseen_hold_s(self) -> float:
        """How long after a held rise the next one may start when the lowering in between
        went unseen: the hold time plus the slowest lowering."""
        return self.max_hold_s + self.max_eccentric_s

    def _rises_again(self, s: Segment, up: Segment) -> bool:
        """Bar mount: the rise ``s`` repeats the held rise ``up`` after a lowering that
        could go unseen: from where it started, over a like range (the partial-rep band:
        putting the weight onto the hips is a rise too, but rarely of a rep's range), after
        at least :data:`UNSEEN_LOWERING_MIN_S` and at most a top pause and the slowest
        lowering. (A hip belt's lowering always shows: the pelvis tilts back.)"""
        return (self.mount == "bar"
                and s.t_start - up.t_end >= UNSEEN_LOWERING_MIN_S
                and self._back_at_start(s, up, self._unseen_hold_s)
                and self._like_range(s.amp, up.amp))

    def _like_range(self, amp: float, ref: float) -> bool:
        """A movement of range ``amp`` is a full rep against the range ``ref``: within the
        partial-rep band either way."""
        return self.partial_fraction * ref <= amp <= ref / self.partial_fraction

    def _confirms(self, s: Segment, up: Segment) -> bool:
        """``s`` is the lowering of the held concentric ``up``."""
        return (self._lowers(s, up)
                and up.t_end - 0.05 <= s.t_start <= up.t_end + self.max_hold_s
                and s.amp >= self.confirm_fraction * up.amp)

    def _confirms_first(self, s: Segment, up: Segment) -> bool:
        """``s`` is the lowering of the held first concentric ``up`` of a set. On a hip belt
        it also takes a concentric's time at least (gravity lets the hips down at under
        1 g: a quick settle's bent tilt swings faster) and brings the pelvis back to within
        ``1 - confirm_fraction`` of ``up``'s range of where ``up`` started (lying back ends
        in the bottom pose and the settling after it moves about there; sensor handling
        turns it anywhere)."""
        if not self._confirms(s, up):
            return False
        if self.mount == "bar":
            return True
        return (s.t_end - s.t_start >= self.min_concentric_s
                and _angle_deg(s.u_end, up.u_start) <= (1.0 - self.confirm_fraction) * up.amp)

    def _walks_off(self, up: Segment, down: Segment, rise_k: int | None) -> bool:
        """A step cadence from the start of ``up`` until ``walk_off_s`` after its lowering
        ``down`` ended, or until grid index ``rise_k`` where the hips had risen again (see
        _rise_after): the first strides of a walk, not a rep."""
        h = self.hist
        i0, i1 = h.at_times([up.t_start, down.t_end + self.walk_off_s])
        if rise_k is not None:
            i1 = min(i1, h.index(rise_k))
        return bool(h["stepping"][i0:i1].any())

    def _rise_after(self, rise_dir: int, k_until: int, k_have: int) -> int | None:
        """Where the first rise after the head of the queue (a possible lowering) to last
        a concentric's time (``min_concentric_s``) had lasted it, if by ``k_until``; else
        ``None``. Walking swings the pelvis back and forth at the step cadence (under
        0.3 s a swing): the next rep's concentric ends the walk-off wait early. Read from
        the segments closed and the one still open: a :class:`Segmenter` closes a segment
        with the sample that ends it, so a rise open that long at one chunk's end is one
        that closes no sooner in any other chunking, and the same place is found."""
        n = self._min_concentric_k
        for p in self._pending[1:]:  # by end; they do not overlap, so by start too
            if p.k_start + n > k_until:
                return None
            if p.direction == rise_dir and p.k_end - p.k_start >= n:
                return p.k_start + n
        seg = self._segmenter  # the open segment starts after every closed one
        if seg.state == rise_dir and seg.k_open + n <= min(k_until, k_have):
            return seg.k_open + n
        return None

    def _count_lowered(self, up: Segment, down: Segment) -> list:
        before = self._last_rep
        events = self._count(up)
        if self._last_rep is not before:
            self._last_rep.down = down
            self._phase = "eccentric"
        return events

    def _known_pose(self, s: Segment) -> bool:
        """Like the session's counted reps, so it can be counted at lockout without
        waiting. On a hip belt: starts in their bottom pose and ends in their lockout pose.
        A bar's pose is no guide: the bar is rolled about its own axis between sets (on
        and off the hips), which turns the sensor with it by tens of degrees. But a bar
        barely turns in a rep (nor when it is lifted off the hips; a concentric turns it
        by under ``bar_max_rotation_deg``): the sensor must not have turned by more than
        ``known_pose_deg`` in the :data:`BEFORE_S` before the rise (a dumbbell just lifted onto the
        hips has), and the rise must travel the range of the previous set's reps."""
        poses = self._poses
        if poses is None:
            return False
        if self.mount == "hip":
            bottom, top = poses
            return (_angle_deg(s.u_start, bottom) <= self.known_pose_deg
                    and _angle_deg(s.u_end, top) <= self.known_pose_deg)
        # a full rep's range, as in the previous set (within the partial-rep band)
        ref = self._ref_amp
        return (ref is not None and self._like_range(s.amp, ref)
                and self._turned_before(s) <= self.known_pose_deg)

    def _turned_before(self, s: Segment) -> float:
        """How far the sensor had turned from ``s``'s starting pose in the
        :data:`BEFORE_S` before it started, degrees."""
        h = self.hist
        i0, i1 = h.at_times([s.t_start - BEFORE_S, s.t_start])
        if i1 <= i0:
            return 0.0
        return _max_turn_deg(h.u[i0:i1], s.u_start)

    def _same_pose(self, rep: _Rep, s: Segment) -> bool:
        """Within a set every rep starts where the last one ended and locks out alike."""
        # the bottom pose: where the last rep started, or where its lowering ended (the
        # two differ when that lowering ran on into a bounce; either one may be bent by
        # the hips' acceleration in a fast movement)
        bottoms = (rep.up.u_start,) if rep.down is None else (rep.up.u_start, rep.down.u_end)
        if min(_angle_deg(s.u_start, b) for b in bottoms) > self.pose_match_deg:
            return False
        # a partial rep stops short of lockout by design: only full-range reps must lock out
        # like the previous one
        ref = self._reference_amp()
        if ref and s.amp < self.partial_fraction * ref:
            return True
        # ... like the set's last full-range rep (a partial rep in between stopped short of
        # it); ``rep`` is the last rep of the open set
        full = self._last_full_rep() or rep
        return _angle_deg(s.u_end, full.up.u_end) <= self.pose_match_deg

    def _last_full_rep(self) -> _Rep | None:
        """The open set's last full-range rep."""
        return next((r for r in reversed(self._cur.reps) if not r.partial), None)

    def _count(self, s: Segment) -> list:
        """Make ``s`` the concentric of a new rep (counted or partial) and announce it."""
        events: list = []
        self._first = None  # anything still waiting came before this rep: obsolete
        self._rises.clear()
        rep = self._last_rep
        if rep is not None:
            _meet(rep.down, s)
            if s.t_start - self._rep_end(rep) < 0.15:
                rep.next_up = s
            events.extend(self._finish_rep(rep, next_start=s.t_start_event))
        ref = self._reference_amp()
        frac = s.amp / ref if ref else None
        if frac is not None and frac < self._settle_fraction:
            return events  # settling, not a rep (and no set opened for it)
        partial = frac is not None and frac < self.partial_fraction
        if partial and self._cur is None:
            # a set opens with a full-range rep: a lone part-range movement between sets
            # (shifting on the bench, settling the bar) is no set. (A later set whose
            # range is below the partial fraction of the last one's opens no set either:
            # re-learning the range from two such movements in a row re-opened "sets" in
            # unrecognised walking, so it is not done)
            return events
        if self.mount == "hip":
            self._hip_sign = s.tilt_dir  # a counted concentric: rising tilt is this way
        if self._cur is None:
            self._cur = _SetState(index=len(self._sets) + 1)
            self._sets.append(self._cur)
        count = None if partial else sum(1 for r in self._cur.reps if not r.partial) + 1
        new = _Rep(up=s, set_index=self._cur.index, partial=partial, count=count,
                   range_fraction=frac, index=len(self._cur.reps) + 1)
        if rep is not None:  # finished above
            new.bottom_before_s = rep.result.bottom_pause_s
        self._cur.reps.append(new)
        self._last_rep = new
        if not partial:
            self._poses = (s.u_start.copy(), s.u_end.copy())

        self._phase = "top"
        if partial:
            events.append(PartialEvent(set=new.set_index, at_s=self._newest_t,
                                       rep=self._result(new, None)))
        else:
            events.append(RepEvent(set=new.set_index, rep=count, at_s=self._newest_t,
                                   top_s=s.t_end_event, start_s=s.t_start_event,
                                   rom_m=s.dz_m if self.mount == "bar" else None))
        return events

    def _reference_amp(self) -> float | None:
        # every rep of the set votes (a single odd first rep cannot hold the reference)
        amps = [r.up.amp for r in self._cur.reps] if self._cur else []
        if self._ref_amp is not None:  # the previous set's range is one more vote
            amps.append(self._ref_amp)
        return _median(amps) if amps else None

    def _set_last_s(self) -> float:
        """When the open set last moved: its last rep's end, or a partial rep after it
        that still awaits its lowering."""
        end = self._moved_until(self._last_rep)
        return max(end, self._partial.t_end) if self._partial is not None else end

    def _moved_until(self, rep: _Rep) -> float:
        """When ``rep`` may have ended: its lowering's end; on a bar whose lowering was not
        seen (a slow glide), its lockout plus the slowest lowering."""
        if rep.down is None and self.mount == "bar":
            return rep.up.t_end + self.max_eccentric_s
        return self._rep_end(rep)

    @staticmethod
    def _rep_end(rep: _Rep) -> float:
        return rep.down.t_end if rep.down is not None else rep.up.t_end

    def _finish_rep(self, rep: _Rep, next_start: float | None) -> list:
        res = self._result(rep, next_start)
        rep.result = res
        return [RepDoneEvent(set=rep.set_index, at_s=self._newest_t, rep=res)]

    def _result(self, rep: _Rep, next_start: float | None) -> RepResult:
        """``rep`` as reported; ``next_start``: when the next rep started (it ends the
        bottom pause), if known."""
        up, down = rep.up, rep.down
        start, top = up.t_start_event, up.t_end_event
        descent = down.t_start_event if down is not None else top
        end = down.t_end_event if down is not None else top
        if next_start is not None:
            end = min(end, next_start)
        descent = max(descent, top)
        end = max(end, descent)
        bottom_pause_s = 0.0 if next_start is None else max(0.0, next_start - end)
        flags: list[str] = []
        if rep.partial:
            flags.append(FLAG_PARTIAL_RANGE)
        if down is not None:
            if descent - top < self.no_top_pause_s:
                flags.append(FLAG_NO_TOP_PAUSE)
            if end - descent < self.fast_eccentric_s:
                flags.append(FLAG_FAST_ECCENTRIC)
        # bounce: no pause at the bottom and the fall arrested abruptly (a g-level spike at the
        # turnaround, and the eccentric still near its peak speed late in the lowering)
        nxt = rep.next_up
        if (nxt is not None and down is not None and nxt.peak_abs_acc_g >= self.bounce_acc_g
                and down.peak_frac >= 0.6):
            flags.append(FLAG_BOUNCE)
        report_kin = self.mount == "bar"
        conc = top - start
        return RepResult(
            index=rep.index, start_s=start, top_s=top, descent_s=descent,
            end_s=end,
            bottom_pause_s=bottom_pause_s,
            rom_m=up.dz_m if report_kin else None,
            mean_velocity_mps=(up.dz_m / conc) if report_kin and conc > 0 else None,
            peak_velocity_mps=up.peak_v_mps if report_kin else None,
            partial=rep.partial, flags=flags, count=rep.count,
            range_fraction=rep.range_fraction, rotation_deg=up.rotation_deg,
            bottom_before_s=rep.bottom_before_s,
        )

    def _close_set(self, at_s: float) -> list:
        events: list = []
        cur = self._cur
        if cur is None:
            return events
        if self._last_rep is not None and self._last_rep.result is None:
            events.extend(self._finish_rep(self._last_rep, next_start=None))
        amps = cur.full_amps
        if len(amps) >= 2 and self._last_rep is not None:
            # a set's range is the next set's reference; a "set" of one movement (the
            # sensor handled, a settling movement taken for a rep) is none: with its odd
            # range, every later set's reps would be partial reps and open no set
            self._ref_amp = _median(amps)
        full = sum(1 for r in cur.reps if not r.partial)
        events.append(SetDoneEvent(set=cur.index, at_s=at_s, reps=full,
                                   partial_reps=len(cur.reps) - full))
        self._cur = None
        self._last_rep = None
        self._rises.clear()
        self._phase = "rest"
        return events

    def _timeouts(self, *, final: bool) -> list:
        rep = self._last_rep
        if rep is None:
            return []
        if final:
            return self._close_set(at_s=self._newest_t)
        t_now = float(self.hist["t_s"][-1])
        # a movement under way holds the set open (on a bar even below ``enter`` speed, as
        # in _drain)
        idle = not self._segmenter.busy and not self._pending
        if idle and t_now - self._set_last_s() > self.set_gap_s + 1.0:
            return self._close_set(at_s=self._newest_t)
        return []


def _meet(down: Segment | None, up: Segment) -> None:
    """A lowering's end and the next concentric's start are each extrapolated to zero speed
    (see _onset); with no pause at the bottom (a bounce) they can overlap. The turnaround is
    one instant: both meet halfway."""
    if down is None or up.t_start >= down.t_end:
        return
    mid = 0.5 * (down.t_end + up.t_start)
    down.t_end = up.t_start = min(max(mid, down.t_start), up.t_end)


def _turned_back_deg(r: np.ndarray) -> float:
    """How far a rate (deg/s on the grid, signed along a movement) turned back against it."""
    return float(np.clip(-r, 0.0, None).sum()) / GRID_RATE_HZ


def _propagate(u0: np.ndarray, gyr_dps: np.ndarray, dt_s: np.ndarray) -> np.ndarray:
    """The gravity direction ``u0`` (sensor frame) carried along by the measured rotation
    (``du/dt = u x w``): immune to the linear acceleration that bends the accelerometer's
    direction at the end of a fast movement."""
    x, y, z = (float(c) for c in u0)
    wdt = np.radians(gyr_dps) * dt_s[:, None]
    sqrt = math.sqrt
    for wx, wy, wz in wdt.tolist():  # a few dozen steps: plain floats beat numpy here
        x, y, z = x + y * wz - z * wy, y + z * wx - x * wz, z + x * wy - y * wx
        n = sqrt(x * x + y * y + z * z)
        x, y, z = x / n, y / n, z / n
    return np.array([x, y, z])


def _median(values) -> float:
    """``np.median`` of a sequence: the middle value, or the mean of the two middle ones
    (the same float), without numpy's per-call overhead for a short one (sorted in
    Python). NaN if any value is."""
    n = len(values)
    if n > 64:
        return float(np.median(values))
    s = sorted(values.tolist() if isinstance(values, np.ndarray) else values)
    n = len(s)
    if n == 0 or any(v != v for v in s):
        return math.nan
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2


def _clip_unit(x: float) -> float:
    """``x`` clipped to [-1, 1] (a cosine); NaN stays NaN."""
    return min(max(x, -1.0), 1.0)


def _max_turn_deg(us: np.ndarray, v: np.ndarray) -> float:
    """The largest angle between the unit vectors ``us`` (n, 3) and ``v``, degrees."""
    return math.degrees(math.acos(_clip_unit(float((us @ v).min()))))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(math.acos(_clip_unit(float(np.dot(a, b)))))


def _onset(t: np.ndarray, r: np.ndarray, ip: int, bound: int, peak: float, lo: float,
           hi: float, *, backward: bool, clamp: bool = True, power: int = 2) -> float:
    """Time where a bell-shaped rate profile leaves (or reaches) zero.

    Finds where ``r`` crosses ``hi * peak`` and ``lo * peak`` walking away from the peak
    ``ip`` toward ``bound`` and extrapolates to zero assuming ``r ~ (t - t0)^2`` near rest
    (finite jerk), i.e. ``sqrt(r)`` linear in time (``power=1``: ``r`` itself linear, an
    acceleration's profile); not past ``bound`` unless ``clamp`` is false.
    """
    if (bound - ip) * (-1 if backward else 1) <= 0:
        return float(t[ip])
    # the walk from the peak to the bound, as views
    seg_t = t[bound:ip + 1][::-1] if backward else t[ip:bound + 1]
    seg = r[bound:ip + 1][::-1] if backward else r[ip:bound + 1]
    below = seg < hi * peak
    j_hi = int(np.argmax(below))
    if not below[j_hi]:
        return float(seg_t[-1])
    t_hi = _cross(seg_t, seg, j_hi - 1, j_hi, hi * peak)
    below = seg < lo * peak
    j_lo = int(np.argmax(below))
    if not below[j_lo]:
        # the profile never fell to the low level within the bound: use what is there
        lvl = max(float(seg[-1]) / peak, 1e-3)
        if lvl >= hi:
            return float(seg_t[-1])
        t_lo, lo = float(seg_t[-1]), lvl
    else:
        t_lo = _cross(seg_t, seg, j_lo - 1, j_lo, lo * peak)
    s_lo, s_hi = (math.sqrt(lo), math.sqrt(hi)) if power == 2 else (lo, hi)
    t0 = t_lo - (t_hi - t_lo) * s_lo / (s_hi - s_lo)
    if not clamp:
        return t0
    # never extrapolate past the bound
    t_bound = float(t[bound])
    return max(t0, t_bound) if backward else min(t0, t_bound)


def _cross(t: np.ndarray, r: np.ndarray, i_a: int, i_b: int, level: float) -> float:
    ra, rb = float(r[i_a]), float(r[i_b])
    if ra == rb:
        return float(t[i_b])
    w = (level - ra) / (rb - ra)
    return float(t[i_a] + min(max(w, 0.0), 1.0) * (t[i_b] - t[i_a]))
