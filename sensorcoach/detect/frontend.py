"""Streaming front end: resampling onto a uniform grid and the filter bank.

Everything here is *chunk-exact*: feeding a stream in chunks of any size gives bit-identical
output to one pass over the whole stream. Recursive filters carry their state (``sosfilt`` /
``lfilter`` with ``zi``); the resampler computes each grid value from the input samples
around its grid step (a running integral summed in order) and from its grid index alone.

Signals produced per grid sample (world z is up, see :mod:`sensorcoach.consts`):

``m_g``
    magnitude of the low-passed specific force (g). Rotation-invariant:
    ``|a + g z| = g + a_z + O(|a_h|^2 / g)``, so ``m_g - 1`` is the vertical acceleration
    in g, whatever the mounting orientation.
``tilt_rate_dps``
    rate of the gravity direction along its dominant arc (the pelvis tilting on a hip
    mount), degrees per second. The sign is arbitrary; the detector learns which way is "up".
``at_rest``
    1 where ``|f|`` is steady and at its rest level: a rest candidate. A bar gliding at
    constant speed looks the same; :class:`~sensorcoach.detect.segments.RestToRestSegmenter`
    tells the two apart.
``rest_dev_g``
    where ``|f|`` is steady, its distance from the rest level (g; ``inf`` elsewhere): a
    pause inside a brisk movement may stray further than a rest candidate's tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..consts import MAX_BRIDGED_GAP_S, STANDARD_GRAVITY_MPS2
from ..types import SampleChunk

#: Internal grid rate. Body movement in a hip thrust is below ~5 Hz.
GRID_RATE_HZ = 50.0
#: How well the rest level of ``|f|`` is known, g: its noise, and the accelerometer's bias
#: seen from a bar that rolls a few degrees in the hip crease (a 30 mg bias turned by 5
#: degrees moves ``|f|`` by ~2.6 mg). A rest candidate must match its level this closely (or
#: within the sensor's own noise, if that is larger): a slow rep accelerates the bar by only
#: ~10 mg (27 cm in 4 s), so a looser tolerance takes its whole glide for rest.
LEVEL_ERR_G = 0.002
#: Per-axis clip before filtering: hip-thrust accelerations stay far below this, plate knocks
#: (several g) do not, and must not ring through the filters.
CLIP_G = 2.5


class _Sos:
    """A second-order-sections filter with carried state, over axis 0."""

    def __init__(self, sos: np.ndarray):
        self.sos = sos
        self.zi: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from scipy.signal import sosfilt, sosfilt_zi

        if x.shape[0] == 0:
            return x.copy()
        if self.zi is None:
            base = sosfilt_zi(self.sos)  # (n_sections, 2), steady state for a unit step
            if x.ndim == 1:
                self.zi = base * x[0]
            else:
                self.zi = base[:, :, None] * x[0][None, None, :]
        y, self.zi = sosfilt(self.sos, x, axis=0, zi=self.zi)
        return y


class _TrailingSum:
    """Sum of the last ``n`` integers of a stream (exact, so chunk-exact)."""

    def __init__(self, n: int):
        self.n = n
        self.tail = np.zeros(n, dtype=np.int64)  # the stream starts at zero

    def __call__(self, q: np.ndarray) -> np.ndarray:
        full = np.concatenate([self.tail, q])
        cs = np.cumsum(full)
        out = cs[self.n:] - cs[:-self.n]
        self.tail = full[-self.n:]
        return out


class _Delay:
    """The stream delayed by ``n`` samples (its first value stands in before it starts)."""

    def __init__(self, n: int):
        self.n = n
        self.tail: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.n == 0:
            return x
        if self.tail is None:
            self.tail = np.full(self.n, x[0])
        full = np.concatenate([self.tail, x])
        self.tail = full[-self.n:]
        return full[:len(x)]


class _Stillness:
    """Trailing standard deviation of ``|f|`` over ``window`` samples (exact integer sums)."""

    def __init__(self, window: int):
        self.window = window
        self.scale = 1e5
        self.s1 = _TrailingSum(window)
        self.s2 = _TrailingSum(window)
        self.count = 0

    def std(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Trailing standard deviation (g) and whether the window is full yet."""
        q = np.round(m * self.scale).astype(np.int64)
        s1 = self.s1(q).astype(float)
        s2 = self.s2(q * q).astype(float)
        n = self.window
        var = np.maximum((s2 - s1 * s1 / n) / n, 0.0)
        seen = self.count + np.arange(1, len(m) + 1)
        self.count += len(m)
        return np.sqrt(var) / self.scale, seen >= n


