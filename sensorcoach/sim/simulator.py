"""Seeded session simulator: :func:`simulate` a spec, :func:`write_sim` the CSV and truth.

``simulate(spec, seed)`` draws an athlete and a sensor from the seed, choreographs the session
(:mod:`.session`), adds postural sway, tremor and breathing, computes the rigid-body motion of
the sensor point and what the sensor reports (:mod:`.sensor`), and collects the ground truth
on the recording's own clock. The same seed always gives the identical file.

Truth document (``NAME.truth.json``, schema ``sensorcoach.truth/1``)
-------------------------------------------------------------------
All times are on the recording's ``time_s`` axis (the sensor clock, without the timestamp
jitter); durations in seconds, lengths in metres.

``seed``, ``spec`` (every :class:`SessionSpec` field), ``mount``, ``sample_rate_hz``
``sets``: list of ``{index, start_s, end_s, full_reps, partial_reps, [side], reps}``;
    ``start_s`` / ``end_s`` are the first rep's start and the last rep's end. Each rep:
    ``start_s`` (concentric starts: hips leave the bottom), ``top_s`` (lockout), ``descent_s``
    (lowering starts), ``end_s`` (bottom reached), ``concentric_s``, ``top_pause_s``,
    ``eccentric_s``, ``bottom_pause_s`` (until the next rep of the set starts; 0 for the
    last), ``rom_m`` (vertical travel of the sensor's mounting point over the concentric),
    ``mean_velocity_mps`` (``rom_m / concentric_s``), ``peak_velocity_mps`` (highest upward
    velocity of that point in the concentric), ``partial``, ``faults`` (subset of
    ``no_top_pause``, ``fast_eccentric``, ``bounce``, ``partial``; ``bounce`` sits on the rep
    whose eccentric ends in the bounce), ``rotation_deg`` (sensor rotation over the
    concentric).
``distractors``: list of ``{kind, start_s, end_s}``: everything that is not a rep
    (``standing``, ``walking``, ``turning``, ``sitting_down``, ``sitting``, ``getting_up``,
    ``lying_back``, ``sitting_up``, ``settling``, ``resting_on_bench``, ``bar_roll_on``,
    ``bar_roll_off``, ``adjusting_bar``, ``bar_on_hips``, ``bar_still``, ``loading_plates``,
    ``unloading_plates``, ``plates_touch_down``, ``dumbbell_pick_up``, ``dumbbell_put_down``,
    ``dumbbell_place_on``, ``dumbbell_take_off``, ``sensor_handling``).
``recording``: ``start_s``, ``end_s``, ``samples``, ``samples_lost``, ``gaps`` (pairs of
    consecutive written times more than 1.5 sample intervals apart).
``sensor``: the concrete errors drawn (mounting quaternion body->sensor, low-pass, scale and
    cross-axis matrices, biases, noise, range, LSB, clock ppm, ``t0_s``, jitter, packet size,
    mounting offset in the body frame); ``athlete``: the body geometry drawn.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from ..consts import STANDARD_GRAVITY_MPS2
from ..io.recording import write_recording
from ..types import Recording, SampleChunk
from . import kinematics as km
from .sensor import Measured, Motion, SensorDraw, body_motion, draw_sensor, measure, soft_tissue
from .session import Choreographer
from .spec import SessionSpec

TRUTH_SCHEMA = "sensorcoach.truth/1"
SENSOR_NAME = "sensorcoach-sim 1"


@dataclass
class SimResult:
    """A simulated session.

    Attributes
    ----------
    recording : Recording
        What the sensor wrote (contract CSV content).
    truth : dict
        Ground truth (schema ``sensorcoach.truth/1``), JSON-serialisable.
    motion : Motion
        Noiseless motion of the sensor point on the fine grid (for tests and diagnostics).
    fine_time_s : ndarray
        Sensor-clock time of every fine-grid sample (same axis as the recording).
    """

    recording: Recording
    truth: dict[str, Any]
    motion: Motion = field(repr=False)
    fine_time_s: np.ndarray = field(repr=False)


def fine_rate(sample_rate_hz: float) -> float:
    return float(max(1000.0, 4.0 * sample_rate_hz))


def _perturb(ch: np.ndarray, fs: float, rng: np.random.Generator,
             slips: list[tuple[int, int, np.ndarray]]) -> np.ndarray:
    """Add postural sway, rotation sway, tremor and breathing (scaled by the envelopes) and
    the hip belt's slips on the pelvis (a lasting small rotation, eased in over a movement)."""
    n = ch.shape[0]
    out = ch[:, : km.N_CH].copy()
    for i0, i1, rv in slips:  # eased in over [i0, i1), then held
        ramp = km.bell_progress(np.arange(i1 - i0) / max(i1 - i0, 1), 2, 2)
        out[i0:i1, km.B] += ramp[:, None] * rv[None, :]
        out[i1:, km.B] += rv[None, :]
    sway = km.smooth_envelope(ch[:, km.ENV_SWAY], fs, 0.8)
    rot = km.smooth_envelope(ch[:, km.ENV_ROT], fs, 0.8)
    trem = km.smooth_envelope(ch[:, km.ENV_TREMOR], fs, 0.2)
    breath = km.smooth_envelope(ch[:, km.ENV_BREATH], fs, 1.0)
    f_sway = rng.uniform(0.3, 0.8)
    out[:, km.POS] += sway[:, None] * km.smooth_noise(rng, n, fs, f_sway, 3) * (1, 0.8, 0.5)
    out[:, km.B] += rot[:, None] * km.smooth_noise(rng, n, fs, 0.6, 3)
    if np.any(trem > 0):
        f_t = rng.uniform(8, 12)
        amp = trem * STANDARD_GRAVITY_MPS2 / (2 * np.pi * f_t) ** 2
        out[:, km.POS] += amp[:, None] * km.band_noise(rng, n, fs, f_t - 2, f_t + 2, 3) * (
            0.7, 0.3, 1.0)
    if np.any(breath > 0):
        fb = rng.uniform(0.2, 0.35)
        f_inst = fb * (1 + 0.15 * km.smooth_noise(rng, n, fs, 0.05)[:, 0])
        ph = 2 * np.pi * np.cumsum(f_inst) / fs
        out[:, 2] += breath * np.sin(ph)
        out[:, 0] += 0.4 * breath * np.sin(ph + 0.5)
    return out


