"""Motion building blocks on a fine uniform time grid.

The body being tracked (the pelvis for a hip belt, the bar or dumbbell for a bar mount) is
described by 11 smooth *channels* sampled on the fine grid:

====== =====================================================================================
0..2   position of the body's reference point, world frame (m): the hip joint for the
       pelvis, the bar's centre for the bar
3      ``psi``: heading, rotation about world z (rad)
4      ``theta``: pitch, rotation about the (yawed) y axis (rad); for the pelvis the torso /
       pelvis angle below horizontal (0 at lockout, ~90 deg standing), for the bar its roll
       about its own long axis
5..7   ``w``: small extra rotation vector applied in the world frame (rad), e.g. a bar end
       lifted while loading plates
8..10  ``b``: small extra rotation vector applied in the body frame (rad), e.g. pelvic
       obliquity, yaw wobble, gait rotations
====== =====================================================================================

Orientation (world from body) is ``R = Rot(w) * Rz(psi) * Ry(theta) * Rot(b)``. Four
*envelope* channels (11..14) scale the global perturbations added after the choreography
(postural sway, rotation sway, physiological tremor, breathing).

Segments are half-open: a segment of ``n`` samples covers ``[t, t + n/fs)`` and leaves the
state at its end value for the next segment, so positions and velocities stay continuous.
"""

from __future__ import annotations

import numpy as np
from scipy import interpolate, signal, special

N_CH = 11
N_ENV = 4
POS = slice(0, 3)
PSI = 3
THETA = 4
W = slice(5, 8)
B = slice(8, 11)
ENV_SWAY, ENV_ROT, ENV_TREMOR, ENV_BREATH = 11, 12, 13, 14


def bell_progress(tau: np.ndarray, a: float, b: float) -> np.ndarray:
    """Progress 0 -> 1 whose velocity is proportional to ``tau**a * (1 - tau)**b``.

    ``a = b = 2`` is close to a minimum-jerk move. Exact: the regularised incomplete beta
    function.
    """
    return special.betainc(a + 1.0, b + 1.0, np.clip(tau, 0.0, 1.0))


def sticking_progress(tau: np.ndarray, a: float, b: float, depth: float, center: float,
                      width: float) -> np.ndarray:
    """Like :func:`bell_progress` but the velocity dips by ``depth`` (0..1) around ``center``:
    the sticking point of a heavy concentric. Still monotone, still exactly 0 -> 1."""
    fine = np.linspace(0.0, 1.0, 4001)
    v = fine**a * (1.0 - fine) ** b * (1.0 - depth * np.exp(-0.5 * ((fine - center) / width) ** 2))
    p = np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2)])
    p /= p[-1]
    return np.interp(np.clip(tau, 0.0, 1.0), fine, p)


