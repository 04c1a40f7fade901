"""Tests of the session simulator: determinism, file format, truth consistency, physics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from sensorcoach.sim import SessionSpec, preset, random_spec, simulate, write_sim

SMALL = dict(sets=2, reps_per_set=4, rest_s=12.0, lead_in_s=14.0, lead_out_s=6.0)


def _small(variant: str, mount: str, **kw) -> SessionSpec:
    return preset(variant, mount, **{**SMALL, **kw})


@pytest.fixture(scope="module")
def hip():
    return simulate(_small("bodyweight", "hip", sample_rate_hz=50.0), seed=11)


@pytest.fixture(scope="module")
def bar():
    return simulate(_small("barbell", "bar", sample_rate_hz=104.0), seed=12)


@pytest.fixture(scope="module")
def faulty():
    spec = _small("bodyweight", "hip", sets=2, reps_per_set=8, sample_rate_hz=25.0,
                  gyro=False, activities=False,
                  fault_rates={"no_top_pause": 0.4, "fast_eccentric": 0.4, "bounce": 0.4,
                               "partial": 0.3})
    return simulate(spec, seed=3)


def _read(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    meta, i = {}, 0
    while lines[i].startswith("#"):
        k, v = lines[i][1:].split(":", 1)
        meta[k.strip()] = v.strip()
        i += 1
    header = lines[i].split(",")
    rows = lines[i + 1:]
    data = np.array([[float(x) for x in r.split(",")] for r in rows])
    return lines, meta, header, rows, data


def test_same_seed_same_file(tmp_path):
    spec = _small("bodyweight", "hip", sets=1, sample_rate_hz=52.0, packet_loss=0.02)
    a = write_sim(simulate(spec, 5), tmp_path / "a", "x")
    b = write_sim(simulate(spec, 5), tmp_path / "b", "x")
    c = write_sim(simulate(spec, 6), tmp_path / "c", "x")
    def rd(p):
        return Path(p).read_bytes()

    assert rd(a[0]) == rd(b[0])
    assert rd(a[1]) == rd(b[1])
    assert rd(a[0]) != rd(c[0])


@pytest.mark.parametrize("which", ["hip", "bar"])
def test_file_follows_contract(which, hip, bar, tmp_path):
    res = hip if which == "hip" else bar
    csv_path, truth_path = write_sim(res, str(tmp_path), "rec")
    lines, meta, header, rows, data = _read(csv_path)
    assert lines[0] == "# sensorcoach-recording: 1"
    assert meta["mount"] == which
    assert meta["sensor"] == "sensorcoach-sim 1"
    assert meta["exercise"] == "hip_thrust"
    assert float(meta["sample_rate_hz"]) == res.truth["sample_rate_hz"]
    assert header == ["time_s", "ax_g", "ay_g", "az_g", "gx_dps", "gy_dps", "gz_dps"]
    assert re.fullmatch(r"-?\d+\.\d{5}(,-?\d+\.\d{5}){3}(,-?\d+\.\d{4}){3}", rows[0])
    assert np.all(np.diff(data[:, 0]) > 0)
    truth = json.loads(Path(truth_path).read_text())
    assert truth["schema"] == "sensorcoach.truth/1"
    assert truth["recording"]["samples"] == len(rows)


def test_acc_only_header(faulty, tmp_path):
    csv_path, _ = write_sim(faulty, str(tmp_path), "rec")
    _, _, header, rows, _ = _read(csv_path)
    assert header == ["time_s", "ax_g", "ay_g", "az_g"]
    assert faulty.recording.samples.gyr_dps is None


@pytest.mark.parametrize("which", ["hip", "bar", "faulty"])
def test_truth_is_consistent(which, hip, bar, faulty):
    res = {"hip": hip, "bar": bar, "faulty": faulty}[which]
    truth, spec = res.truth, res.truth["spec"]
    t = res.recording.samples.time_s
    assert len(truth["sets"]) == spec["sets"]
    prev_end = t[0]
    E, B, C, T = spec["tempo_s"]
    for st in truth["sets"]:
        reps = st["reps"]
        assert len(reps) == spec["reps_per_set"]
        assert st["full_reps"] + st["partial_reps"] == len(reps)
        assert st["full_reps"] == sum(not r["partial"] for r in reps)
        assert st["start_s"] > prev_end
        for i, r in enumerate(reps):
            assert r["start_s"] < r["top_s"] <= r["descent_s"] < r["end_s"]
            assert r["concentric_s"] == pytest.approx(r["top_s"] - r["start_s"], abs=2e-3)
            if i + 1 < len(reps):
                nxt = reps[i + 1]["start_s"]
                assert r["end_s"] <= nxt
                assert r["bottom_pause_s"] == pytest.approx(nxt - r["end_s"], abs=2e-3)
            else:
                assert r["bottom_pause_s"] == 0.0
            faults = r["faults"]
            if "partial" not in faults:
                assert 0.5 * C < r["concentric_s"] < 2.2 * C
                assert 0.15 < r["rom_m"] < 0.5
            if "no_top_pause" in faults:
                assert r["top_pause_s"] <= 0.151
            else:
                assert 0.4 * T < r["top_pause_s"] < 2.5 * T
            if "fast_eccentric" in faults:
                assert r["eccentric_s"] < 0.9
            else:
                assert 0.6 * E < r["eccentric_s"] < 2.5 * E
            if "bounce" in faults:
                assert r["bottom_pause_s"] == 0.0
            assert r["mean_velocity_mps"] == pytest.approx(r["rom_m"] / r["concentric_s"],
                                                           abs=1e-3)
            assert r["peak_velocity_mps"] > r["mean_velocity_mps"]
        prev_end = st["end_s"]
    assert t[0] < truth["sets"][0]["start_s"] and truth["sets"][-1]["end_s"] < t[-1]
    # nothing else happens while a set is going on
    for d in truth["distractors"]:
        for st in truth["sets"]:
            assert d["end_s"] <= st["start_s"] + 1e-3 or d["start_s"] >= st["end_s"] - 1e-3


def test_faults_show_up(faulty):
    reps = [r for st in faulty.truth["sets"] for r in st["reps"]]
    kinds = {f for r in reps for f in r["faults"]}
    assert kinds == {"no_top_pause", "fast_eccentric", "bounce", "partial"}
    for st in faulty.truth["sets"]:
        full = [r["rom_m"] for r in st["reps"] if not r["partial"]]
        for r in st["reps"]:
            if r["partial"]:
                assert r["rom_m"] < 0.8 * np.median(full)


def test_hip_rotates_bar_does_not(hip, bar):
    hip_rot = [r["rotation_deg"] for st in hip.truth["sets"] for r in st["reps"]]
    bar_rot = [r["rotation_deg"] for st in bar.truth["sets"] for r in st["reps"]]
    assert 15 < np.median(hip_rot) < 70
    assert np.median(bar_rot) < 12


@pytest.mark.parametrize("which", ["hip", "bar"])
def test_still_sensor_reads_one_g(which, hip, bar):
    res = hip if which == "hip" else bar
    acc = res.motion.acc_mps2
    # noiseless world acceleration small over a 0.5 s window -> still
    k = int(0.5 * res.motion.fs)
    mag = np.convolve(np.linalg.norm(acc, axis=1), np.ones(k) / k, mode="same")
    still_fine = mag < 0.05
    s = res.recording.samples
    idx = np.searchsorted(res.fine_time_s, s.time_s).clip(0, len(still_fine) - 1)
    still = still_fine[idx]
    assert still.sum() > 100
    norm = np.linalg.norm(s.acc_g[still], axis=1)
    spec = res.truth["spec"]
    tol = spec["acc_bias_g"] * np.sqrt(3) + spec["acc_scale"] + 0.01
    assert abs(norm.mean() - 1.0) < tol


@pytest.mark.parametrize("which", ["hip", "bar"])
def test_double_integration_gives_rom(which, hip, bar):
    res = hip if which == "hip" else bar
    fs = res.motion.fs
    az = res.motion.acc_mps2[:, 2]
    for st in res.truth["sets"]:
        for r in st["reps"]:
            i0, i1 = np.searchsorted(res.fine_time_s, [r["start_s"], r["top_s"]])
            i0 -= abs(res.fine_time_s[i0 - 1] - r["start_s"]) < abs(
                res.fine_time_s[i0] - r["start_s"])
            i1 -= abs(res.fine_time_s[i1 - 1] - r["top_s"]) < abs(
                res.fine_time_s[i1] - r["top_s"])
            a = az[i0:i1 + 1]
            v = res.motion.vel_mps[i0, 2] + np.concatenate(
                [[0.0], np.cumsum((a[1:] + a[:-1]) / 2) / fs])
            z = np.sum((v[1:] + v[:-1]) / 2) / fs
            assert z == pytest.approx(r["rom_m"], abs=2e-3)


def test_packet_loss_leaves_gaps():
    spec = _small("bodyweight", "hip", sets=1, sample_rate_hz=100.0, packet_loss=0.03,
                  burst_per_min=6.0, activities=False)
    res = simulate(spec, 21)
    t = res.recording.samples.time_s
    dt = np.diff(t)
    rec = res.truth["recording"]
    assert rec["samples_lost"] > 0.02 * (len(t) + rec["samples_lost"])
    assert len(rec["gaps"]) > 5
    assert dt.max() > 0.1
    assert np.median(dt) == pytest.approx(0.01, rel=5e-3)
    # no samples are invented: the span matches the nominal grid
    span = (t[-1] - t[0]) * 100.0
    assert span == pytest.approx(len(t) + rec["samples_lost"] - 1, abs=1.5)


@pytest.mark.parametrize("rate", [25.0, 400.0])
def test_rates(rate):
    spec = _small("banded", "hip", sets=1, reps_per_set=3, sample_rate_hz=rate,
                  activities=False, lead_in_s=6.0, lead_out_s=3.0)
    res = simulate(spec, 2)
    t = res.recording.samples.time_s
    assert np.median(np.diff(t)) == pytest.approx(1 / rate, rel=0.02)
    assert np.all(np.diff(t) > 0)


def test_random_specs_are_valid():
    rng = np.random.default_rng(0)
    specs = [random_spec(rng) for _ in range(50)]
    assert {s.mount for s in specs} == {"hip", "bar"}
    assert len({s.variant for s in specs}) == 5
    for s in specs:
        SessionSpec.from_dict(s.to_dict())
        if s.mount == "bar":
            assert s.variant in ("barbell", "dumbbell")


def _idx(t, x):
    return int(np.clip(np.searchsorted(t, x), 0, len(t) - 1))


def test_recorded_gyro_agrees_with_accelerometer_and_truth(hip):
    """Integrating the recorded gyro over a concentric turns the gravity direction seen at
    the start into the one seen at lockout, by the truth's rotation angle (sensor errors
    and the 50 Hz rate allow a few degrees)."""
    from scipy.spatial.transform import Rotation

    s = hip.recording.samples
    t = s.time_s
    pauses = np.zeros(len(t), dtype=bool)  # nearly still at the top: gives the gyro bias
    for st in hip.truth["sets"]:
        for r in st["reps"]:
            pauses[_idx(t, r["top_s"]) + 2:_idx(t, r["descent_s"]) - 2] = True
    bias = np.median(s.gyr_dps[pauses], axis=0)
    errs, angs = [], []
    for st in hip.truth["sets"]:
        for r in st["reps"]:
            i0, i1 = _idx(t, r["start_s"]), _idx(t, r["top_s"])
            rot = Rotation.identity()
            for k in range(i0, i1):
                w = np.radians((s.gyr_dps[k] + s.gyr_dps[k + 1]) / 2 - bias)
                rot = rot * Rotation.from_rotvec(w * (t[k + 1] - t[k]))
            angs.append(np.degrees(rot.magnitude()) - r["rotation_deg"])
            g0 = s.acc_g[i0 - 2:i0 + 3].mean(0)
            g1 = s.acc_g[i1 - 2:i1 + 3].mean(0)
            pred = rot.inv().apply(g0)
            cos = pred @ g1 / np.linalg.norm(pred) / np.linalg.norm(g1)
            errs.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    assert np.median(np.abs(angs)) < 3.0
    assert np.median(errs) < 5.0


def test_truth_lines_up_with_the_signal(hip, bar):
    """The sensor turns or accelerates inside the truth's concentric phases, and is nearly
    still in the top pauses: the truth is on the recording's own clock."""
    for res in (hip, bar):
        s = res.recording.samples
        moving, paused = [], []
        for st in res.truth["sets"]:
            for r in st["reps"]:
                a, b = np.searchsorted(s.time_s, [r["start_s"], r["top_s"]])
                moving.append(s.acc_g[a:b].std(axis=0).sum())
                a, b = np.searchsorted(s.time_s, [r["top_s"], r["descent_s"]])
                paused.append(s.acc_g[a + 3:b - 3].std(axis=0).sum())
        assert np.median(moving) > 2 * np.median(paused)


