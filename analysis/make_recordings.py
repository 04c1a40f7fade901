"""Write the committed simulated recordings in ``recordings/`` and their README.

Every file is produced by :func:`sensorcoach.sim.simulate` from the spec and seed listed
here, so the whole folder can be regenerated bit for bit::

    python analysis/make_recordings.py            # writes recordings/*.csv, *.truth.json, README.md
    python analysis/make_recordings.py --check    # regenerate into a temp dir and compare

Keep the folder small (about 6 MB): short rests, lower rates where they fit.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from sensorcoach.sim import preset, simulate, write_sim  # noqa: E402

SHORT = dict(rest_s=15.0, lead_in_s=20.0, lead_out_s=8.0)
FAULTY = {"no_top_pause": 0.25, "fast_eccentric": 0.2, "bounce": 0.2, "partial": 0.12}

#: name -> (seed, variant, mount, overrides, what it is for)
RECORDINGS: dict[str, tuple[int, str, str, dict, str]] = {
    "hip_bodyweight_3x20_gyro_50hz": (
        101, "bodyweight", "hip",
        dict(SHORT, sample_rate_hz=50.0, gyro=True, tempo_s=(2, 0, 1, 1)),
        "the standard body-weight progression, tempo 2-0-1-1, walking and getting up/down "
        "around the sets"),
    "bar_barbell_5x5_gyro_100hz": (
        102, "barbell", "bar",
        dict(rest_s=8.0, lead_in_s=8.0, lead_out_s=4.0, sample_rate_hz=100.0, gyro=True,
             load_kg=120.0, tempo_s=(2, 0, 1.8, 1), walk_between_sets=0.35),
        "heavy 5x5 (slow, fatiguing concentrics), sensor on the barbell: plate loading "
        "knocks, rolling the bar on and off, bar resting on the hips"),
    "hip_barbell_5x5_acc_25hz": (
        103, "barbell", "hip",
        dict(rest_s=40.0, lead_in_s=30.0, lead_out_s=12.0, sample_rate_hz=25.0, gyro=False,
             load_kg=100.0, tempo_s=(3, 1, 1.6, 2), acc_bits=12, acc_noise_g=0.009),
        "heavy 5x5 with a 3-1-1.6-2 tempo, hip belt, cheap accelerometer-only sensor at 25 Hz"),
    "hip_single_leg_2x10_slow_acc_52hz": (
        104, "single_leg", "hip",
        dict(sets=2, reps_per_set=10, rest_s=12.0, lead_in_s=20.0, lead_out_s=8.0,
             sample_rate_hz=52.0, gyro=False, tempo_s=(4, 1, 3, 2)),
        "single-leg, one set per side (left then right), slow 4-1-3-2 tempo, pelvic obliquity"),
    "hip_banded_3x15_quick_104hz": (
        105, "banded", "hip",
        dict(sets=3, reps_per_set=15, rest_s=15.0, lead_in_s=15.0, lead_out_s=6.0,
             sample_rate_hz=104.0, gyro=False, tempo_s=(1, 0, 1, 1)),
        "banded 3x15 at a quick 1-0-1-1 tempo, accelerometer only at 104 Hz"),
    "bar_dumbbell_1x8_fast_gyro_200hz": (
        106, "dumbbell", "bar",
        dict(sets=1, reps_per_set=8, lead_in_s=8.0, lead_out_s=4.0, sample_rate_hz=200.0,
             gyro=True, load_kg=25.0, tempo_s=(1, 0, 0.6, 0.5), acc_range_g=4.0),
        "sensor on a dumbbell, fast 1-0-0.6-0.5 tempo; picking up and putting down the bell"),
    "hip_bodyweight_lossy_1x15_gyro_50hz": (
        107, "bodyweight", "hip",
        dict(sets=1, reps_per_set=15, rest_s=20.0, lead_in_s=20.0, lead_out_s=8.0,
             sample_rate_hz=50.0, gyro=True, packet_loss=0.03, burst_per_min=3.0,
             time_jitter_s=0.0015, acc_range_g=2.0),
        "a poor radio link: 3 % packet loss plus dropouts up to 0.5 s, 1.5 ms timestamp "
        "jitter, +-2 g range"),
    "hip_bodyweight_faults_2x10_gyro_50hz": (
        108, "bodyweight", "hip",
        dict(sets=2, reps_per_set=10, rest_s=15.0, lead_in_s=15.0, lead_out_s=6.0,
             sample_rate_hz=50.0, gyro=True, tempo_s=(3, 1, 1, 2), fault_rates=FAULTY),
        "a sloppy athlete on a 3-1-1-2 prescription: skipped top pauses, fast eccentrics, "
        "bounces out of the bottom, partial reps (see the truth file's faults)"),
    "hip_bodyweight_1x5_acc_400hz": (
        109, "bodyweight", "hip",
        dict(sets=1, reps_per_set=5, lead_in_s=6.0, lead_out_s=3.0, sample_rate_hz=400.0,
             gyro=False, tempo_s=(2, 0, 1, 1), activities=False),
        "one short set at 400 Hz"),
}


def _describe(spec) -> str:
    e, b, c, t = spec.tempo_s
    parts = [f"{spec.variant} {spec.sets}x{spec.reps_per_set}",
             f"tempo {e:g}-{b:g}-{c:g}-{t:g}", f"{spec.sample_rate_hz:g} Hz",
             "acc+gyro" if spec.gyro else "acc only"]
    if spec.packet_loss or spec.burst_per_min:
        parts.append(f"loss {spec.packet_loss:.0%} + {spec.burst_per_min:g} bursts/min")
    if any(spec.fault_rates.values()):
        parts.append("faults")
    return ", ".join(parts)


def _fault_kinds(truth: dict) -> set[str]:
    return {f for s in truth["sets"] for r in s["reps"] for f in r["faults"]}


def build(out_dir: str, verbose: bool = True) -> list[dict]:
    rows = []
    for name, (seed, variant, mount, over, why) in RECORDINGS.items():
        t = time.perf_counter()
        spec = preset(variant, mount, **over)
        res = simulate(spec, seed)
        # the fault showcase must show every fault: take the first seed from here that does
        while "faults" in name and _fault_kinds(res.truth) != {"no_top_pause", "fast_eccentric",
                                                               "bounce", "partial"}:
            seed += 1
            res = simulate(spec, seed)
        csv_path, truth_path = write_sim(res, out_dir, name)
        dt = time.perf_counter() - t
        tr = res.truth
        reps = sum(s["full_reps"] for s in tr["sets"])
        partial = sum(s["partial_reps"] for s in tr["sets"])
        faults: dict[str, int] = {}
        for s in tr["sets"]:
            for r in s["reps"]:
                for f in r["faults"]:
                    faults[f] = faults.get(f, 0) + 1
        row = dict(name=name, seed=seed, mount=mount, desc=_describe(spec), why=why,
                   samples=tr["recording"]["samples"],
                   duration=tr["recording"]["end_s"] - tr["recording"]["start_s"],
                   reps=reps, partial=partial, faults=faults,
                   size=os.path.getsize(csv_path) + os.path.getsize(truth_path), secs=dt,
                   lost=tr["recording"]["samples_lost"])
        rows.append(row)
        if verbose:
            print(f"{name}: {row['samples']} samples, {row['duration']:.0f} s, {reps} reps "
                  f"(+{partial} partial), {row['size'] / 1e6:.2f} MB, {dt:.2f} s",
                  file=sys.stderr)
    return rows


README_HEAD = """\
# Simulated recordings

