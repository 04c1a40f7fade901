# ruff: noqa: F811  (pytest fixtures imported from conftest_ble are test parameters)
"""The ``scan``, ``record`` and ``live`` subcommands, run as a user would (subprocess),
with ``--simulate``: private bus, stand-in BlueZ, emulated sensor, bleak, pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest_ble import match_source, needs_dbus, rec100  # noqa: F401 - fixture

from sensorcoach.io.recording import read_recording

pytestmark = needs_dbus
ROOT = Path(__file__).resolve().parents[1]



def _cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sensorcoach.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def session_rec(tmp_path_factory) -> Path:
    """A simulated hip-thrust session with reps (the project's simulator)."""
    out = tmp_path_factory.mktemp("blecli")
    res = subprocess.run([sys.executable, "-m", "sensorcoach.sim", "--seed", "11", "--mount",
                          "hip", "--sets", "2", "--reps", "4", "--rest", "20", "--out",
                          str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return Path(res.stdout.strip().splitlines()[-1])


def test_help_is_fast():
    t = time.monotonic()
    res = _cli("--help")
    assert res.returncode == 0 and "live" in res.stdout and "scan" in res.stdout
    assert time.monotonic() - t < 2.0  # includes interpreter start; the module imports are lazy
    res = _cli("live", "--help")
    assert "--simulate" in res.stdout and "--fault" in res.stdout


def test_scan_simulated(rec100):
    res = _cli("scan", "--simulate", str(rec100), "--timeout", "1")
    assert res.returncode == 0, res.stderr
    assert "AA:BB:CC:DD:EE:FF" in res.stdout and "sensorcoach-emu" in res.stdout


def test_record_simulated_with_drop(rec100, tmp_path):
    out = tmp_path / "rec.csv"
    res = _cli("record", "--simulate", str(rec100), "--speed", "15", "--fault", "drop:2@10",
               "--out", str(out), "--mount", "hip")
    assert res.returncode == 0, res.stderr
    assert "reconnects 1" in res.stderr
    rec = read_recording(out)
    assert rec.meta["mount"] == "hip" and "emulated" in rec.meta["sensor"]
    src = read_recording(rec100).samples
    idx = match_source(src, rec.samples)
    assert 0.85 * len(src) <= len(idx) < len(src)
    np.testing.assert_allclose(rec.samples.acc_g, src.acc_g[idx], atol=8 / 65536 + 1e-5)


def test_record_duration_stops(rec100, tmp_path):
    out = tmp_path / "short.csv"
    res = _cli("record", "--simulate", str(rec100), "--duration", "1.5", "--out", str(out),
               "--plan", "barbell-5x5")
    assert res.returncode == 0, res.stderr
    rec = read_recording(out)
    assert 50 <= len(rec.samples) <= 200  # about 1.5 s of 100 Hz, minus the connection time
    assert rec.meta["plan"] == "barbell-5x5"


def test_live_simulated_events_match_a_replay_of_the_recorded_file(session_rec, tmp_path):
    out = tmp_path / "live.csv"
    res = _cli("live", "--simulate", str(session_rec), "--speed", "40", "--out", str(out),
               "--events", "-", "--plan", "bodyweight-3x12")
    assert res.returncode == 0, res.stderr
    live = [json.loads(ln) for ln in res.stdout.splitlines()]
    assert any(e["event"] == "rep" for e in live)
    # the display (stderr is not a terminal here: one line per notable event)
    assert "link: connected" in res.stderr and " rep 1" in res.stderr
    rec = read_recording(out)
    assert len(rec.samples) == len(read_recording(session_rec).samples)
    assert rec.meta["plan"]
    # CONTRACT 3: the reps announced live are the reps of the same file run offline
    from sensorcoach.pipeline import StreamPipeline

    replayed = [e.to_dict() for e in StreamPipeline().run(rec.samples.chunks(5))]

    def reps(evs):
        return [(e["set"], e["rep"], e["top_s"]) for e in evs if e["event"] == "rep"]

    assert reps(live) == reps(replayed)


@pytest.mark.parametrize("sensor", ["polar", "witmotion"])
def test_record_other_sensors_simulated(rec100, tmp_path, sensor):
    out = tmp_path / f"{sensor}.csv"
    res = _cli("record", "--simulate", str(rec100), "--speed", "30", "--sensor", sensor,
               "--rate", "100", "--out", str(out))
    assert res.returncode == 0, res.stderr
    rec = read_recording(out)
    src = read_recording(rec100).samples
    assert len(rec.samples) == len(src)
    assert rec.has_gyro == (sensor == "witmotion")
    tol = 0.0005 + 1e-5 if sensor == "polar" else 16 / 65536 + 1e-5
    np.testing.assert_allclose(rec.samples.acc_g, src.acc_g, atol=tol)


def test_bad_fault_and_bad_rate_are_user_errors(rec100):
    res = _cli("live", "--simulate", str(rec100), "--sensor", "polar", "--rate", "30")
    assert res.returncode != 0
    res = _cli("live", "--simulate", str(rec100), "--fault", "meteor:0.1")
    assert res.returncode == 2 and "unknown fault" in res.stderr
    assert "Traceback" not in res.stderr