def _mount_offset(spec: SessionSpec, ath, rng: np.random.Generator) -> np.ndarray:
    """Where the sensor sits in the body frame (pelvis: x toward the feet, y lateral, z out of
    the belly; bar: y along the bar). Hip belts are mostly worn with the sensor in front, some
    on the side or over the sacrum."""
    if spec.mount == "hip":
        u = rng.random()
        if u < 0.7:  # front, over the lower belly
            return np.array([rng.normal(0, 0.01), rng.uniform(-0.06, 0.06), ath.d_hip])
        if u < 0.85:  # on the side, over the hip bone
            return np.array([rng.normal(0, 0.02), rng.choice([-1, 1]) * rng.uniform(0.13, 0.18),
                             rng.uniform(0.0, 0.05)])
        return np.array([rng.normal(0, 0.02), rng.uniform(-0.03, 0.03), -rng.uniform(0.08, 0.12)])
    if spec.variant == "dumbbell":
        along, radial = rng.uniform(-0.12, 0.12), rng.uniform(0.02, 0.08)
    else:
        along, radial = rng.uniform(-0.45, 0.45), rng.uniform(0.015, 0.03)
    ang = rng.uniform(0, 2 * np.pi)
    return np.array([radial * np.sin(ang), along, radial * np.cos(ang)])