class _RestLevel:
    """``|f|`` at rest: trailing mean over the still samples of the last ``n`` samples.

    Bias and scale errors put the rest level of ``|f|`` slightly off 1 g. Only samples where
    the sensor was still (see :class:`_Stillness`) are averaged; until there is one, all
    samples are. Integer running sums keep it chunk-exact.
    """

    def __init__(self, n: int, *, scale: float = 1e6):
        self.n, self.scale = n, scale
        self.sum_all, self.sum_w, self.cnt_w = _TrailingSum(n), _TrailingSum(n), _TrailingSum(n)
        self.count = 0

    def __call__(self, x: np.ndarray, still: np.ndarray) -> np.ndarray:
        q = np.round(x * self.scale).astype(np.int64)
        sum_all = self.sum_all(q)
        sum_w = self.sum_w(q * still)
        cnt_w = self.cnt_w(still)
        cnt_all = np.minimum(self.count + np.arange(1, len(q) + 1), self.n)
        self.count += len(q)
        return np.where(cnt_w > 0, sum_w / (np.maximum(cnt_w, 1) * self.scale),
                        sum_all / (cnt_all * self.scale))


def _stepped(k0: int, n: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Of ``n`` samples from global index ``k0``: the positions evaluated (every ``step``-th
    global index) and, per sample, 1 + the evaluation it holds (0: the previous chunk's)."""
    first = -k0 % step
    return np.arange(first, n, step), (np.arange(n) - first) // step + 1


def _lerp_percentile(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    """``np.percentile(window, q)`` (linear method) from the two order statistics that
    bracket it (``a`` below, ``b`` above) and the upper one's weight ``gamma`` (see
    :func:`_percentile_ranks`). The same floating-point steps as numpy, so the same bits."""
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma


def _percentile_ranks(n: int, q: float) -> tuple[int, int, float]:
    """Ranks (0-based) of the two order statistics that ``np.percentile`` interpolates
    between for ``n`` values, and the weight of the upper one."""
    virtual = (n - 1) * float(np.true_divide(q, 100))
    lo = int(np.floor(virtual))
    if virtual >= n - 1:
        return n - 1, n - 1, virtual - np.floor(virtual)
    return lo, lo + 1, virtual - np.floor(virtual)


class _SteppedMedian:
    """Percentile (default: median) of the trailing ``n`` samples, evaluated every ``step``
    grid samples and held.

    Robust rest level of ``|f|``: during a set the acceleration lobes of the reps fall on
    both sides of it and the pauses sit on it. Each value depends only on the samples in its
    window, so it is chunk-exact. The two order statistics of each full window come from
    a running rank filter over the chunk (a window of a thousand samples costs about as
    much as one), and give ``np.percentile``'s value bit for bit.
    """

    def __init__(self, n: int, step: int, q: float = 50.0):
        self.n, self.step, self.q = n, step, q
        self._ranks = _percentile_ranks(n, q)  # of a full window (fixed)
        self.buf = np.empty(0)
        self.k_seen = 0  # samples seen so far
        self.value = np.nan  # never held: global index 0 is evaluated

    def __call__(self, x: np.ndarray) -> np.ndarray:
        full = np.concatenate([self.buf, x])
        n_pre = len(self.buf)
        at, hold = _stepped(self.k_seen, len(x), self.step)
        vals = np.empty(len(at))
        if len(at):
            ends = n_pre + at  # position in ``full`` of the sample closing each window
            starts = np.maximum(ends - self.n + 1, 0)
            full_windows = starts == ends - self.n + 1
            if full_windows.any():
                vals[full_windows] = self._full_windows(full, ends[full_windows])
            for i in np.flatnonzero(~full_windows):  # the first seconds of the stream
                vals[i] = float(np.percentile(full[starts[i]:ends[i] + 1], self.q))
        # hold each value until the next evaluation
        out = np.concatenate([[self.value], vals])[hold]
        self.value = float(out[-1])
        self.buf = full[-(self.n - 1):]
        self.k_seen += len(x)
        return out

    def _full_windows(self, full: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Percentile of the ``n`` samples of ``full`` ending at each of ``ends``."""
        n = self.n
        span = full[ends[0] - n + 1:ends[-1] + 1]
        at = ends - ends[0] + n - 1  # window ends in ``span``
        if not np.isfinite(span).all():
            # a rank filter does not order NaN as numpy does (NaN poisons its windows)
            from numpy.lib.stride_tricks import sliding_window_view

            return np.percentile(sliding_window_view(span, n)[at - n + 1], self.q, axis=1)
        from scipy.ndimage import rank_filter

        lo, hi, gamma = self._ranks
        # origin (n - 1) // 2: each output is the rank of the window ending at it
        a = rank_filter(span, lo, size=n, origin=(n - 1) // 2)[at]
        b = a if hi == lo else rank_filter(span, hi, size=n, origin=(n - 1) // 2)[at]
        return _lerp_percentile(a, b, gamma)


def _before(x: np.ndarray, carried: bool) -> np.ndarray:
    """Each sample's predecessor in a stream of booleans: ``carried`` (the previous
    chunk's last sample) before the first."""
    return np.concatenate([[carried], x[:-1]])


class _Walking:
    """1 where walking, by either of two cues within the trailing ``window`` samples:

    * at least ``min_steps`` step impacts: the high-passed ``|f|`` rising above
      ``impact_g`` (a single knock, sitting down or the bar landing on the hips is one
      impact, not walking). Sharp heel strikes need a high sample rate to show;
    * a step cadence: the vertical acceleration swinging from below ``-swing_g`` to above
      ``+swing_g`` at least ``min_swings`` times. Walking moves the body's centre up and
      down once per step, about two steps a second, with vertical accelerations of a few
      tenths of a g, at any sample rate. A hip thrust swings once per rep (a rep takes
      two seconds at the very least), so a window of three seconds holds two at most.
    """

    def __init__(self, window: int, *, impact_g: float = 0.15, min_steps: int = 3,
                 swing_g: float = 0.1, min_swings: int = 4):
        self.impact_g, self.min_steps = impact_g, min_steps
        self.swing_g, self.min_swings = swing_g, min_swings
        self.count = _TrailingSum(window)
        self.swings = _TrailingSum(window)
        self.prev = False
        self.low = False  # the vertical acceleration was last beyond -swing_g (not +)

    def __call__(self, hf_g: np.ndarray, az_g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Walking by either cue, and by the step cadence alone (a lifter's bounce off the
        bottom is an impact, never a cadence)."""
        above = hf_g > self.impact_g
        rising = (above & ~_before(above, self.prev)).astype(np.int64)
        self.prev = bool(above[-1])
        # Schmitt trigger on the vertical acceleration: its state is the side it was last
        # beyond (carried over from the previous chunk before the first)
        below = az_g < -self.swing_g
        idx = np.arange(len(az_g))
        last = np.maximum.accumulate(np.where(below | (az_g > self.swing_g), idx, -1))
        low = np.where(last >= 0, below[np.maximum(last, 0)], self.low)
        swing = (_before(low, self.low) & ~low).astype(np.int64)  # from -swing_g to +swing_g
        self.low = bool(low[-1])
        cadence = self.swings(swing) >= self.min_swings
        return ((self.count(rising) >= self.min_steps) | cadence).astype(np.int64), \
            cadence.astype(np.int64)


class Grid(NamedTuple):
    """What :meth:`Resampler.push` returns."""

    k: np.ndarray  # grid indices
    t_s: np.ndarray  # their times
    mean: np.ndarray  # (n, n_x) the stream's mean over each grid step
    at: np.ndarray  # (n, n_at) the stream's value at each grid time (its first columns)
    gaps: list  # (t_after_gap_s, gap_s) of every interval longer than max_gap_s


class Resampler:
    """An irregular stream onto the grid ``t0 + k / rate``, two ways.

    Each grid value is the mean of the stream over the grid step centred on it (the stream
    taken as linear between samples; the first step starts at the stream's start, so it is
    half as long): the integral of every step is kept, so a velocity integrated from the
    grid is the one the input samples give, whatever their rate. An IMU reports
    delta-velocities for the same reason: a knock (plates tapping the floor) lasts a few
    milliseconds, and a grid point that samples it, or misses it, adds a velocity step of
    its own. The value at the grid point itself (linear interpolation) is returned as well:
    the peak of a knock is what the impact cues look for.

    Gaps up to ``max_gap_s`` are bridged by interpolation; grid points inside longer gaps
    are skipped (the filters then see a discontinuity, and a gap is reported). A step next
    to such a gap takes the interpolation across it for the part of the step inside it. A
    grid point is emitted once a sample lies past the end of its step (the step's integral
    is then the same whatever samples came in which chunk).
    """

    def __init__(self, *, rate_hz: float = GRID_RATE_HZ, max_gap_s: float = MAX_BRIDGED_GAP_S,
                 n_at: int | None = None):
        self.rate_hz = rate_hz
        self.max_gap_s = max_gap_s
        self.n_at = n_at  # the columns whose values at the grid times are wanted (all)
        self.dt = 1.0 / rate_hz
        self.t0: float | None = None
        self.k_next = 0
        # the samples still needed (from the last one at or before the next step's start):
        # times, values and the running integral of the values up to each
        self._T: np.ndarray | None = None
        self._X: np.ndarray | None = None
        self._C: np.ndarray | None = None

    def push(self, t: np.ndarray, x: np.ndarray) -> Grid:
        """Add samples; return the grid points whose steps the stream has passed, and the
        gaps (bridged or not) longer than ``max_gap_s`` among the new samples."""
        x = np.asarray(x, dtype=float)  # (the running integral is summed in float64)
        n_x = x.shape[1]
        n_at = n_x if self.n_at is None else self.n_at
        empty = (np.empty(0, int), np.empty(0), np.empty((0, n_x)), np.empty((0, n_at)))
        if len(t) == 0:
            return Grid(*empty, [])
        n_old = 0 if self._T is None else len(self._T)
        if self.t0 is None:
            self.t0 = float(t[0])
            T, X = t, x
            C = self._running_integral(T, X, np.zeros(n_x))
        else:
            T = np.concatenate([self._T, t])
            X = np.concatenate([self._X, x])
            C = np.concatenate([self._C[:-1], self._running_integral(
                T[n_old - 1:], X[n_old - 1:], self._C[-1])])
        base = max(n_old - 1, 0)  # the new intervals start at the last sample kept
        dT = np.diff(T[base:])
        big = np.flatnonzero(dT > self.max_gap_s)
        gaps = [(float(T[base + i + 1]), float(dT[i])) for i in big]
        dt = self.dt
        # the last grid point whose step ends strictly before the newest sample (its end
        # computed as ``edges`` below computes it: a step ending on the newest sample would
        # take its end from the samples before, and from those after in another chunking)
        k_last = int(np.floor((T[-1] - self.t0) * self.rate_hz - 0.5)) + 1
        while k_last >= self.k_next and self.t0 + (k_last + 0.5) * dt >= T[-1]:
            k_last -= 1
        if k_last < self.k_next:
            self._keep(T, X, C)
            return Grid(*empty, gaps)
        k = np.arange(self.k_next, k_last + 1)
        self.k_next = k_last + 1
        tg = self.t0 + k * dt
        # the steps' edges (each step ends where the next begins; none before the stream)
        edges = self.t0 + (np.arange(k[0], k_last + 2) - 0.5) * dt
        edges[0] = max(edges[0], self.t0)
        x_mean = np.diff(self._integral(T, X, C, edges), axis=0)
        x_mean /= np.diff(edges)[:, None]
        j = np.clip(np.searchsorted(T, tg, side="left"), 1, len(T) - 1)
        t_lo, t_hi = T[j - 1], T[j]
        w = np.clip((tg - t_lo) / (t_hi - t_lo), 0.0, 1.0)
        x_lo, x_hi = X[j - 1, :n_at], X[j, :n_at]
        x_at = x_lo + w[:, None] * (x_hi - x_lo)
        keep = (t_hi - t_lo) <= self.max_gap_s
        if not keep.all():
            k, tg, x_mean, x_at = k[keep], tg[keep], x_mean[keep], x_at[keep]
        self._keep(T, X, C)
        return Grid(k, tg, x_mean, x_at, gaps)

    @staticmethod
    def _running_integral(T: np.ndarray, X: np.ndarray, c0: np.ndarray) -> np.ndarray:
        """The integral of the stream (linear between samples) at each sample, ``c0`` at the
        first: trapezoids, summed in order (the same floats for any chunking)."""
        out = np.empty_like(X)
        out[0] = c0
        np.add(X[1:], X[:-1], out=out[1:])
        out[1:] *= (0.5 * np.diff(T))[:, None]
        return np.cumsum(out, axis=0, out=out)

    @staticmethod
    def _integral(T: np.ndarray, X: np.ndarray, C: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """The running integral at times ``ts`` (within ``T``), the stream linear between
        samples."""
        j = np.clip(np.searchsorted(T, ts, side="right"), 1, len(T) - 1)
        lo = j - 1
        t_lo = T[lo]
        span = ts - t_lo
        # C + span * (X[lo] + x(ts)) / 2, x linear from X[lo] to X[j]
        half_w = 0.5 * np.clip(span / (T[j] - t_lo), 0.0, 1.0)
        x_lo = X[lo]
        out = X[j] - x_lo
        out *= half_w[:, None]
        out += x_lo
        out *= span[:, None]
        out += C[lo]
        return out

    def _keep(self, T: np.ndarray, X: np.ndarray, C: np.ndarray) -> None:
        """Keep the samples from the last one at or before the next grid step's start."""
        a_next = self.t0 + (self.k_next - 0.5) * self.dt
        i0 = max(0, int(np.searchsorted(T, a_next, side="right")) - 1)
        self._T, self._X, self._C = T[i0:].copy(), X[i0:].copy(), C[i0:].copy()


@dataclass
class Features:
    """Per-grid-sample signals for one pushed chunk (all arrays share the first axis)."""

    k: np.ndarray  # grid index
    t_s: np.ndarray
    m_g: np.ndarray  # |low-passed specific force|, g
    raw_m_g: np.ndarray  # |specific force| before low-pass (knock detection), g
    u: np.ndarray  # (n, 3) gravity direction, sensor frame (unit)
    gyr_dps: np.ndarray  # (n, 3) low-passed angular rate, sensor frame; NaN without a gyro
    az_mps2: np.ndarray  # vertical acceleration estimate (m - rest) * g, slow rest level
    tilt_rate_dps: np.ndarray | None  # its smoothed derivative (hip)
    walking: np.ndarray  # 1 where step impacts or a step cadence were felt (trailing 3 s)
    stepping: np.ndarray  # 1 where a step cadence was (trailing 3 s)
    at_rest: np.ndarray | None  # 1 where |f| is steady and at its rest level (bar)
    #: where |f| is steady, how far it is from its rest level, g (inf where not steady; bar)
    rest_dev_g: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.k.shape[0])


class FrontEnd:
    """Resampler + filter bank. ``push(chunk) -> Features``.

    Parameters
    ----------
    lp_hz : float
        Low-pass corner for the specific force (movement band).
    rest_window_s : float
        Trailing window of the rest level of ``|f|`` (absorbs scale and bias errors).
    rest_median_s : float
        Window of the robust (median) rest level that a rest candidate must match.
    still_window_s, still_std_g : float
        The sensor counts as still where ``|f|`` (low-passed) varied less than ``still_std_g``
        over the trailing ``still_window_s``.
    rest_tol_g : float
        ... and, for a rest candidate, ``|f|`` is within this of its rest level (or within
        three times the sensor's noise floor, if that is larger); see :data:`LEVEL_ERR_G`.
    tilt_ref_hz : float
        Corner of the slow mean orientation and of the arc-direction estimate.
    rate_lp_hz : float
        Low-pass corner of the tilt rate.
    gyro_crossover_hz : float
        With a gyroscope, the tilt rate comes from the accelerometer below this frequency
        and from the gyroscope above it.
    mounts : tuple of {"hip", "bar"}
        The mounts whose signals to compute: ``tilt_rate_dps`` (hip) and ``at_rest`` (bar)
        are ``None`` when no detector reads them.
    """

    def __init__(self, *, lp_hz: float = 4.0, rest_window_s: float = 20.0,
                 rest_median_s: float = 6.0, still_window_s: float = 0.3,
                 still_std_g: float = 0.006, rest_tol_g: float = LEVEL_ERR_G,
                 tilt_ref_hz: float = 0.03, rate_lp_hz: float = 2.5,
                 gyro_crossover_hz: float = 0.5,
                 rate_hz: float = GRID_RATE_HZ, mounts: tuple[str, ...] = ("hip", "bar")):
        from scipy.signal import butter

        fs = rate_hz
        self.rate_hz = rate_hz
        self.mounts = tuple(mounts)
        self.rest_tol_g = rest_tol_g
        self.resampler = Resampler(rate_hz=rate_hz, n_at=3)  # raw_m: the accelerometer's
        self._lp_acc = _Sos(butter(2, lp_hz, fs=fs, output="sos"))
        n_rest = int(round(rest_window_s * fs))
        self.n_still = int(round(still_window_s * fs))
        self._still = _Stillness(self.n_still)
        self._rest = _RestLevel(n_rest)
        self.still_std_g = still_std_g
        self._noise_floor = _SteppedMedian(int(20 * fs), int(round(1.0 * fs)), q=10.0)
        self._m_slow = _Sos(butter(2, 1.5, fs=fs, output="sos"))
        self._rest_median = _SteppedMedian(int(round(rest_median_s * fs)),
                                           int(round(0.25 * fs)))
        self._u_slow = _Sos(butter(2, tilt_ref_hz, fs=fs, output="sos"))
        self._cov = _Sos(butter(2, tilt_ref_hz, fs=fs, output="sos"))
        self._rate_lp = _Sos(butter(2, rate_lp_hz, fs=fs, output="sos"))
        self._walking = _Walking(int(3 * fs))
        self._cf_lo = _Sos(butter(1, gyro_crossover_hz, fs=fs, output="sos"))
        self._stream_gyr: bool | None = None  # decided by the first chunk
        self._d_prev: np.ndarray | None = None
        self._d_held = np.full(3, np.nan)  # never held: global index 0 is evaluated
        self._k_tilt = 0
        self.eig_step = max(1, int(round(fs / 10.0)))
        self._tilt_prev: np.ndarray | None = None
        # Low-frequency group delays (s) of the signal chains, used to undo filter lag in
        # event times. Derived from the filter designs, not from data.
        self.delay_acc_s = _group_delay_s(butter(2, lp_hz, fs=fs), fs)
        self._raw_delayed = _Delay(int(round(self.delay_acc_s * fs)))
        self.delay_tilt_rate_s = (self.delay_acc_s + 0.5 / fs
                                  + _group_delay_s(butter(2, rate_lp_hz, fs=fs), fs))

    @property
    def has_gyro(self) -> bool:
        """The stream carries gyro data (decided by its first chunk)."""
        return bool(self._stream_gyr)

    def push(self, chunk: SampleChunk) -> tuple[Features | None, list]:
        # the first chunk decides whether the stream has a gyroscope; a live stream may
        # later mix in chunks without one (or with one): the filters keep their shape, a
        # missing gyro reads zero and is marked unknown (NaN) in ``gyr_dps``
        if self._stream_gyr is None:
            self._stream_gyr = chunk.gyr_dps is not None
        has_gyr = self._stream_gyr
        gyr_known = chunk.gyr_dps is not None  # this chunk carries gyro data
        gyr_in = chunk.gyr_dps
        if has_gyr and gyr_in is None:
            gyr_in = np.zeros_like(chunk.acc_g)
        x = chunk.acc_g if not has_gyr else np.hstack([chunk.acc_g, gyr_in])
        k, t, x_mean, acc_at, gaps = self.resampler.push(chunk.time_s, x)
        if len(k) == 0:
            return None, gaps
        acc = x_mean[:, :3]
        raw_m = np.sqrt(_row_dot(acc_at, acc_at))
        np.clip(acc, -CLIP_G, CLIP_G, out=acc)  # the resampler's output is ours
        fx = self._lp_acc(x_mean)
        f = fx[:, :3]
        m = np.sqrt(_row_dot(f, f))
        m_safe = np.maximum(m, 1e-6)
        u = f / m_safe[:, None]
        gyr = fx[:, 3:6] if has_gyr else None

        # stillness relative to this sensor's own noise floor (the quietest windows of the
        # last 20 s: pauses are frequent), never below the fixed floors
        std, full = self._still.std(m)
        floor = self._noise_floor(std)
        still = ((std < np.maximum(self.still_std_g, 2.0 * floor)) & full).astype(np.int64)
        rest = self._rest(m, still)
        dm = m - rest  # vertical acceleration, g
        az = dm * STANDARD_GRAVITY_MPS2
        at_rest = rest_dev = rate = None  # computed only for a mount that reads them
        if "bar" in self.mounts:
            # a rest candidate: steady AND at the rest level (the flat extremum of a smooth
            # acceleration lobe is steady too, but not at rest)
            m_slow = self._m_slow(m)
            tol = np.maximum(self.rest_tol_g, 3.0 * floor)
            rest_dev = np.where(still > 0, np.abs(m_slow - self._rest_median(m)), np.inf)
            at_rest = (rest_dev < tol).astype(np.int64)
        if "hip" in self.mounts:
            rate = self._tilt_rate(u, gyr, gyr_known=gyr_known)
        # impacts stand out of |f| against its low-passed level, compared at the same
        # moment (the filter's delay would make every fast smooth rep an "impact")
        walking, stepping = self._walking(
            self._raw_delayed(np.clip(raw_m, 0.0, 3.0)) - m, dm)
        gyr_dps = (gyr if gyr is not None and gyr_known
                   else np.full((len(k), 3), np.nan))
        feats = Features(k=k, t_s=t, m_g=m, raw_m_g=raw_m, u=u, gyr_dps=gyr_dps, az_mps2=az,
                         tilt_rate_dps=rate, walking=walking, stepping=stepping,
                         at_rest=at_rest, rest_dev_g=rest_dev)
        return feats, gaps

    def _tilt_rate(self, u: np.ndarray, gyr: np.ndarray | None, *,
                   gyr_known: bool) -> np.ndarray:
        us = self._u_slow(u)
        us /= np.maximum(np.sqrt(_row_dot(us, us)), 1e-9)[:, None]
        w = u - _row_dot(u, us)[:, None] * us
        prods = np.stack([w[:, 0] * w[:, 0], w[:, 1] * w[:, 1], w[:, 2] * w[:, 2],
                          w[:, 0] * w[:, 1], w[:, 0] * w[:, 2], w[:, 1] * w[:, 2]], axis=1)
        cv = self._cov(prods)
        # the covariance moves slowly (tilt_ref_hz): its main axis is evaluated on every
        # ``eig_step``-th grid sample (by global index, so chunk-exact) and held in between
        n = len(u)
        at, hold = _stepped(self._k_tilt, n, self.eig_step)
        self._k_tilt += n
        mats = np.empty((len(at), 3, 3))
        c = cv[at]
        mats[:, 0, 0], mats[:, 1, 1], mats[:, 2, 2] = c[:, 0], c[:, 1], c[:, 2]
        mats[:, 0, 1] = mats[:, 1, 0] = c[:, 3]
        mats[:, 0, 2] = mats[:, 2, 0] = c[:, 4]
        mats[:, 1, 2] = mats[:, 2, 1] = c[:, 5]
        evals = np.linalg.eigh(mats)[1][:, :, 2] if len(at) else np.empty((0, 3))
        d = np.vstack([self._d_held[None, :], evals])[hold]
        self._d_held = d[-1].copy()
        # Sign continuity: flip each vector to agree with its predecessor (chunk-exact).
        prev = self._d_prev if self._d_prev is not None else d[0]
        dots = np.einsum("ij,ij->i", d, np.vstack([prev[None, :], d[:-1]]))
        flips = np.cumprod(np.where(dots < 0, -1.0, 1.0))
        d = d * flips[:, None]
        self._d_prev = d[-1].copy()
        proj = np.clip(_row_dot(w, d), -1.0, 1.0)
        # rate of the gravity direction itself along the arc: du/dt . d (the slow reference
        # and the arc direction drift out of it)
        prev_u = u[0] if self._tilt_prev is None else self._tilt_prev
        du = np.diff(u, axis=0, prepend=prev_u[None, :])
        self._tilt_prev = u[-1].copy()
        cos_t = np.sqrt(np.maximum(1.0 - proj * proj, 0.25))
        rate = np.degrees(_row_dot(du, d) / cos_t) * self.rate_hz
        if gyr is not None:
            # complementary filter: the accelerometer's tilt rate is exact and unbiased
            # slowly but is bent by linear acceleration in fast reps; the gyro's rate about
            # the arc axis (du/dt = u x w, so du/dt . d = w . (d x u)) is immune to linear
            # acceleration and its bias is removed by the high-pass
            # a chunk without gyro data in a gyro stream: the accelerometer's rate stands in
            gyro_rate = _row_dot(gyr, np.cross(d, u)) if gyr_known else rate
            lo = self._cf_lo(np.stack([rate, gyro_rate], axis=1))
            rate = lo[:, 0] + gyro_rate - lo[:, 1]
        return self._rate_lp(rate)


def _row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot product of each row of two ``(n, 3)`` arrays, summed left to right: the floats
    of ``(a * b).sum(axis=1)``, without numpy's slow reduction over a short axis."""
    return a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]


def _group_delay_s(ba, fs: float, f_hz: float = 0.5) -> float:
    from scipy.signal import group_delay

    _, gd = group_delay(ba, w=[f_hz], fs=fs)
    return float(gd[0]) / fs
