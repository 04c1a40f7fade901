"""From body motion to what a real IMU reports: mounting, errors, clock, packet loss.

Steps (all seeded):

1. rigid-body kinematics on the fine grid: the sensor point ``P = p + R b`` (``b`` the
   mounting offset in the body frame), its acceleration by twice differentiating ``P``
   (second-order central differences), plus impulsive knocks; specific force in g
   ``f_w = a / g + z``; body angular velocity from consecutive orientations;
2. a uniformly random mounting rotation between body and sensor;
3. the sensor's anti-alias low-pass (causal Butterworth) on the fine grid;
4. sampling at ``k / rate`` on the sensor clock, which runs ``(1 + eps)`` fast and starts at
   an arbitrary origin;
5. scale / cross-axis / bias errors with slow drift, white noise, saturation, quantisation;
6. packet loss (1-10 samples per packet, random losses plus bursts up to 0.5 s) and
   timestamp jitter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal
from scipy.spatial.transform import Rotation

from ..consts import STANDARD_GRAVITY_MPS2
from . import kinematics as km

G = STANDARD_GRAVITY_MPS2


def quat_from_rotvec(v: np.ndarray) -> np.ndarray:
    """Unit quaternions (x, y, z, w) from rotation vectors (n, 3), vectorised."""
    a = np.linalg.norm(v, axis=-1)
    half = 0.5 * a
    small = a < 1e-6
    k = np.where(small, 0.5 - a * a / 48.0, np.sin(half) / np.where(small, 1.0, a))
    return np.concatenate([v * k[..., None], np.cos(half)[..., None]], axis=-1)


def quat_mul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product: the rotation ``p`` after ``q`` (scipy's ``p * q``)."""
    px, py, pz, pw = np.moveaxis(p, -1, 0)
    qx, qy, qz, qw = np.moveaxis(q, -1, 0)
    return np.stack([pw * qx + px * qw + py * qz - pz * qy,
                     pw * qy - px * qz + py * qw + pz * qx,
                     pw * qz + px * qy - py * qx + pz * qw,
                     pw * qw - px * qx - py * qy - pz * qz], axis=-1)


def quat_conj(q: np.ndarray) -> np.ndarray:
    return q * np.array([-1.0, -1.0, -1.0, 1.0])