def simulate(spec: SessionSpec, seed: int) -> SimResult:
    """Simulate one session.

    Parameters
    ----------
    spec : SessionSpec
        The plan, sensor and recording conditions.
    seed : int
        Draws the athlete, the sensor (mounting, errors, clock), every per-rep variation and
        the activities around the sets. Deterministic: the same ``(spec, seed)`` always gives
        the same samples and truth.

    Returns
    -------
    SimResult
        ``recording`` (contract metadata and samples), ``truth`` (schema
        ``sensorcoach.truth/1``, see the module docstring), plus the noiseless fine-grid
        ``motion`` and its sensor-clock times ``fine_time_s`` for tests.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5C0AC4]))
    r_ch, r_pert, r_sens, r_meas = (np.random.default_rng(s) for s in
                                    rng.bit_generator.seed_seq.spawn(4))
    fs = fine_rate(spec.sample_rate_hz)
    chor = Choreographer(spec, r_ch, fs)
    track = chor.run()
    track.hold(0.5, track.chunks[-1][0, km.N_CH:])  # tail so the last samples are defined
    ch = track.channels()
    ch = _perturb(ch, fs, r_pert, chor.slips)
    offset = _mount_offset(spec, chor.ath, r_sens)
    motion = body_motion(ch, track.impulses, fs, offset)
    soft = None
    if spec.mount == "hip":  # the belt sits on soft tissue: a damped spring
        soft = (float(r_sens.uniform(12.0, 25.0)), float(r_sens.uniform(0.2, 0.45)))
        soft_tissue(motion, *soft)
    draw = draw_sensor(spec, r_sens, fs)
    meas = measure(motion, spec, draw, r_meas)

    def clock(i: np.ndarray | float) -> np.ndarray | float:
        return draw.t0_s + (np.asarray(i) / fs - draw.phase_s) * (1 + draw.clock_eps)

    fine_t = clock(np.arange(motion.n))
    truth = _truth(spec, seed, chor, motion, draw, meas, offset, clock)
    if soft is not None:
        truth["sensor"]["soft_tissue_hz"] = round(soft[0], 2)
        truth["sensor"]["soft_tissue_damping"] = round(soft[1], 3)
    meta = {
        "mount": spec.mount,
        "sample_rate_hz": f"{spec.sample_rate_hz:g}",
        "sensor": SENSOR_NAME,
        "exercise": "hip_thrust",
        "load_kg": f"{spec.load_kg:g}",
        "plan": spec.plan,
        "started_at": (datetime(2025, 1, 1, 6, tzinfo=UTC)
                       + timedelta(seconds=int(seed) * 7919 % (365 * 86400))).isoformat(),
        "athlete": f"sim-{int(seed)}",
        "sim_seed": str(int(seed)),
        "sim_variant": spec.variant,
    }
    if not spec.meta_mount:
        del meta["mount"]
    samples = SampleChunk(meas.time_s, meas.acc_g, meas.gyr_dps)
    return SimResult(Recording(samples=samples, meta=meta), truth, motion, fine_t)


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def _truth(spec: SessionSpec, seed: int, chor: Choreographer, motion: Motion,
           draw: SensorDraw, meas: Measured, offset: np.ndarray, clock) -> dict[str, Any]:
    fs = motion.fs
    z = motion.pos_m[:, 2]
    vz = motion.vel_mps[:, 2]
    sets = []
    for st in chor.sets:
        reps = []
        for rp in st.reps:
            rom = z[rp.top] - z[rp.start]
            dur_c = (rp.top - rp.start) / fs
            rel = Rotation.from_quat(motion.quat_wb[rp.start]).inv() * Rotation.from_quat(
                motion.quat_wb[rp.top])
            bottom = 0.0 if rp.next_start is None else (rp.next_start - rp.end) / fs
            reps.append({
                "start_s": _r(clock(rp.start)), "top_s": _r(clock(rp.top)),
                "descent_s": _r(clock(rp.descent)), "end_s": _r(clock(rp.end)),
                "concentric_s": _r(dur_c), "top_pause_s": _r((rp.descent - rp.top) / fs),
                "eccentric_s": _r((rp.end - rp.descent) / fs),
                "bottom_pause_s": _r(bottom),
                "rom_m": _r(rom), "mean_velocity_mps": _r(rom / dur_c),
                "peak_velocity_mps": _r(vz[rp.start:rp.top + 1].max()),
                "partial": rp.partial, "faults": list(rp.faults),
                "rotation_deg": _r(np.degrees(rel.magnitude()), 2),
            })
            if rp.rest_pause:
                reps[-1]["rest_pause"] = True
        full = sum(not r["partial"] for r in reps)
        d = {"index": st.index, "start_s": reps[0]["start_s"], "end_s": reps[-1]["end_s"],
             "full_reps": full, "partial_reps": len(reps) - full, "reps": reps}
        if st.side:
            d["side"] = st.side
        sets.append(d)
    distractors = [{"kind": a["kind"], "start_s": _r(clock(a["start"])),
                    "end_s": _r(clock(a["end"]))} for a in chor.activities
                   if a["end"] > a["start"]]
    t = meas.time_s
    dt_nom = 1.0 / spec.sample_rate_hz
    gi = np.nonzero(np.diff(t) > 1.5 * dt_nom)[0]
    gaps = [[_r(t[i], 5), _r(t[i + 1], 5)] for i in gi]
    ath = {k: (_r(v, 5) if isinstance(v, float) else v) for k, v in vars(chor.ath).items()}
    return {
        "schema": TRUTH_SCHEMA,
        "seed": int(seed),
        "spec": spec.to_dict(),
        "mount": spec.mount,
        "sample_rate_hz": spec.sample_rate_hz,
        "sets": sets,
        "distractors": distractors,
        "recording": {"start_s": _r(t[0], 5), "end_s": _r(t[-1], 5), "samples": int(t.size),
                      "samples_lost": int((~meas.kept).sum()), "gaps": gaps},
        "sensor": {**draw.to_dict(), "offset_body_m": np.round(offset, 4).tolist()},
        "athlete": ath,
        "generator": SENSOR_NAME,
    }


# --- writing -------------------------------------------------------------------------------
def write_sim(result: SimResult, out_dir: str, name: str) -> tuple[str, str]:
    """Write ``NAME.csv`` (contract format) and ``NAME.truth.json`` into ``out_dir``.

    The CSV goes through :func:`sensorcoach.io.recording.write_recording` (time and
    acceleration with 5 decimals, angular rate with 4). Returns ``(csv_path, truth_path)``.
    """
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, f"{name}.csv")
    truth_path = os.path.join(out_dir, f"{name}.truth.json")
    write_recording(csv_path, result.recording)
    with open(truth_path, "w", encoding="utf-8") as f:
        json.dump(result.truth, f, indent=1)
        f.write("\n")
    return csv_path, truth_path