Every file here is **simulated** by `sensorcoach.sim` (sensor name `sensorcoach-sim 1`) and
regenerated bit for bit by `python analysis/make_recordings.py` (seed and spec below; the
full spec is also inside each `NAME.truth.json`). `python analysis/make_recordings.py
--check` verifies that the committed files match the generator.

- `NAME.csv`: the recording in the contract format (CONTRACT.md section 1), sensor clock
  with an arbitrary origin, random sensor mounting orientation, sensor errors, packet loss.
- `NAME.truth.json`: ground truth (schema `sensorcoach.truth/1`): per set and rep the event
  times `start_s`, `top_s`, `descent_s`, `end_s` on the file's `time_s` axis, phase
  durations, `bottom_pause_s`, `rom_m` (vertical travel of the sensor's mounting point in
  the concentric), `mean_velocity_mps`, `peak_velocity_mps`, `partial`, `faults`,
  `rotation_deg`; every non-rep activity (`distractors`: walking, standing, sitting down,
  getting up, lying back, settling, bar rolling, plate loading, ...); packet-loss gaps;
  the concrete sensor errors and body geometry drawn from the seed.

Larger corpora are generated on demand, never committed:
`python -m sensorcoach.sim corpus --seeds 1000-1099 --out corpus --jobs 0` (a random
realistic spec per seed: both mounts, all variants, 25-400 Hz, gyro or not, cheap and good
sensors, packet loss, faults; about 1.5 s per 8-minute session on one core).