def bounce_progress(n: int, fs: float, a: float, b: float, decel_mps2: float,
                    brake_s: float, dist_m: float) -> np.ndarray:
    """Progress 0 -> 1 over ``n`` samples for a lowering that ends in a bounce.

    The velocity follows ``tau**a * (1 - tau)**b`` (``b`` well below 1: still fast late),
    truncated at the ``tau_cut`` that leaves the velocity a half-cosine brake of
    ``brake_s`` with peak deceleration ``decel_mps2`` can stop within the travel
    ``dist_m``. Returns the progress at the sample times ``k / n``.
    """
    n_b = int(np.clip(round(brake_s * fs), 2, max(2, n // 3)))
    n_m = n - n_b
    v_end = 2.0 / np.pi * decel_mps2 * n_b / fs
    u = (np.arange(n_b) + 0.5) / n_b
    best = None
    for tau_cut in np.linspace(0.5, 0.985, 98):
        tau = (np.arange(n_m) + 0.5) / n_m * tau_cut
        f = tau**a * (1.0 - tau) ** b
        f_end = tau_cut**a * (1.0 - tau_cut) ** b
        k = v_end / f_end
        disp = k * f.sum() / fs + v_end * (n_b / fs) / 2
        err = abs(disp - dist_m)
        if best is None or err < best[0]:
            best = (err, np.concatenate([k * f, v_end * 0.5 * (1.0 + np.cos(np.pi * u))]))
    v = best[1]
    return np.concatenate([[0.0], np.cumsum(v)[:-1]]) / v.sum()


def smooth_noise(rng: np.random.Generator, n: int, fs: float, f_hi: float,
                 channels: int = 1) -> np.ndarray:
    """Unit-variance Gaussian noise band-limited below ``f_hi`` and C2-smooth, shape (n, ch).

    Drawn on a coarse grid (8 points per cycle of ``f_hi``), low-pass filtered there, then
    interpolated with a cubic spline, so its second derivative is well behaved.
    """
    fc = 8.0 * f_hi
    m = int(np.ceil(n / fs * fc)) + 16
    x = rng.standard_normal((m, channels))
    sos = signal.butter(2, f_hi / (fc / 2.0), output="sos")
    x = signal.sosfiltfilt(sos, x, axis=0)
    x /= x.std(axis=0, keepdims=True) + 1e-12
    tc = (np.arange(m) - 8) / fc
    spl = interpolate.CubicSpline(tc, x, axis=0)
    return spl(np.arange(n) / fs)


def band_noise(rng: np.random.Generator, n: int, fs: float, f_lo: float, f_hi: float,
               channels: int = 1) -> np.ndarray:
    """Unit-variance Gaussian noise in the band ``[f_lo, f_hi]`` on the fine grid."""
    x = rng.standard_normal((n + 2000, channels))
    sos = signal.butter(2, [f_lo / (fs / 2), f_hi / (fs / 2)], btype="band", output="sos")
    x = signal.sosfiltfilt(sos, x, axis=0)[1000:-1000]
    return x / (x.std(axis=0, keepdims=True) + 1e-12)


def smooth_envelope(env: np.ndarray, fs: float, width_s: float) -> np.ndarray:
    """Moving average (twice: triangular kernel) so that envelope edges are smooth."""
    k = max(1, int(round(width_s * fs / 2)))
    if k <= 1:
        return env
    out = env
    for _ in range(2):
        pad = np.pad(out, (k, k), mode="edge")
        c = np.concatenate([[0.0], np.cumsum(pad)])
        lo = np.arange(out.size) + k - k // 2
        out = (c[lo + k] - c[lo]) / k
    return out


def damped_pulse(fs: float, amp: float, freq_hz: float, decay_s: float) -> np.ndarray:
    """A knock: derivative of a damped sine, so the net velocity change is zero.

    Peak magnitude about ``amp``; returned on the fine grid, length ~ 6 decay times.
    """
    n = max(4, int(np.ceil(6 * decay_s * fs)))
    t = np.arange(n) / fs
    w = 2 * np.pi * freq_hz
    y = np.exp(-t / decay_s) * np.sin(w * t)
    dy = np.gradient(y, 1.0 / fs)
    dy[-1] = 0.0
    peak = np.max(np.abs(dy))
    return amp * dy / (peak + 1e-12)


class Track:
    """Accumulates channel segments on the fine grid, plus impulsive world accelerations."""

    def __init__(self, fs: float, state: np.ndarray) -> None:
        self.fs = float(fs)
        self.chunks: list[np.ndarray] = []
        self.n = 0
        self.state = np.asarray(state, dtype=float).copy()
        #: (sample index, (k, 3) world acceleration in m/s^2)
        self.impulses: list[tuple[int, np.ndarray]] = []

    @property
    def t(self) -> float:
        """Current time (s since the start of the recording, true clock)."""
        return self.n / self.fs

    def samples(self, dur_s: float) -> int:
        return max(1, int(round(dur_s * self.fs)))

    def append(self, arr: np.ndarray, end_state: np.ndarray, env: tuple[float, ...]) -> None:
        """Append ``arr`` (n, 11) sampled at ``k / fs``; the state continues at ``end_state``."""
        n = arr.shape[0]
        full = np.empty((n, N_CH + N_ENV))
        full[:, :N_CH] = arr
        full[:, N_CH:] = np.asarray(env, dtype=float)
        self.chunks.append(full)
        self.n += n
        self.state = np.asarray(end_state, dtype=float).copy()

    def hold(self, dur_s: float, env: tuple[float, ...]) -> None:
        n = self.samples(dur_s)
        self.append(np.repeat(self.state[None, :], n, axis=0), self.state, env)

    def path(self, dur_s: float, keys: list[tuple[float, np.ndarray]],
             env: tuple[float, ...]) -> None:
        """Move through key states (fractions of the duration in (0, 1]) with a quintic
        spline that starts and ends at rest with zero acceleration (no force steps)."""
        n = self.samples(dur_s)
        T = n / self.fs
        ts = [0.0] + [f * T for f, _ in keys]
        ys = np.vstack([self.state] + [k for _, k in keys])
        rest = [(1, np.zeros(ys.shape[1])), (2, np.zeros(ys.shape[1]))]
        spl = interpolate.make_interp_spline(ts, ys, k=5, axis=0, bc_type=(rest, rest))
        arr = spl(np.arange(n) / self.fs)
        self.append(arr, ys[-1], env)

    def move(self, dur_s: float, target: np.ndarray, env: tuple[float, ...],
             a: float = 2.0, b: float = 2.0) -> None:
        """Straight move to ``target`` with a bell-shaped velocity profile."""
        n = self.samples(dur_s)
        p = bell_progress(np.arange(n) / n, a, b)[:, None]
        arr = self.state[None, :] + p * (np.asarray(target) - self.state)[None, :]
        self.append(arr, target, env)

    def impulse(self, at_s: float, acc_world: np.ndarray) -> None:
        self.impulses.append((int(round(at_s * self.fs)), np.asarray(acc_world, dtype=float)))

    def channels(self) -> np.ndarray:
        return np.vstack(self.chunks)
