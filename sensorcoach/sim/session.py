"""Choreography of a session: the athlete's body, the reps and everything around them.

:class:`Choreographer` turns a :class:`~sensorcoach.sim.spec.SessionSpec` and a random
generator into a :class:`~sensorcoach.sim.kinematics.Track` (the motion of the pelvis or of
the bar on a fine time grid) plus the ground truth: every rep's phase boundaries (as fine
grid indices) and every non-rep activity.

World frame: x horizontal from the shoulders toward the feet, y lateral, z up. The upper
back rests on a bench edge at ``S = (0, 0, shoulder_z)``; the hip joint moves on an arc
around it, ``H = S + L (cos phi, 0, -sin phi)``, with the torso angle ``phi`` below
horizontal driven by the rep progress ``s`` (0 bottom, 1 lockout).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..consts import STANDARD_GRAVITY_MPS2
from . import kinematics as km
from .spec import SessionSpec

DEG = np.pi / 180.0
G = STANDARD_GRAVITY_MPS2
PLATE_RADIUS_M = 0.225


@dataclass
class Athlete:
    """Per-seed body geometry and habits."""

    shoulder_z: float
    torso_l: float
    hip_bottom_z: float
    phi_top: float
    tilt_max: float
    d_hip: float
    d_bar: float
    bar_roll_frac: float
    stand_hip_z: float
    stand_tilt: float
    sit_theta: float
    sit_x: float
    sit_z: float
    rom_jitter: float
    tremor_g: float
    breath_m: float
    breath_hz: float
    walk_speed: float
    step_hz: float
    walk_bob_m: float
    heel_g: float

    @property
    def phi_bottom(self) -> float:
        return float(np.arcsin((self.shoulder_z - self.hip_bottom_z) / self.torso_l))


def draw_athlete(rng: np.random.Generator, spec: SessionSpec) -> Athlete:
    u = rng.uniform
    rom_jit = u(0.02, 0.04) * (0.6 if spec.variant == "banded" else 1.0)
    return Athlete(
        shoulder_z=u(0.38, 0.45), torso_l=u(0.45, 0.55), hip_bottom_z=u(0.12, 0.18),
        phi_top=u(-3, 3) * DEG, tilt_max=u(0, 15) * DEG, d_hip=u(0.08, 0.14),
        d_bar=u(0.10, 0.16), bar_roll_frac=u(0.0, 0.15), stand_hip_z=u(0.88, 1.02),
        stand_tilt=u(-6, 6) * DEG, sit_theta=u(52, 72) * DEG, sit_x=u(0.22, 0.34),
        sit_z=u(0.09, 0.13), rom_jitter=rom_jit, tremor_g=u(0.003, 0.01),
        breath_m=u(0.001, 0.004), breath_hz=u(0.2, 0.35), walk_speed=u(1.0, 1.5),
        step_hz=u(1.6, 2.1), walk_bob_m=u(0.01, 0.02), heel_g=u(0.3, 0.8),
    )


@dataclass
class SetGeom:
    """Geometry of one set (the athlete re-settles on the bench between sets)."""

    sx: float
    sz: float
    torso_l: float
    phi_b: float
    phi_t: float
    tilt: float
    obliq: float
    psi: float
    bar_theta0: float
    side: str | None
    #: small out-of-plane pelvis rotation reached at lockout (rotation vector, rad)
    asym: np.ndarray = field(default_factory=lambda: np.zeros(3))
    #: lateral hip drift at lockout (m)
    lat: float = 0.0
    #: the back rolls / slides along the bench edge as the torso rotates (m per rad)
    slide: float = 0.0


@dataclass
class RepTruth:
    start: int
    top: int
    descent: int
    end: int
    next_start: int | None
    partial: bool
    faults: list[str]
    rest_pause: bool = False


@dataclass
class SetTruth:
    index: int
    reps: list[RepTruth] = field(default_factory=list)
    side: str | None = None


def _wrap_to(angle: float, ref: float) -> float:
    """``angle`` shifted by whole turns to lie within pi of ``ref``."""
    return float(angle + 2 * np.pi * np.round((ref - angle) / (2 * np.pi)))


class Choreographer:
    """Builds the motion track and the truth of one session.

    Parameters
    ----------
    spec : SessionSpec
    rng : numpy.random.Generator
    fs : float
        Fine grid rate (Hz).
    """

    def __init__(self, spec: SessionSpec, rng: np.random.Generator, fs: float) -> None:
        self.spec = spec
        self.rng = rng
        self.fs = fs
        self.ath = draw_athlete(rng, spec)
        self.hip = spec.mount == "hip"
        #: barbell plates touching the floor at the bottom of each rep (a tap)
        self.plate_tap = spec.variant == "barbell" and bool(rng.random() < 0.4)
        self.sets: list[SetTruth] = []
        self.activities: list[dict[str, Any]] = []
        #: hip belt slipping on the pelvis: (start index, end index, rotation vector rad)
        self.slips: list[tuple[int, int, np.ndarray]] = []
        self.track: km.Track
        self.geom: SetGeom
        a = self.ath
        # envelopes: (sway m, rotation sway rad, tremor g, breathing m)
        self.ENV_STILL = (0.0, 0.0, 0.0, 0.0)
        self.ENV_STAND = (0.004, 0.8 * DEG, 0.0, 0.0015)
        self.ENV_WALK = (0.002, 0.5 * DEG, 0.0, 0.0)
        self.ENV_SIT = (0.002, 0.6 * DEG, 0.0, a.breath_m)
        self.ENV_BENCH = (0.0015, 0.4 * DEG, 0.0, a.breath_m)
        self.ENV_MOVE = (0.003, 0.8 * DEG, 0.0, 0.0)
        self.ENV_REP = (0.001, 0.25 * DEG, 0.25 * a.tremor_g, 0.0)
        self.ENV_TOP = (0.0008, 0.2 * DEG, a.tremor_g, 0.0)
        self.ENV_BOTTOM = (0.0012, 0.3 * DEG, 0.3 * a.tremor_g, 0.0)
        self.ENV_HANDS = (0.004, 1.5 * DEG, 0.004, 0.0)
        self.ENV_BAR_ON_HIPS = (0.0008, 0.25 * DEG, 0.0, a.breath_m)
        if not self.hip:  # the bar wobbles a degree or two on the pad during reps
            wob = rng.uniform(0.5, 1.5) * DEG
            self.ENV_REP = (0.001, wob, 0.25 * a.tremor_g, 0.0)
            self.ENV_TOP = (0.0008, 0.6 * wob, a.tremor_g, 0.0)
            self.ENV_BOTTOM = (0.0012, 0.6 * wob, 0.3 * a.tremor_g, 0.0)

    # --- helpers ------------------------------------------------------------------------
    @contextmanager
    def activity(self, kind: str):
        start = self.track.n
        yield
        self.activities.append({"kind": kind, "start": start, "end": self.track.n})
        # whole turns of heading are invisible: keep psi near 0 so later moves take the
        # short way round (the orientation, hence every signal, is unchanged)
        self.track.state[km.PSI] = _wrap_to(self.track.state[km.PSI], 0.0)

    def _ln(self, sigma: float) -> float:
        return float(np.exp(self.rng.normal(0.0, sigma)))

    def new_geom(self, side: str | None = None) -> SetGeom:
        a, r = self.ath, self.rng
        sz = a.shoulder_z + r.normal(0, 0.008)
        hb = a.hip_bottom_z + r.normal(0, 0.008)
        L = a.torso_l
        phi_b = float(np.arcsin(np.clip((sz - hb) / L, 0.2, 0.95)))
        if self.spec.variant == "barbell":
            # at the bottom the plates rest on (tap) or hover just above the floor: the bar's
            # height fixes the hip's (bar = hip + d_bar cos phi)
            target = PLATE_RADIUS_M + (r.uniform(0.0, 0.004) if self.plate_tap
                                       else r.uniform(0.006, 0.04))
            for _ in range(5):
                hb = float(np.clip(target - a.d_bar * np.cos(phi_b), 0.09, 0.22))
                phi_b = float(np.arcsin(np.clip((sz - hb) / L, 0.2, 0.95)))
        phi_t = a.phi_top + r.normal(0, 1.0) * DEG
        if self.spec.variant == "single_leg":
            phi_t = phi_b - r.uniform(0.72, 0.88) * (phi_b - phi_t)
            obliq = r.uniform(3, 10) * DEG * (1 if side == "left" else -1)
        else:
            obliq = 0.0
        bar_theta0 = self.track.state[km.THETA] if not self.hip else 0.0
        return SetGeom(sx=r.normal(0, 0.01), sz=sz, torso_l=L, phi_b=phi_b, phi_t=phi_t,
                       tilt=a.tilt_max * self._ln(0.1), obliq=obliq,
                       psi=r.normal(0, 2.0) * DEG, bar_theta0=float(bar_theta0), side=side,
                       asym=r.normal(0, 1.5, 3) * DEG * (1, 0, 1), lat=r.normal(0, 0.008),
                       slide=r.uniform(-0.02, 0.08))

    def pose_s(self, s: np.ndarray | float, extra_theta: np.ndarray | float = 0.0,
               g: SetGeom | None = None) -> np.ndarray:
        """Channel states (n, 11) for rep progress ``s`` on the bench."""
        g = g or self.geom
        s = np.atleast_1d(np.asarray(s, dtype=float))
        phi = g.phi_b + (g.phi_t - g.phi_b) * s
        out = np.zeros((s.size, km.N_CH))
        hx = g.sx + g.slide * (g.phi_b - phi) + g.torso_l * np.cos(phi)
        hz = g.sz - g.torso_l * np.sin(phi)
        pelvis = phi - g.tilt * np.clip(s, 0, None) ** 2 + extra_theta
        out[:, km.PSI] = g.psi
        out[:, 1] = g.lat * s
        if self.hip:
            out[:, 0], out[:, 2] = hx, hz
            out[:, km.THETA] = pelvis
            out[:, 8] = g.obliq * (0.35 + 0.65 * np.clip(s, 0, 1.2))
            out[:, 8:11] += s[:, None] * g.asym[None, :]
        else:
            d = self.ath.d_bar
            out[:, 0] = hx + d * np.sin(phi)
            out[:, 2] = hz + d * np.cos(phi)
            out[:, km.THETA] = g.bar_theta0 + self.ath.bar_roll_frac * (pelvis - g.phi_b)
            out[:, 8] = 0.15 * g.obliq * s
            out[:, 8:11] += 0.3 * s[:, None] * g.asym[None, :]
        return out

    # --- hip-mount poses ----------------------------------------------------------------
    def pose_stand(self, x: float, y: float, psi: float) -> np.ndarray:
        st = np.zeros(km.N_CH)
        st[0:3] = (x, y, self.ath.stand_hip_z)
        st[km.PSI] = psi
        st[km.THETA] = 90 * DEG + self.ath.stand_tilt
        return st

    def pose_sit(self) -> np.ndarray:
        r = self.rng
        st = np.zeros(km.N_CH)
        st[0:3] = (self.ath.sit_x + r.normal(0, 0.02), r.normal(0, 0.03),
                   self.ath.sit_z + r.normal(0, 0.005))
        st[km.PSI] = r.normal(0, 4) * DEG
        st[km.THETA] = self.ath.sit_theta + r.normal(0, 3) * DEG
        st[8:11] = r.normal(0, 2, 3) * DEG
        return st

    # --- run ----------------------------------------------------------------------------
    def run(self) -> km.Track:
        spec, r = self.spec, self.rng
        if self.hip:
            base = self.pose_stand(0.7 + r.uniform(0, 0.5), r.normal(0, 0.5),
                                   r.uniform(-np.pi, np.pi))
        else:
            base = self._floor_pose()
        handled = spec.activities and bool(r.random() < 0.5)
        self.track = km.Track(self.fs, self._in_hand(base) if handled else base)
        if handled:  # recording starts with the sensor in the hand: then clipped on
            self.handle_sensor(base)
        n_sets = spec.sets
        for i in range(n_sets):
            side = None
            if spec.variant == "single_leg":
                side = "left" if i % 2 == 0 else "right"
            if i == 0:
                self.lead_in()
            else:
                self.rest(between_sides=(side == "right"))
            self.do_set(i + 1, side)
        self.lead_out()
        return self.track

    # --- the set -------------------------------------------------------------------------
    def do_set(self, index: int, side: str | None) -> None:
        spec, r, tr = self.spec, self.rng, self.track
        n = spec.reps_per_set
        E, Bp, C, T = spec.tempo_s
        sig = spec.tempo_jitter
        set_f = [self._ln(sig / 2) for _ in range(4)]
        fr = spec.fault_rates
        st = SetTruth(index=index, side=side)
        # brace at the bottom for a moment before the first rep
        tr.hold(r.uniform(0.8, 3.0), self.ENV_BENCH if self.hip else self.ENV_BAR_ON_HIPS)
        s_lo = 0.0
        # the state must already be the bottom pose at s_lo (setup ends there)
        bounce_next = False
        a_next = None
        for i in range(n):
            frac = i / (n - 1) if n > 1 else 1.0
            fat = spec.fatigue * frac**2
            faults: list[str] = []
            partial = n > 1 and r.random() < fr["partial"] * (0.3 + 1.4 * frac)
            if partial:
                faults.append("partial")
            c_dur = C * set_f[2] * self._ln(sig) * (1 + 0.4 * fat)
            if partial:
                c_dur *= r.uniform(0.5, 0.9)
            t_dur = T * set_f[3] * self._ln(sig)
            if T >= 0.3:
                t_dur = max(t_dur, 0.25)
            if r.random() < fr["no_top_pause"] and T >= 0.3:
                t_dur = r.uniform(0.0, 0.15)
                faults.append("no_top_pause")
            e_dur = max(E * set_f[0] * self._ln(sig), 0.65 * E)
            if r.random() < fr["fast_eccentric"] and E >= 0.9:
                e_dur = r.uniform(0.25, 0.6)
                faults.append("fast_eccentric")
            bounce = i < n - 1 and r.random() < fr["bounce"]
            if bounce:
                faults.append("bounce")
            if i < n - 1 and not bounce:
                b_dur = Bp * set_f[1] * self._ln(sig) + r.exponential(0.12 if Bp == 0 else 0.05)
            else:
                b_dur = 0.0
            rom_scale = (1 + r.normal(0, self.ath.rom_jitter)) * (1 - 0.05 * fat)
            s_hi = s_lo + rom_scale * (1.0 - s_lo)
            if partial:
                s_hi = s_lo + r.uniform(0.3, 0.7) * (s_hi - s_lo)
            s_lo_next = float(np.clip(r.normal(0, 0.012), -0.03, 0.03))

            # concentric
            a_c, b_c = r.uniform(1.4, 3.0), r.uniform(1.4, 3.0)
            if bounce_next and a_next is not None:
                a_c = a_next
            i_start = tr.n
            n_c = tr.samples(c_dur)
            heavy = spec.variant == "barbell" or spec.load_kg >= 60
            if heavy and not partial and r.random() < 0.5 * spec.fatigue * frac:
                # grinding through a sticking point late in a heavy set
                prog = km.sticking_progress(np.arange(n_c) / n_c, a_c, b_c, r.uniform(0.3, 0.8),
                                            r.uniform(0.35, 0.65), r.uniform(0.06, 0.12))
            else:
                prog = km.bell_progress(np.arange(n_c) / n_c, a_c, b_c)
            s = s_lo + (s_hi - s_lo) * prog
            tr.append(self.pose_s(s), self.pose_s(s_hi)[0], self.ENV_REP)
            i_top = tr.n
            # top pause with a squeeze
            n_t = int(round(t_dur * self.fs))
            if n_t > 0:
                tau = np.arange(n_t) / n_t
                bump = np.sin(np.pi * tau) ** 2
                soft = min(1.0, (n_t / self.fs / 0.8) ** 2)  # a short pause cannot squeeze
                ds = soft * (r.uniform(0.0, 0.01) if not partial else r.uniform(-0.01, 0.01))
                dth = -soft * r.uniform(0.5, 2.0) * DEG
                tr.append(self.pose_s(s_hi + ds * bump, dth * bump), self.pose_s(s_hi)[0],
                          self.ENV_TOP)
            i_desc = tr.n
            # eccentric (gravity limits how fast the hips can drop: <= 0.9 g downward; braking
            # at the bottom stays below 2 g)
            n_e = tr.samples(e_dur)
            dist = max(abs(self.pose_s(s_hi)[0, 2] - self.pose_s(s_lo_next)[0, 2]), 0.02)
            if bounce:
                prof = (r.uniform(1.4, 2.5), r.uniform(0.3, 0.7), r.uniform(0.5, 1.5) * G,
                        r.uniform(0.05, 0.08))
            elif "fast_eccentric" in faults:
                prof = (r.uniform(1.6, 2.8), r.uniform(1.0, 1.6))
            else:
                prof = (r.uniform(1.4, 3.0), r.uniform(1.4, 3.0))
            for _ in range(30):
                if bounce:
                    p = km.bounce_progress(n_e, self.fs, prof[0], prof[1], prof[2], prof[3], dist)
                else:
                    p = km.bell_progress(np.arange(n_e) / n_e, prof[0], prof[1])
                acc = np.diff(p, 2) * dist * self.fs**2  # downward positive
                if acc.max() <= 0.9 * G and -acc.min() <= 2.0 * G:
                    break
                n_e = int(n_e * 1.08) + 1
            s = s_hi + (s_lo_next - s_hi) * p
            tr.append(self.pose_s(s), self.pose_s(s_lo_next)[0], self.ENV_REP)
            i_end = tr.n
            # bottom pause: hips hover
            n_b = int(round(b_dur * self.fs))
            if n_b > 0:
                tau = np.arange(n_b) / n_b
                soft = min(1.0, (n_b / self.fs / 0.8) ** 2)
                hover = soft * r.uniform(-0.006, 0.006) * np.sin(np.pi * tau) ** 2
                tr.append(self.pose_s(s_lo_next + hover), self.pose_s(s_lo_next)[0],
                          self.ENV_BOTTOM)
            if self.plate_tap:  # the plates tap the floor at the bottom of every rep
                amp = r.uniform(0.4, 1.8) if not self.hip else r.uniform(0.08, 0.3)
                pulse = km.damped_pulse(self.fs, amp * G, r.uniform(25, 60), r.uniform(0.004, 0.01))
                tr.impulses.append((i_end, pulse[:, None] * np.array([[0.0, 0.0, 1.0]])))
            rest_pause = (spec.midset_pause > 0 and i < n - 1 and not bounce
                          and r.random() < spec.midset_pause)
            if rest_pause:  # catch a breath / re-adjust at the bottom, then carry on
                tr.hold(r.uniform(0.5, 2.5), self.ENV_BENCH)
                mid = self.pose_s(s_lo_next + r.uniform(0.02, 0.07), r.normal(0, 2) * DEG)[0]
                mid[8:11] += r.normal(0, 1.5, 3) * DEG
                tr.path(r.uniform(0.6, 1.5), [(0.5, mid), (1.0, self.pose_s(s_lo_next)[0])],
                        self.ENV_MOVE)
                tr.hold(r.uniform(0.5, 2.5), self.ENV_BENCH)
            next_start = tr.n if i < n - 1 else None
            st.reps.append(RepTruth(i_start, i_top, i_desc, i_end, next_start, partial, faults,
                                    rest_pause))
            s_lo = s_lo_next
            bounce_next = bounce
            a_next = r.uniform(0.9, 1.3) if bounce else None
        self.sets.append(st)
        # a moment at the bottom before anything else happens
        with self.activity("resting_on_bench" if self.hip else "bar_on_hips"):
            tr.hold(r.uniform(0.8, 2.5), self.ENV_BENCH if self.hip else self.ENV_BAR_ON_HIPS)

    # --- the sensor in the hand -----------------------------------------------------------
    def _in_hand(self, near: np.ndarray) -> np.ndarray:
        """A random pose of the sensor held in a hand near ``near`` (any orientation)."""
        r = self.rng
        k = near.copy()
        k[0:2] += r.normal(0, 0.15, 2)
        k[2] = r.uniform(0.6, 1.3)
        k[5:8] = r.normal(0, 60, 3) * DEG
        k[8:11] = r.normal(0, 20, 3) * DEG
        return k

    def handle_sensor(self, to: np.ndarray | None) -> None:
        """The sensor handled (turned over, clipped on or off): large arbitrary rotations.

        ``to`` is the pose it ends in (clipped to the belt or the bar); ``None``: it is
        unclipped and put down somewhere (a table, the floor) and lies still.
        """
        r, tr = self.rng, self.track
        with self.activity("sensor_handling"):
            ref = tr.state if to is None else to
            put_down = to is None
            m = int(r.integers(2, 5))
            keys = [((j + 1) / (m + 1), self._in_hand(ref)) for j in range(m)]
            if to is None:
                to = self._in_hand(ref)
                to[2] = r.choice([0.02, r.uniform(0.7, 0.9)])
                to[5:8] = r.normal(0, 90, 3) * DEG
                to[8:11] = 0.0
            keys.append((1.0, to))
            dur = r.uniform(2.0, 6.0)
            t0 = tr.t
            tr.path(dur, keys, self.ENV_HANDS)
            # clipped on / put down: a small click
            tr.impulse(t0 + dur * r.uniform(0.9, 1.0),
                       km.damped_pulse(self.fs, r.uniform(0.5, 3.0) * G, r.uniform(40, 120),
                                       r.uniform(0.002, 0.006))[:, None]
                       * r.normal(0, 1, 3)[None, :] / np.sqrt(3))
            on_body = self.hip and not put_down
            tr.hold(r.uniform(0.5, 2.0), self.ENV_STAND if on_body else self.ENV_STILL)

    # --- hip-mount activities ------------------------------------------------------------
    def stand(self, dur: float) -> None:
        r, tr = self.rng, self.track
        with self.activity("standing"):
            end = tr.t + dur
            while end - tr.t > 0.3:
                hold = min(r.uniform(1.0, 4.0), end - tr.t)
                tr.hold(hold, self.ENV_STAND)
                if end - tr.t > 1.2 and r.random() < 0.6:  # weight shift
                    tgt = tr.state.copy()
                    tgt[1] += r.normal(0, 0.02)
                    tgt[0] += r.normal(0, 0.01)
                    tgt[8:11] += r.normal(0, 1.5, 3) * DEG
                    tgt[8:11] *= 0.6
                    tgt[km.PSI] += r.normal(0, 5) * DEG
                    tr.move(r.uniform(0.6, 1.2), tgt, self.ENV_STAND)

    def walk(self, dur: float) -> None:
        """Out-and-back walk: accelerate, walk, turn around, walk back, stop."""
        r, tr, a = self.rng, self.track, self.ath
        with self.activity("walking"):
            n = tr.samples(max(dur, 4.0))
            T = n / self.fs
            t = np.arange(n) / self.fs
            st0 = tr.state.copy()
            v0 = a.walk_speed * self._ln(0.05)
            ramp = min(1.0, T / 4)
            gate = (km.bell_progress(np.clip(t / ramp, 0, 1), 2, 2)
                    * km.bell_progress(np.clip((T - t) / ramp, 0, 1), 2, 2))
            t_turn = T * r.uniform(0.4, 0.6)
            turn_len = r.uniform(1.0, 2.0)
            turn = km.bell_progress(np.clip((t - t_turn + turn_len / 2) / turn_len, 0, 1), 2, 2)
            turn_dir = 1 if r.random() < 0.5 else -1
            wander = km.smooth_noise(r, n, self.fs, 0.15)[:, 0] * 3 * DEG * gate
            psi = st0[km.PSI] + turn_dir * np.pi * turn + wander
            slow = 1 - 0.5 * np.exp(-0.5 * ((t - t_turn) / (turn_len / 2)) ** 2)
            f_step = a.step_hz * (1 + 0.03 * km.smooth_noise(r, n, self.fs, 0.3)[:, 0])
            ph = 2 * np.pi * np.cumsum(f_step) / self.fs + r.uniform(0, 2 * np.pi)
            d1, d2, d3 = r.uniform(0, 2 * np.pi, 3)
            speed = v0 * gate * slow * (1 + 0.08 * np.cos(ph + d1))
            x = st0[0] + np.cumsum(speed * np.cos(psi)) / self.fs
            y = st0[1] + np.cumsum(speed * np.sin(psi)) / self.fs
            # out and back: close the loop (the walker aims for where they started)
            close = km.bell_progress(t / T, 2, 2)
            x += (st0[0] - x[-1]) * close
            y += (st0[1] - y[-1]) * close
            g = gate * slow
            lat = a.walk_bob_m * 0.8 * np.sin(ph / 2) * g
            arr = np.repeat(st0[None, :], n, axis=0)
            arr[:, 0] = x - lat * np.sin(psi)
            arr[:, 1] = y + lat * np.cos(psi)
            arr[:, 2] = st0[2] + a.walk_bob_m * np.cos(ph) * g
            arr[:, km.PSI] = psi
            arr[:, 8] = st0[8] + 4 * DEG * np.sin(ph / 2 + d1) * g  # yaw (long axis upright)
            arr[:, 10] = st0[10] + 3 * DEG * np.sin(ph / 2 + d2) * g  # obliquity
            arr[:, 9] = st0[9] + 2 * DEG * np.cos(ph + d3) * g  # tilt
            end = arr[-1].copy()
            tr.append(arr, end, self.ENV_WALK)
            # heel strikes at the low point of each step
            i0 = tr.n - n
            lows = np.nonzero(np.diff(np.floor((ph - np.pi) / (2 * np.pi))) > 0)[0]
            for k in lows:
                if g[k] < 0.3:
                    continue
                amp = a.heel_g * g[k] * self._ln(0.2) * G
                pulse = km.damped_pulse(self.fs, amp, r.uniform(8, 18), r.uniform(0.015, 0.035))
                fwd = np.array([np.cos(psi[k]), np.sin(psi[k]), 0.0])
                vec = np.array([0, 0, 1.0]) - 0.4 * fwd + r.normal(0, 0.1, 3)
                tr.impulses.append((i0 + int(k), pulse[:, None] * vec[None, :]))

    def turn(self, psi_to: float) -> None:
        """Turn on the spot (a few small steps) to face ``psi_to``."""
        r, tr = self.rng, self.track
        with self.activity("turning"):
            st0 = tr.state.copy()
            d = psi_to - st0[km.PSI]
            dur = max(0.8, abs(d) / (r.uniform(70, 120) * DEG))
            n = tr.samples(dur)
            tau = np.arange(n) / n
            arr = np.repeat(st0[None, :], n, axis=0)
            arr[:, km.PSI] += d * km.bell_progress(tau, 2, 2)
            steps = max(2, int(round(dur * r.uniform(1.5, 2.2))))
            bob = 0.006 * np.sin(np.pi * tau) ** 2 * np.cos(2 * np.pi * steps * tau)
            arr[:, 2] += bob - 0.006 * np.sin(np.pi * tau) ** 2
            arr[:, 10] += 2 * DEG * np.sin(np.pi * tau) ** 2 * np.sin(np.pi * steps * tau)
            end = st0.copy()
            end[km.PSI] = psi_to
            tr.append(arr, end, self.ENV_STAND)

    def sit_down(self) -> None:
        r, tr = self.rng, self.track
        target = _wrap_to(r.normal(0, 4) * DEG, tr.state[km.PSI])
        if abs(target - tr.state[km.PSI]) > 40 * DEG:  # back to the bench first
            self.turn(target + r.normal(0, 10) * DEG)
        i0 = tr.n
        with self.activity("sitting_down"):
            st0 = tr.state.copy()
            end = self.pose_sit()
            end[km.PSI] = _wrap_to(end[km.PSI], st0[km.PSI])
            k1 = st0.copy()
            k1[0:3] = (0.6 * st0[0] + 0.4 * end[0] + 0.1, 0.5 * (st0[1] + end[1]),
                       r.uniform(0.5, 0.65))
            k1[km.THETA] = r.uniform(100, 120) * DEG
            k1[km.PSI] = 0.5 * (st0[km.PSI] + end[km.PSI])
            k1[8:11] = r.normal(0, 6, 3) * DEG
            k2 = end.copy()
            k2[2] = r.uniform(0.2, 0.3)
            k2[0] += 0.05
            k2[km.THETA] = r.uniform(85, 100) * DEG
            k2[8:11] = r.normal(0, 8, 3) * DEG
            dur = r.uniform(2.0, 4.0)
            t0 = tr.t
            tr.path(dur, [(r.uniform(0.3, 0.45), k1), (r.uniform(0.65, 0.8), k2), (1.0, end)],
                    self.ENV_MOVE)
            tr.impulse(t0 + dur * r.uniform(0.85, 0.98),
                       km.damped_pulse(self.fs, r.uniform(0.3, 0.8) * G, r.uniform(8, 15),
                                       r.uniform(0.03, 0.06))[:, None] * np.array([[0, 0, 1.0]]))
        if r.random() < 0.5:
            self._slip(i0)

    def _slip(self, i0: int) -> None:
        """The belt shifts a little on the pelvis during big movements (2-8 degrees)."""
        r = self.rng
        axis = r.normal(0, 1, 3)
        axis /= np.linalg.norm(axis)
        self.slips.append((i0, self.track.n, axis * r.uniform(2, 8) * DEG))

    def get_up(self) -> None:
        r, tr = self.rng, self.track
        i0 = tr.n
        with self.activity("getting_up"):
            st0 = tr.state.copy()
            roll = r.uniform(10, 45) * DEG * (1 if r.random() < 0.5 else -1)
            k1 = st0.copy()
            k1[0] += 0.05
            k1[2] = r.uniform(0.18, 0.28)
            k1[km.THETA] = r.uniform(105, 130) * DEG
            k1[km.PSI] = st0[km.PSI] + roll
            k1[8:11] = r.normal(0, 10, 3) * DEG
            k2 = st0.copy()
            k2[0] += r.uniform(0.1, 0.2)
            k2[2] = r.uniform(0.5, 0.65)
            k2[km.THETA] = r.uniform(100, 115) * DEG
            k2[km.PSI] = st0[km.PSI] + 0.5 * roll
            k2[8:11] = r.normal(0, 5, 3) * DEG
            end = self.pose_stand(st0[0] + r.uniform(0.2, 0.4), st0[1] + r.normal(0, 0.1),
                                  st0[km.PSI] + r.normal(0, 30) * DEG)
            tr.path(r.uniform(1.5, 3.0), [(r.uniform(0.25, 0.4), k1), (r.uniform(0.55, 0.7), k2),
                                          (1.0, end)], self.ENV_MOVE)
        if r.random() < 0.5:
            self._slip(i0)

    def sit(self, dur: float) -> None:
        with self.activity("sitting"):
            self._fidget(dur, self.ENV_SIT, amp=0.015)

    def lie_back(self, geom: SetGeom) -> None:
        r, tr = self.rng, self.track
        with self.activity("lying_back"):
            end = self.pose_s(0.0, g=geom)[0]
            mid = 0.5 * (tr.state + end)
            mid[2] += r.uniform(0.03, 0.07)
            mid[8:11] += r.normal(0, 4, 3) * DEG
            mid[km.PSI] += r.normal(0, 5) * DEG
            tr.path(r.uniform(1.0, 2.5), [(r.uniform(0.4, 0.6), mid), (1.0, end)], self.ENV_MOVE)

    def sit_up(self) -> None:
        r, tr = self.rng, self.track
        with self.activity("sitting_up"):
            end = self.pose_sit()
            mid = 0.5 * (tr.state + end)
            mid[2] += r.uniform(0.02, 0.06)
            mid[8:11] += r.normal(0, 4, 3) * DEG
            tr.path(r.uniform(1.0, 2.5), [(r.uniform(0.4, 0.6), mid), (1.0, end)], self.ENV_MOVE)

    def settle(self, count: int) -> None:
        """Small adjustments of the hips on the bench (3-12 % of the rep range)."""
        r, tr = self.rng, self.track
        for _ in range(count):
            with self.activity("settling"):
                ds = r.uniform(0.03, 0.12) * (1 if r.random() < 0.7 else -0.4)
                mid = self.pose_s(ds, r.normal(0, 3) * DEG)[0]
                mid[km.PSI] += r.normal(0, 2) * DEG
                mid[8:11] += r.normal(0, 2, 3) * DEG
                mid[0] += r.normal(0, 0.01)
                if not self.hip:
                    mid[km.THETA] += r.normal(0, 5) * DEG
                    mid[1] += r.normal(0, 0.01)
                end = self.pose_s(0.0)[0]
                tr.path(r.uniform(0.5, 1.5), [(r.uniform(0.35, 0.65), mid), (1.0, end)],
                        self.ENV_MOVE)
            tr.hold(r.uniform(0.3, 2.0), self.ENV_BENCH)

    def bench_rest(self, dur: float) -> None:
        """Lying back at the bottom between sets (breathing, the odd adjustment)."""
        r, tr = self.rng, self.track
        with self.activity("resting_on_bench"):
            end = tr.t + dur
            while end - tr.t > 0.5:
                tr.hold(min(r.uniform(3, 12), end - tr.t), self.ENV_BENCH)
                if end - tr.t > 2 and r.random() < 0.4:
                    tgt = self.pose_s(float(r.uniform(-0.03, 0.05)))[0]
                    tgt[8:11] += r.normal(0, 1.5, 3) * DEG
                    tr.move(r.uniform(0.8, 1.6), tgt, self.ENV_BENCH)
                    tr.move(r.uniform(0.8, 1.6), self.pose_s(0.0)[0], self.ENV_BENCH)

    def _fidget(self, dur: float, env: tuple[float, ...], amp: float) -> None:
        r, tr = self.rng, self.track
        end = tr.t + dur
        base = tr.state.copy()
        while end - tr.t > 0.5:
            tr.hold(min(r.uniform(2, 8), end - tr.t), env)
            if end - tr.t > 2 and r.random() < 0.5:
                tgt = base.copy()
                tgt[0:3] += r.normal(0, amp, 3) * (1, 1, 0.3)
                tgt[8:11] += r.normal(0, 2, 3) * DEG
                tgt[km.THETA] += r.normal(0, 2) * DEG
                tr.move(r.uniform(0.6, 1.5), tgt, env)

    def hip_bar_handling(self, kind: str) -> None:
        """Hip mount: rolling a bar (or placing a dumbbell) onto / off the hips."""
        r, tr = self.rng, self.track
        with self.activity(kind):
            base = tr.state.copy()
            keys = []
            m = int(r.integers(2, 5))
            for j in range(m):
                k = base.copy()
                k[0:3] += r.normal(0, 0.012, 3) * (1, 1, 0.6)
                k[km.THETA] += r.normal(0, 2.5) * DEG
                k[8:11] += r.normal(0, 1.5, 3) * DEG
                keys.append(((j + 1) / (m + 1), k))
            keys.append((1.0, base))
            dur = r.uniform(2.0, 5.0)
            t0 = tr.t
            tr.path(dur, keys, self.ENV_MOVE)
            if kind.endswith("on"):
                tr.impulse(t0 + dur * r.uniform(0.7, 0.95),
                           km.damped_pulse(self.fs, r.uniform(0.2, 0.5) * G, r.uniform(6, 14),
                                           r.uniform(0.04, 0.09))[:, None]
                           * np.array([[0.2, 0, -1.0]]))

    # --- bar-mount activities -------------------------------------------------------------
    def _floor_pose(self) -> np.ndarray:
        r = self.rng
        st = np.zeros(km.N_CH)
        if self.spec.variant == "dumbbell":
            st[0:3] = (r.uniform(0.6, 1.0), r.choice([-1, 1]) * r.uniform(0.3, 0.6),
                       r.uniform(0.07, 0.12))
            st[km.PSI] = r.uniform(-np.pi, np.pi)
            st[km.THETA] = r.uniform(-np.pi, np.pi)
            st[5:8] = (r.choice([0, 90, -90]) + r.normal(0, 3)) * DEG, 0, 0
        else:
            st[0:3] = (r.uniform(1.0, 1.5), r.normal(0, 0.05), PLATE_RADIUS_M)
            st[km.PSI] = r.normal(0, 3) * DEG
            st[km.THETA] = r.uniform(-np.pi, np.pi)
        return st

    def bar_still(self, dur: float) -> None:
        with self.activity("bar_still"):
            self.track.hold(dur, self.ENV_STILL)

    def load_plates(self, kind: str = "loading_plates") -> None:
        r, tr = self.rng, self.track
        with self.activity(kind):
            for end_sign in (1, -1):
                for _ in range(int(r.integers(1, 3))):
                    base = tr.state.copy()
                    tilt = base.copy()
                    tilt[5] += end_sign * r.uniform(2, 6) * DEG
                    tilt[1] += r.normal(0, 0.005)
                    tr.move(r.uniform(0.3, 0.8), tilt, self.ENV_STILL)
                    hold = r.uniform(0.4, 1.2)
                    t0 = tr.t
                    tr.hold(hold, (0.0005, 0.2 * DEG, 0.0, 0.0))
                    for _k in range(int(r.integers(1, 4))):
                        vec = np.array([r.normal(0, 0.3), end_sign * 1.0, r.normal(0, 0.5)])
                        vec /= np.linalg.norm(vec)
                        pulse = km.damped_pulse(self.fs, r.uniform(2, 8) * G, r.uniform(40, 120),
                                                r.uniform(0.005, 0.02) / 3)
                        tr.impulses.append((int(round((t0 + r.uniform(0.05, 0.9) * hold)
                                                      * self.fs)), pulse[:, None] * vec))
                    tr.move(r.uniform(0.3, 0.6), base, (0.0005, 0.2 * DEG, 0.0, 0.0))
                    self._knock(r.uniform(1.0, 4.0), (0, 0, 1.0))
                    tr.hold(r.uniform(1.0, 4.0), self.ENV_STILL)

    def _knock(self, amp_g: float, direction: tuple[float, float, float]) -> None:
        r = self.rng
        vec = np.asarray(direction, dtype=float) + r.normal(0, 0.15, 3)
        vec /= np.linalg.norm(vec)
        pulse = km.damped_pulse(self.fs, amp_g * G, r.uniform(40, 120), r.uniform(0.005, 0.02) / 3)
        self.track.impulses.append((self.track.n, pulse[:, None] * vec))

    def roll_bar(self, x_to: float, kind: str) -> None:
        """Roll the bar along x at constant height: rotation about y with x = r * theta."""
        r, tr = self.rng, self.track
        with self.activity(kind):
            st0 = tr.state.copy()
            x0 = st0[0]
            m = int(r.integers(1, 4))  # one to three pushes
            dist = abs(x_to - x0)
            n = tr.samples(max(1.5, dist / r.uniform(0.25, 0.45)))
            tau = np.arange(n) / n
            w = r.uniform(0.5, 1.0, m)
            w /= w.sum()
            edges = np.concatenate([[0.0], np.cumsum(r.uniform(0.7, 1.3, m))])
            edges /= edges[-1]
            prog = np.zeros(n)
            for j in range(m):
                u = np.clip((tau - edges[j]) / (edges[j + 1] - edges[j]), 0, 1)
                prog += w[j] * km.bell_progress(u, r.uniform(1.5, 2.5), r.uniform(1.5, 2.5))
            arr = np.repeat(st0[None, :], n, axis=0)
            arr[:, 0] = x0 + prog * (x_to - x0)
            arr[:, km.THETA] = st0[km.THETA] + (arr[:, 0] - x0) / PLATE_RADIUS_M
            end = st0.copy()
            end[0] = x_to
            end[km.THETA] = st0[km.THETA] + (x_to - x0) / PLATE_RADIUS_M
            tr.append(arr, end, (0.0005, 0.2 * DEG, 0.0, 0.0))

    def bar_onto_hips(self) -> None:
        """Bar mount: from the floor (rolled, or a dumbbell placed) into the hip crease."""
        r, tr = self.rng, self.track
        geom = self.new_geom(self._pending_side)
        if self.spec.variant == "dumbbell":
            with self.activity("dumbbell_pick_up"):
                geom.bar_theta0 = tr.state[km.THETA] + r.normal(0, 0.5)
                end = self.pose_s(0.0, g=geom)[0]
                end[km.PSI] = _wrap_to(geom.psi, tr.state[km.PSI])
                geom.psi = end[km.PSI]
                end[5:8] = 0.0
                grab = tr.state.copy()  # grabbed and tipped up off the floor
                grab[2] += r.uniform(0.03, 0.1)
                grab[5:8] *= r.uniform(0.3, 0.7)
                grab[8:11] = r.normal(0, 10, 3) * DEG
                mid = 0.5 * (tr.state + end)
                mid[2] = r.uniform(0.45, 0.7)
                mid[8:11] = r.normal(0, 20, 3) * DEG
                tr.path(r.uniform(1.8, 3.5), [(r.uniform(0.2, 0.3), grab),
                                              (r.uniform(0.5, 0.65), mid), (1.0, end)],
                        self.ENV_HANDS)
                tr.impulse(tr.t, km.damped_pulse(self.fs, r.uniform(0.3, 1.0) * G, 20, 0.02)
                           [:, None] * np.array([[0, 0, 1.0]]))
        else:
            x_crease = self.pose_s(0.0, g=geom)[0, 0]
            self.roll_bar(x_crease + r.normal(0, 0.02), "bar_roll_on")
            with self.activity("adjusting_bar"):
                geom.bar_theta0 = tr.state[km.THETA] + r.normal(0, 10) * DEG
                end = self.pose_s(0.0, g=geom)[0]
                mid = 0.5 * (tr.state + end)
                mid[0:3] += r.normal(0, 0.015, 3)
                mid[km.THETA] += r.normal(0, 6) * DEG
                tr.path(r.uniform(0.8, 2.0), [(0.5, mid), (1.0, end)], self.ENV_BAR_ON_HIPS)
        self.geom = geom

    def bar_off_hips(self) -> None:
        r, tr = self.rng, self.track
        if self.spec.variant == "dumbbell":
            with self.activity("dumbbell_put_down"):
                end = self._floor_pose()
                end[km.PSI] = _wrap_to(end[km.PSI], tr.state[km.PSI])
                end[km.THETA] = _wrap_to(end[km.THETA], tr.state[km.THETA])
                mid = 0.5 * (tr.state + end)
                mid[2] = r.uniform(0.4, 0.6)
                mid[8:11] = r.normal(0, 20, 3) * DEG
                tr.path(r.uniform(1.5, 3.0), [(r.uniform(0.4, 0.6), mid), (1.0, end)],
                        self.ENV_HANDS)
                self._knock(r.uniform(1.0, 4.0), (0, 0, 1.0))
        else:
            with self.activity("plates_touch_down"):
                down = tr.state.copy()
                down[2] = PLATE_RADIUS_M
                down[5:11] = 0.0
                tr.move(r.uniform(0.4, 0.9), down, self.ENV_BAR_ON_HIPS)
                self._knock(r.uniform(1.5, 5.0), (0, 0, 1.0))
            tr.hold(r.uniform(0.5, 2.0), self.ENV_STILL)
            self.roll_bar(tr.state[0] + r.uniform(0.35, 1.5), "bar_roll_off")

    def bar_on_hips_rest(self, dur: float) -> None:
        r, tr = self.rng, self.track
        with self.activity("bar_on_hips"):
            end = tr.t + dur
            while end - tr.t > 0.5:
                tr.hold(min(r.uniform(3, 12), end - tr.t), self.ENV_BAR_ON_HIPS)
                if end - tr.t > 2 and r.random() < 0.4:
                    tgt = self.pose_s(float(r.uniform(-0.02, 0.04)))[0]
                    tgt[0:3] += r.normal(0, 0.008, 3)
                    tgt[km.THETA] += r.normal(0, 4) * DEG
                    tr.move(r.uniform(0.6, 1.4), tgt, self.ENV_BAR_ON_HIPS)
                    self.geom.bar_theta0 = tgt[km.THETA]  # pose_s(0) has theta == bar_theta0
                    tr.move(r.uniform(0.6, 1.4), self.pose_s(0.0)[0], self.ENV_BAR_ON_HIPS)

    # --- phases of the session ------------------------------------------------------------
    _pending_side: str | None = None

    def _setup_hip(self, side: str | None, from_standing: bool) -> None:
        r = self.rng
        loaded = self.spec.variant in ("barbell", "dumbbell")
        if from_standing:
            self.sit_down()
        self.sit(r.uniform(1.0, 6.0))
        if loaded:
            self.hip_bar_handling("bar_roll_on" if self.spec.variant == "barbell"
                                  else "dumbbell_place_on")
        self.geom = self.new_geom(side)
        self.lie_back(self.geom)
        self.settle(int(r.integers(2, 5)) if self.spec.activities else 1)

    def lead_in(self) -> None:
        spec, r = self.spec, self.rng
        side = "left" if spec.variant == "single_leg" else None
        self._pending_side = side
        budget = spec.lead_in_s
        if self.hip:
            if spec.activities:
                self.stand(r.uniform(0.15, 0.3) * budget)
                self.walk(max(4.0, r.uniform(0.3, 0.5) * budget))
                self.stand(r.uniform(1.0, 4.0))
                self._setup_hip(side, from_standing=True)
            else:
                self.track.state = self.pose_sit()
                self.sit(budget * 0.5)
                self._setup_hip(side, from_standing=False)
        else:
            self.bar_still(r.uniform(0.2, 0.4) * budget)
            if spec.activities and spec.variant != "dumbbell":
                self.load_plates()
            self.bar_still(r.uniform(2.0, 8.0))
            self.bar_onto_hips()
            self.settle(int(r.integers(1, 4)) if spec.activities else 1)

    def rest(self, between_sides: bool) -> None:
        spec, r = self.spec, self.rng
        dur = spec.rest_s * r.uniform(0.75, 1.25)
        if between_sides:
            dur = min(dur, r.uniform(5, 20))
        side = None
        if spec.variant == "single_leg":
            side = "right" if between_sides else "left"
        self._pending_side = side
        t_end = self.track.t + dur
        active = spec.activities and not between_sides and r.random() < spec.walk_between_sets
        if self.hip:
            if active:
                loaded = spec.variant in ("barbell", "dumbbell")
                self.sit_up()
                if loaded:
                    self.hip_bar_handling("bar_roll_off" if spec.variant == "barbell"
                                          else "dumbbell_take_off")
                self.get_up()
                self.stand(r.uniform(2, 6))
                left = t_end - self.track.t - 12.0
                if left > 5:
                    self.walk(left * r.uniform(0.5, 0.8))
                self.stand(max(1.0, t_end - self.track.t - 10.0))
                self._setup_hip(side, from_standing=True)
            else:
                if spec.activities and r.random() < 0.5:
                    self.sit_up()
                    self.sit(max(1.0, t_end - self.track.t - 6.0))
                    self.geom = self.new_geom(side)
                    self.lie_back(self.geom)
                else:
                    self.bench_rest(max(1.0, t_end - self.track.t - 3.0))
                    self.geom = self.new_geom(side)
                    with self.activity("settling"):
                        self.track.move(r.uniform(0.8, 1.6), self.pose_s(0.0)[0], self.ENV_MOVE)
                self.settle(int(r.integers(1, 3)))
        else:
            if active:
                self.bar_off_hips()
                self.bar_still(max(1.0, (t_end - self.track.t - 12) * r.uniform(0.3, 0.6)))
                if spec.variant != "dumbbell" and r.random() < 0.5:
                    self.load_plates()
                self.bar_still(max(1.0, t_end - self.track.t - 8.0))
                self.bar_onto_hips()
                self.settle(int(r.integers(1, 3)))
            else:
                self.bar_on_hips_rest(max(1.0, t_end - self.track.t - 3.0))
                self.geom = self.new_geom(side)  # keeps the bar's current roll
                with self.activity("settling"):
                    self.track.move(r.uniform(0.8, 1.6), self.pose_s(0.0)[0], self.ENV_MOVE)
                self.settle(int(r.integers(0, 2)))

    def lead_out(self) -> None:
        spec, r = self.spec, self.rng
        budget = spec.lead_out_s
        t_end = self.track.t + budget
        if self.hip:
            self.sit_up()
            if spec.variant in ("barbell", "dumbbell"):
                self.hip_bar_handling("bar_roll_off" if spec.variant == "barbell"
                                      else "dumbbell_take_off")
            if spec.activities:
                self.get_up()
                left = t_end - self.track.t
                if left > 8:
                    self.stand(r.uniform(0.2, 0.4) * left)
                    self.walk(max(4.0, t_end - self.track.t - 2))
                self.stand(max(1.0, t_end - self.track.t))
            else:
                self.sit(max(1.0, t_end - self.track.t))
        else:
            self.bar_off_hips()
            self.bar_still(max(1.0, (t_end - self.track.t) * 0.5))
            if spec.activities and spec.variant != "dumbbell" and r.random() < 0.5:
                self.load_plates("unloading_plates")
            self.bar_still(max(1.0, t_end - self.track.t))
        if spec.activities and r.random() < 0.3:  # unclipped and put down before stopping
            self.handle_sensor(None)
