"""What defines a simulated session: :class:`SessionSpec`, variant presets and :func:`random_spec`.

A spec fixes the plan (variant, sets, reps, tempo, rest), the sensor (rate, gyroscope,
error magnitudes) and the recording conditions (packet loss, fault rates). The concrete body
geometry, the sensor's mounting orientation and every per-rep variation are drawn from the
seed given to :func:`sensorcoach.sim.simulate`, so one spec with many seeds gives many
different athletes doing the same plan.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

VARIANTS = ("bodyweight", "dumbbell", "barbell", "single_leg", "banded")

#: Tempo prescriptions the random specs draw from (coach notation E-B-C-T, seconds).
TEMPI: dict[str, tuple[float, float, float, float]] = {
    "standard 2-0-1-1": (2.0, 0.0, 1.0, 1.0),
    "controlled 3-1-1-2": (3.0, 1.0, 1.0, 2.0),
    "quick 1-0-1-1": (1.0, 0.0, 1.0, 1.0),
    "slow 4-1-3-2": (4.0, 1.0, 3.0, 2.0),
    "fast 1-0-0.6-0.5": (1.0, 0.0, 0.6, 0.5),
}

#: Sample rates the random specs draw from (Hz).
RATES_HZ = (25.0, 50.0, 52.0, 100.0, 104.0, 200.0, 400.0)

FAULTS = ("no_top_pause", "fast_eccentric", "bounce", "partial")


def _default_faults() -> dict[str, float]:
    return {"no_top_pause": 0.0, "fast_eccentric": 0.0, "bounce": 0.0, "partial": 0.0}


@dataclass
class SessionSpec:
    """Everything that defines a simulated session (the seed draws the rest).

    Attributes
    ----------
    mount : str
        ``"hip"`` (sensor on a hip belt) or ``"bar"`` (sensor on the barbell or dumbbell).
    variant : str
        One of :data:`VARIANTS`. ``single_leg`` sets alternate sides (left, right, ...);
        ``sets`` counts all of them.
    sets, reps_per_set : int
        Plan. Partial reps replace full ones (the athlete does ``reps_per_set`` movements).
    tempo_s : tuple of 4 float
        Prescribed eccentric, bottom pause, concentric, top pause, seconds (E-B-C-T).
    tempo_jitter : float
        Log-normal sigma of the per-rep phase durations (0.10-0.20 is human).
    fatigue : float
        0..1; 1 makes the last rep of a set's concentric 40 % slower and its ROM 5 % smaller.
    load_kg : float
        External load (0 for body weight).
    rest_s : float
        Mean rest between sets (each rest varies +-25 %).
    lead_in_s, lead_out_s : float
        Approximate recording time before the first and after the last set.
    activities : bool
        Add realistic non-rep activity (walking, getting up, rolling the bar, loading plates,
        settling) before, between and after sets. Without it the athlete only waits.
    midset_pause : float
        Per-rep probability of a rest-pause inside a set: 2-6 s at the bottom with a small
        re-adjustment, then the set goes on (the long ``bottom_pause_s`` is in the truth).
    walk_between_sets : float
        Probability (hip mount) of getting up and walking around during a rest, or (bar
        mount) of rolling the bar off and re-rolling it for the next set.
    sample_rate_hz : float
        Nominal output data rate on the sensor clock.
    gyro : bool
        Whether the sensor has a gyroscope (columns ``gx_dps..gz_dps``).
    acc_noise_g : float
        Accelerometer white-noise sigma at 100 Hz (scaled with sqrt(rate / 100)).
    acc_bias_g, acc_scale : float
        Maximum per-axis bias (g) and scale error (fraction); drawn uniformly within +-.
    acc_range_g : float
        Full scale (2, 4, 8 or 16 g); readings clip there.
    acc_bits : int
        ADC resolution over the full scale (16, or 12 for cheap sensors).
    gyro_noise_dps, gyro_bias_dps, gyro_scale, gyro_range_dps : float
        Gyroscope white noise (at 100 Hz), maximum bias, scale error, full scale.
    clock_ppm : float
        Maximum sensor clock rate error (parts per million).
    time_jitter_s : float
        Sigma of the timestamp jitter added to ``time_s``.
    packet_loss : float
        Probability of losing a BLE packet (1-10 samples per packet).
    burst_per_min : float
        Rate of longer dropouts (up to 0.5 s).
    fault_rates : dict of str to float
        Per-rep probabilities of ``no_top_pause``, ``fast_eccentric``, ``bounce``, ``partial``.
    plan : str
        Free text for the ``plan`` metadata line.
    meta_mount : bool
        Write the ``mount`` metadata line (the contract allows it to be missing).
    """

    mount: str = "hip"
    variant: str = "bodyweight"
    sets: int = 3
    reps_per_set: int = 20
    tempo_s: tuple[float, float, float, float] = (2.0, 0.0, 1.0, 1.0)
    tempo_jitter: float = 0.12
    fatigue: float = 0.2
    load_kg: float = 0.0
    rest_s: float = 90.0
    lead_in_s: float = 40.0
    lead_out_s: float = 20.0
    activities: bool = True
    midset_pause: float = 0.0
    walk_between_sets: float = 0.5
    sample_rate_hz: float = 100.0
    gyro: bool = True
    acc_noise_g: float = 0.005
    acc_bias_g: float = 0.03
    acc_scale: float = 0.02
    acc_range_g: float = 8.0
    acc_bits: int = 16
    gyro_noise_dps: float = 0.1
    gyro_bias_dps: float = 2.0
    gyro_scale: float = 0.03
    gyro_range_dps: float = 500.0
    clock_ppm: float = 200.0
    time_jitter_s: float = 0.0005
    packet_loss: float = 0.0
    burst_per_min: float = 0.0
    fault_rates: dict[str, float] = field(default_factory=_default_faults)
    plan: str = ""
    meta_mount: bool = True

    def __post_init__(self) -> None:
        if self.mount not in ("hip", "bar"):
            raise ValueError(f"mount must be 'hip' or 'bar', got {self.mount!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.sets < 1 or self.reps_per_set < 1:
            raise ValueError("sets and reps_per_set must be >= 1")
        if len(self.tempo_s) != 4:
            raise ValueError("tempo_s must have 4 values (eccentric, bottom, concentric, top)")
        self.tempo_s = tuple(float(x) for x in self.tempo_s)  # type: ignore[assignment]
        if self.tempo_s[0] <= 0 or self.tempo_s[2] <= 0:
            raise ValueError("eccentric and concentric durations must be > 0")
        if not 10.0 <= self.sample_rate_hz <= 2000.0:
            raise ValueError(f"sample_rate_hz out of range: {self.sample_rate_hz}")
        unknown = set(self.fault_rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULTS}")
        self.fault_rates = {**_default_faults(), **self.fault_rates}
        if not self.plan:
            self.plan = default_plan_name(self)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tempo_s"] = list(self.tempo_s)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SessionSpec:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def default_plan_name(spec: SessionSpec) -> str:
    e, b, c, t = spec.tempo_s
    tempo = "-".join(f"{x:g}" for x in (e, b, c, t))
    load = f" @{spec.load_kg:g}kg" if spec.load_kg > 0 else ""
    return f"{spec.variant} hip thrust {spec.sets}x{spec.reps_per_set} tempo {tempo}{load}"


def preset(variant: str, mount: str | None = None, **overrides: Any) -> SessionSpec:
    """The usual progression for ``variant`` (sets, reps, tempo, load, rest).

    ``mount`` defaults to ``hip`` for body-weight, single-leg and banded, ``bar`` for
    barbell and dumbbell. Keyword overrides replace any field.
    """
    base: dict[str, Any]
    if variant == "bodyweight":
        base = dict(sets=3, reps_per_set=20, tempo_s=(2, 0, 1, 1), load_kg=0.0, fatigue=0.15)
    elif variant == "dumbbell":
        base = dict(sets=3, reps_per_set=12, tempo_s=(2, 0, 1, 1), load_kg=20.0, fatigue=0.3)
    elif variant == "barbell":
        base = dict(sets=5, reps_per_set=5, tempo_s=(2, 0, 1.6, 1), load_kg=100.0,
                    fatigue=0.8, rest_s=150.0)
    elif variant == "single_leg":
        base = dict(sets=6, reps_per_set=10, tempo_s=(2, 0, 1, 1), load_kg=0.0, fatigue=0.3,
                    rest_s=60.0)
    elif variant == "banded":
        base = dict(sets=3, reps_per_set=15, tempo_s=(2, 0, 1, 1), load_kg=0.0, fatigue=0.2)
    else:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if mount is None:
        mount = "bar" if variant in ("barbell", "dumbbell") else "hip"
    base.update(overrides)
    return SessionSpec(mount=mount, variant=variant, **base)


def random_spec(rng: np.random.Generator) -> SessionSpec:
    """Draw a varied, realistic session (for benchmark corpora).

    Covers both mounts, all variants, the tempi in :data:`TEMPI` (and random ones), the rates
    in :data:`RATES_HZ`, cheap and good sensors, clean and lossy radio links, and occasional
    fault-heavy sessions.
    """
    variant = str(rng.choice(VARIANTS, p=[0.25, 0.2, 0.25, 0.15, 0.15]))
    if variant in ("barbell", "dumbbell"):
        mount = "bar" if rng.random() < 0.6 else "hip"
    else:
        mount = "hip"
    spec = preset(variant, mount)
    if variant == "bodyweight":
        spec.sets, spec.reps_per_set = int(rng.integers(2, 4)), int(rng.integers(12, 21))
    elif variant == "dumbbell":
        spec.sets, spec.reps_per_set = int(rng.integers(2, 4)), int(rng.integers(8, 13))
        spec.load_kg = float(rng.choice([10, 12.5, 15, 20, 25, 30, 40]))
    elif variant == "barbell":
        spec.sets, spec.reps_per_set = int(rng.integers(3, 6)), int(rng.integers(3, 9))
        spec.load_kg = float(rng.choice([60, 80, 100, 120, 140, 160, 200]))
    elif variant == "single_leg":
        spec.sets, spec.reps_per_set = 2 * int(rng.integers(1, 4)), int(rng.integers(8, 13))
    else:
        spec.sets, spec.reps_per_set = int(rng.integers(2, 4)), int(rng.integers(15, 21))

    u = rng.random()
    names = list(TEMPI)
    if variant == "barbell":
        e, b, c, t = TEMPI[names[int(rng.integers(0, 2))]]
        c = float(rng.uniform(1.2, 2.2))
        tempo = (e, b, c, t)
    elif u < 0.8:
        tempo = TEMPI[names[int(rng.integers(0, len(names)))]]
    else:  # something in between
        tempo = (float(rng.uniform(1.0, 4.0)), float(rng.choice([0.0, 0.5, 1.0])),
                 float(rng.uniform(0.6, 2.5)), float(rng.uniform(0.5, 2.0)))
    spec.tempo_s = tuple(round(x, 2) for x in tempo)  # type: ignore[assignment]
    spec.tempo_jitter = float(rng.uniform(0.08, 0.2))
    spec.fatigue = float(np.clip(spec.fatigue + rng.normal(0, 0.15), 0, 1))
    spec.rest_s = float(rng.uniform(45, 180))
    spec.lead_in_s = float(rng.uniform(15, 90))
    spec.lead_out_s = float(rng.uniform(5, 40))
    spec.walk_between_sets = float(rng.uniform(0, 1))
    spec.sample_rate_hz = float(rng.choice(RATES_HZ))
    spec.gyro = bool(rng.random() < 0.6)
    cheap = rng.random() < 0.3
    spec.acc_noise_g = float(rng.uniform(0.006, 0.012) if cheap else rng.uniform(0.002, 0.006))
    spec.acc_bits = 12 if cheap and rng.random() < 0.6 else 16
    spec.acc_range_g = float(rng.choice([2.0, 4.0, 8.0, 16.0], p=[0.3, 0.3, 0.25, 0.15]))
    spec.gyro_noise_dps = float(rng.uniform(0.05, 0.3))
    spec.gyro_range_dps = float(rng.choice([250.0, 500.0, 2000.0]))
    spec.time_jitter_s = float(rng.uniform(0, 0.0015))
    if rng.random() < 0.5:
        spec.packet_loss = float(rng.uniform(0, 0.03))
        spec.burst_per_min = float(rng.uniform(0, 0.6))
    else:
        spec.packet_loss, spec.burst_per_min = 0.0, 0.0
    if rng.random() < 0.25:  # a sloppy athlete
        spec.fault_rates = {k: float(rng.uniform(0.02, 0.2)) for k in FAULTS}
    else:
        spec.fault_rates = {k: float(rng.uniform(0, 0.03)) for k in FAULTS}
    spec.activities = bool(rng.random() < 0.9)
    if variant in ("barbell", "dumbbell") and rng.random() < 0.4:
        spec.midset_pause = float(rng.uniform(0.02, 0.08))
    spec.meta_mount = bool(rng.random() < 0.85)
    return replace(spec, plan="")