def quat_apply(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` by quaternions ``q`` (broadcasting)."""
    u = q[..., :3]
    w = q[..., 3:4]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def quat_to_rotvec(q: np.ndarray) -> np.ndarray:
    q = np.where(q[..., 3:4] < 0, -q, q)
    n = np.linalg.norm(q[..., :3], axis=-1)
    ang = 2.0 * np.arctan2(n, q[..., 3])
    small = n < 1e-9
    k = np.where(small, 2.0 / np.maximum(q[..., 3], 1e-12), ang / np.where(small, 1.0, n))
    return q[..., :3] * k[..., None]


@dataclass
class Motion:
    """Noiseless motion of the sensor point on the fine grid (world frame, SI units).

    ``quat_wb`` is the body orientation (world from body) as quaternions (x, y, z, w).
    """

    fs: float
    pos_m: np.ndarray
    vel_mps: np.ndarray
    acc_mps2: np.ndarray
    quat_wb: np.ndarray
    omega_body_rps: np.ndarray

    @property
    def n(self) -> int:
        return int(self.pos_m.shape[0])


def orientation(ch: np.ndarray) -> np.ndarray:
    """World-from-body quaternions of the channel track (see :mod:`.kinematics`)."""
    n = ch.shape[0]
    zero = np.zeros(n)
    q_psi = quat_from_rotvec(np.column_stack([zero, zero, ch[:, km.PSI]]))
    q_th = quat_from_rotvec(np.column_stack([zero, ch[:, km.THETA], zero]))
    q = quat_mul(quat_mul(quat_from_rotvec(ch[:, km.W]), q_psi),
                 quat_mul(q_th, quat_from_rotvec(ch[:, km.B])))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def body_motion(ch: np.ndarray, impulses: list[tuple[int, np.ndarray]], fs: float,
                offset_body: np.ndarray) -> Motion:
    dt = 1.0 / fs
    q = orientation(ch)
    pos = ch[:, km.POS] + quat_apply(q, offset_body[None, :])
    vel = np.gradient(pos, dt, axis=0, edge_order=2)
    acc = np.gradient(vel, dt, axis=0, edge_order=2)
    n = pos.shape[0]
    for i0, a in impulses:
        if i0 >= n:
            continue
        k = min(a.shape[0], n - i0)
        acc[i0:i0 + k] += a[:k]
    w_mid = quat_to_rotvec(quat_mul(quat_conj(q[:-1]), q[1:])) / dt
    omega = np.empty((n, 3))
    omega[1:-1] = 0.5 * (w_mid[1:] + w_mid[:-1])
    omega[0], omega[-1] = w_mid[0], w_mid[-1]
    return Motion(fs, pos, vel, acc, q, omega)


def soft_tissue(motion: Motion, f_hz: float, zeta: float) -> None:
    """Mount the sensor point on a damped spring (a belt on soft tissue), in place.

    The relative displacement ``d`` obeys ``d'' + 2 zeta w d' + w^2 d = -a`` (``a`` the
    point's acceleration, knocks included), discretised with the bilinear transform; the
    sensor point then moves by ``p + d`` and accelerates by ``a + d''``. Slow motion is
    unchanged (``d`` ~ ``a / w^2``, a fraction of a millimetre); impacts ring and overshoot.
    """
    fs = motion.fs
    w = 2 * np.pi * f_hz
    b, a = signal.bilinear([-1.0], [1.0, 2 * zeta * w, w * w], fs)
    zi = signal.lfilter_zi(b, a)[:, None] * motion.acc_mps2[0][None, :]
    d, _ = signal.lfilter(b, a, motion.acc_mps2, axis=0, zi=zi)
    dt = 1.0 / fs
    dv = np.gradient(d, dt, axis=0, edge_order=2)
    motion.pos_m += d
    motion.vel_mps += dv
    motion.acc_mps2 += np.gradient(dv, dt, axis=0, edge_order=2)


@dataclass
class SensorDraw:
    """Concrete sensor errors drawn for one session (reported in the truth file)."""

    mount_quat: np.ndarray
    lpf_hz: float
    acc_matrix: np.ndarray
    acc_bias_g: np.ndarray
    acc_noise_g: float
    acc_range_g: float
    acc_lsb_g: float
    gyr_matrix: np.ndarray
    gyr_bias_dps: np.ndarray
    gyr_noise_dps: float
    gyr_range_dps: float
    gyr_lsb_dps: float
    clock_eps: float
    t0_s: float
    phase_s: float
    jitter_s: float
    packet_size: int

    def to_dict(self) -> dict:
        return {
            "mount_quat_xyzw": [round(float(x), 6) for x in self.mount_quat],
            "lpf_hz": round(self.lpf_hz, 2),
            "acc_matrix": np.round(self.acc_matrix, 5).tolist(),
            "acc_bias_g": np.round(self.acc_bias_g, 5).tolist(),
            "acc_noise_g": round(self.acc_noise_g, 5),
            "acc_range_g": self.acc_range_g,
            "acc_lsb_g": self.acc_lsb_g,
            "gyr_matrix": np.round(self.gyr_matrix, 5).tolist(),
            "gyr_bias_dps": np.round(self.gyr_bias_dps, 4).tolist(),
            "gyr_noise_dps": round(self.gyr_noise_dps, 4),
            "gyr_range_dps": self.gyr_range_dps,
            "gyr_lsb_dps": self.gyr_lsb_dps,
            "clock_ppm": round(self.clock_eps * 1e6, 2),
            "t0_s": self.t0_s,
            "time_jitter_s": round(self.jitter_s, 6),
            "packet_size": self.packet_size,
        }


def draw_sensor(spec, rng: np.random.Generator, fs_fine: float) -> SensorDraw:
    """Draw the concrete errors of one sensor.

    The anti-alias low-pass is proper (0.25-0.45 x rate) on about 60 % of sensors; cheap ones
    have a wide digital filter (1-2.5 x rate) and alias knocks and impacts.
    """
    rate = spec.sample_rate_hz
    if rng.random() < 0.6:
        lpf = rng.uniform(0.25, 0.45) * rate
    else:
        lpf = min(rng.uniform(1.0, 2.5) * rate, 0.4 * fs_fine)
    mount = Rotation.random(random_state=np.random.default_rng(rng.integers(2**32)))

    def matrix(scale: float, cross: float) -> np.ndarray:
        m = np.diag(1 + rng.uniform(-scale, scale, 3))
        off = rng.uniform(-cross, cross, (3, 3))
        np.fill_diagonal(off, 0)
        return m + off

    noise_scale = np.sqrt(rate / 100.0)
    return SensorDraw(
        mount_quat=mount.as_quat(),
        lpf_hz=float(lpf),
        acc_matrix=matrix(spec.acc_scale, 0.005),
        acc_bias_g=rng.uniform(-spec.acc_bias_g, spec.acc_bias_g, 3),
        acc_noise_g=float(spec.acc_noise_g * noise_scale),
        acc_range_g=float(spec.acc_range_g),
        acc_lsb_g=float(2 * spec.acc_range_g / 2**spec.acc_bits),
        gyr_matrix=matrix(spec.gyro_scale, 0.005),
        gyr_bias_dps=rng.uniform(-spec.gyro_bias_dps, spec.gyro_bias_dps, 3),
        gyr_noise_dps=float(spec.gyro_noise_dps * noise_scale),
        gyr_range_dps=float(spec.gyro_range_dps),
        gyr_lsb_dps=float(2 * spec.gyro_range_dps / 2**16),
        clock_eps=float(rng.uniform(-spec.clock_ppm, spec.clock_ppm) * 1e-6),
        t0_s=float(np.round(rng.uniform(100, 90000), 3)),
        phase_s=float(rng.uniform(0, 1 / rate)),
        jitter_s=float(spec.time_jitter_s * rng.uniform(0.5, 1.0)),
        packet_size=int(rng.integers(1, 11)),
    )


@dataclass
class Measured:
    time_s: np.ndarray
    acc_g: np.ndarray
    gyr_dps: np.ndarray | None
    kept: np.ndarray  # boolean mask over the full sample grid


def _lowpass(x: np.ndarray, fs: float, fc: float) -> np.ndarray:
    sos = signal.butter(2, min(fc / (fs / 2), 0.95), output="sos")
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    y, _ = signal.sosfilt(sos, x, axis=0, zi=zi)
    return y


def _interp(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    i0 = np.clip(np.floor(idx).astype(np.int64), 0, x.shape[0] - 2)
    f = (idx - i0)[:, None]
    return x[i0] * (1 - f) + x[i0 + 1] * f


def _quantise(x: np.ndarray, rng_: float, lsb: float) -> np.ndarray:
    y = np.clip(x, -rng_, rng_ - lsb)
    return np.round(y / lsb) * lsb + 0.0  # + 0.0: no negative zeros


def measure(motion: Motion, spec, draw: SensorDraw, rng: np.random.Generator) -> Measured:
    rate = spec.sample_rate_hz
    fs = motion.fs
    mount = Rotation.from_quat(draw.mount_quat)
    q_ws = quat_mul(motion.quat_wb, draw.mount_quat[None, :])
    f_world = motion.acc_mps2 / G
    f_world[:, 2] += 1.0
    f_sens = quat_apply(quat_conj(q_ws), f_world)
    f_sens = _lowpass(f_sens, fs, draw.lpf_hz)
    w_sens = None
    if spec.gyro:
        w_sens = mount.inv().apply(motion.omega_body_rps) * (180.0 / np.pi)
        w_sens = _lowpass(w_sens, fs, draw.lpf_hz)

    t_total = (motion.n - 2) / fs
    n_s = int(np.floor((t_total - draw.phase_s) * rate * (1 + draw.clock_eps)))
    k = np.arange(n_s)
    t_true = draw.phase_s + k / (rate * (1 + draw.clock_eps))
    idx = t_true * fs
    acc = _interp(f_sens, idx) @ draw.acc_matrix.T
    drift_a = km.smooth_noise(rng, n_s, rate, 0.005, 3) * 0.002
    acc += draw.acc_bias_g + drift_a + rng.standard_normal((n_s, 3)) * draw.acc_noise_g
    acc = _quantise(acc, draw.acc_range_g, draw.acc_lsb_g)
    gyr = None
    if w_sens is not None:
        gyr = _interp(w_sens, idx) @ draw.gyr_matrix.T
        drift_g = km.smooth_noise(rng, n_s, rate, 0.005, 3) * 0.15
        gyr += draw.gyr_bias_dps + drift_g + rng.standard_normal((n_s, 3)) * draw.gyr_noise_dps
        gyr = _quantise(gyr, draw.gyr_range_dps, draw.gyr_lsb_dps)

    # packet loss
    keep = np.ones(n_s, dtype=bool)
    ps = draw.packet_size
    n_pk = (n_s + ps - 1) // ps
    if spec.packet_loss > 0:
        lost_pk = rng.random(n_pk) < spec.packet_loss
        keep &= ~np.repeat(lost_pk, ps)[:n_s]
    if spec.burst_per_min > 0:
        n_b = rng.poisson(spec.burst_per_min * n_s / rate / 60.0)
        for _ in range(n_b):
            c = int(rng.integers(0, n_s))
            w = int(rng.uniform(0.1, 0.5) * rate)
            keep[c:c + w] = False
    keep[0] = keep[-1] = True

    ts_nom = draw.t0_s + k / rate
    jit = 0.0
    if draw.jitter_s:
        jit = np.clip(rng.normal(0, draw.jitter_s, n_s), -0.4 / rate, 0.4 / rate)
    ts = np.round(ts_nom + jit, 5)
    return Measured(ts[keep], acc[keep], None if gyr is None else gyr[keep], keep)