def test_cli_one_and_corpus(tmp_path):
    from sensorcoach.sim.__main__ import main

    assert main(["--seed", "4", "--mount", "bar", "--variant", "dumbbell", "--rate", "52",
                 "--no-gyro", "--sets", "1", "--reps", "3", "--out", str(tmp_path),
                 "--name", "one"]) == 0
    _, meta, header, _, _ = _read(tmp_path / "one.csv")
    assert meta["mount"] == "bar" and header == ["time_s", "ax_g", "ay_g", "az_g"]
    assert json.loads((tmp_path / "one.truth.json").read_text())["seed"] == 4


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(p.name[:-len(".truth.json")] for p in
                                        (ROOT / "recordings").glob("*.truth.json")))
def test_committed_recordings_match_their_truth(name):
    import pandas as pd

    truth = json.loads((ROOT / "recordings" / f"{name}.truth.json").read_text())
    df = pd.read_csv(ROOT / "recordings" / f"{name}.csv", comment="#")
    t = df["time_s"].to_numpy()
    assert len(t) == truth["recording"]["samples"]
    assert t[0] == pytest.approx(truth["recording"]["start_s"], abs=1e-5)
    assert np.all(np.diff(t) > 0)
    assert truth["sets"] and all(t[0] < s["start_s"] < s["end_s"] < t[-1] for s in truth["sets"])


@pytest.mark.parametrize("name", ["hip_bodyweight_lossy_1x15_gyro_50hz",
                                  "hip_bodyweight_1x5_acc_400hz"])
def test_committed_recordings_are_reproducible(name, tmp_path):
    """The generator still makes the committed bytes (else: run analysis/make_recordings.py
    and review the change)."""
    import importlib.util

    spec_ = importlib.util.spec_from_file_location("make_recordings",
                                                   ROOT / "analysis" / "make_recordings.py")
    mod = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(mod)
    seed, variant, mount, over, _ = mod.RECORDINGS[name]
    csv_path, _ = write_sim(simulate(preset(variant, mount, **over), seed), str(tmp_path), name)
    assert Path(csv_path).read_bytes() == (ROOT / "recordings" / f"{name}.csv").read_bytes()


def test_a_random_session_is_consistent():
    spec = random_spec(np.random.default_rng(77))
    spec.rest_s, spec.lead_in_s, spec.lead_out_s = 20.0, 15.0, 5.0
    res = simulate(spec, 77)
    for st in res.truth["sets"]:
        for r in st["reps"]:
            assert r["start_s"] < r["top_s"] <= r["descent_s"] < r["end_s"]
    assert len(res.truth["sets"]) == spec.sets