Conventions in the truth: a `bounce` fault is attached to the rep whose eccentric ends in
the bounce (its `bottom_pause_s` is 0 and the next rep starts at once). Partial reps are
listed and do not count in `full_reps`. For `single_leg` sessions each set has a `side`.

How the motion is made (see `sensorcoach/sim/`): the upper back pivots on a bench (and
rolls a little along its edge); the hip joint moves on an arc around the shoulders, driven
by a per-rep progress with bell-shaped velocity profiles (exponents drawn per rep),
log-normal phase durations around the prescribed tempo, fatigue (slower concentrics,
smaller ROM, the odd grinding rep with a sticking point in heavy sets), ROM variation,
posterior pelvic tilt toward lockout, a little out-of-plane pelvis motion, a squeeze and
tremor at the top, sway at the bottom; eccentrics obey gravity (at most 0.9 g downward).
The sensor point (hip belt on the pelvis, or on the bar in the hip crease) is a rigid-body
point; its acceleration is differentiated from the position track on a >= 1 kHz grid
(knocks, heel strikes and plate taps are added as zero-net-velocity pulses), a hip belt sits
on a damped soft-tissue spring and can slip a few degrees when the athlete gets up or sits
down; specific force is rotated into a uniformly random sensor frame, low-pass filtered
(some cheap sensors alias), sampled on a drifting sensor clock, and given scale, cross-axis,
bias (with drift), noise, quantisation and saturation errors; packets of 1-10 samples are
lost at random and in bursts.

| file | seed | mount | spec | duration | samples | reps (+partial) | faults | size |
|---|---|---|---|---|---|---|---|---|
"""


def write_readme(rows: list[dict], path: str) -> None:
    lines = [README_HEAD]
    for r in rows:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(r["faults"].items())) or "-"
        lines.append(f"| `{r['name']}.csv` | {r['seed']} | {r['mount']} | {r['desc']} | "
                     f"{r['duration']:.0f} s | {r['samples']} | {r['reps']} (+{r['partial']}) "
                     f"| {faults} | {r['size'] / 1e6:.2f} MB |\n")
    lines.append("\nWhat each one is for:\n\n")
    for r in rows:
        lines.append(f"- `{r['name']}`: {r['why']}.\n")
    total = sum(r["size"] for r in rows)
    lines.append(f"\nTotal: {total / 1e6:.2f} MB.\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "recordings"))
    p.add_argument("--check", action="store_true",
                   help="regenerate into a temporary folder and compare with --out")
    a = p.parse_args(argv)
    if a.check:
        with tempfile.TemporaryDirectory() as tmp:
            build(tmp, verbose=False)
            bad = [n for n in sorted(os.listdir(tmp))
                   if not filecmp.cmp(os.path.join(tmp, n), os.path.join(a.out, n),
                                      shallow=False)]
        if bad:
            print("differ: " + ", ".join(bad), file=sys.stderr)
            return 1
        print("recordings match the generator", file=sys.stderr)
        return 0
    t = time.perf_counter()
    rows = build(a.out)
    write_readme(rows, os.path.join(a.out, "README.md"))
    total = sum(r["size"] for r in rows)
    print(f"total {total / 1e6:.2f} MB in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
