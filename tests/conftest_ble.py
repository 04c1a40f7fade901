"""Fixtures for the BLE tests: synthetic recordings and the stand-in BlueZ.

Import the fixtures from the test modules (``from conftest_ble import ...``); this file is
not a ``conftest.py`` so it does not touch the other engineers' fixtures.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import pytest

from sensorcoach.ble.fakebluez import SimulatedSensor
from sensorcoach.io import recording as io_recording
from sensorcoach.types import Recording, SampleChunk

needs_dbus = pytest.mark.skipif(shutil.which("dbus-daemon") is None
                                and not Path("/usr/bin/dbus-daemon").exists(),
                                reason="dbus-daemon not installed (package dbus)")


def write_recording(path: Path, *, seconds: float, rate_hz: float, gyro: bool = True,
                    t0: float = 4562.43, seed: int = 1) -> Path:
    """A recording on an exact grid: slow sines plus noise, 5/4 decimals like the contract."""
    n = int(seconds * rate_hz)
    k = np.arange(n)
    t = np.round(t0 + k / rate_hz, 5)
    rng = np.random.default_rng(seed)
    acc = np.column_stack([0.01 + 0.3 * np.sin(0.7 * t), -0.91 + 0.2 * np.cos(2.1 * t),
                           -0.38 + rng.normal(0, 0.05, n)])
    gyr = np.column_stack([40 * np.sin(3 * t), 25 * np.cos(t), rng.normal(0, 2, n)])
    # through the package's one writer (the contract's 5/4 decimals)
    rec = Recording(SampleChunk(t, acc, gyr if gyro else None),
                    {"mount": "hip", "sample_rate_hz": f"{rate_hz:g}", "sensor": "synthetic"})
    io_recording.write_recording(path, rec)
    return path


@pytest.fixture(scope="session")
def rec100(tmp_path_factory) -> Path:
    """30 s at 100 Hz with gyroscope."""
    return write_recording(tmp_path_factory.mktemp("ble") / "rec100.csv", seconds=30,
                           rate_hz=100)


@pytest.fixture(scope="session")
def rec200(tmp_path_factory) -> Path:
    """20 s at 200 Hz with gyroscope."""
    return write_recording(tmp_path_factory.mktemp("ble") / "rec200.csv", seconds=20,
                           rate_hz=200, seed=2)


@pytest.fixture
def simulated():
    """Factory: ``simulated(recording, speed=..., fault=...)`` -> a started SimulatedSensor."""
    started: list[SimulatedSensor] = []

    def make(recording, **kwargs) -> SimulatedSensor:
        sim = SimulatedSensor(recording, **kwargs).start()
        started.append(sim)
        return sim

    yield make
    for sim in reversed(started):
        sim.stop()


async def stop_at_end(sim: SimulatedSensor, stop: asyncio.Event, grace_s: float = 0.4,
                      timeout_s: float = 60.0) -> None:
    """Set ``stop`` once the emulator reports the end of its recording."""
    await sim.wait_for_async("end", timeout_s)
    await asyncio.sleep(grace_s)
    stop.set()


def match_source(source, received):
    """Indices of ``received`` samples in ``source`` (same sensor-clock offset for all).

    The emulated sensor's 32-bit microsecond clock is the recording time modulo 2**32 us,
    so received times differ from the source by a constant multiple of 4294.967296 s.
    """
    off = received.time_s[0] - source.time_s[0]
    off = round(off / 4294.967296) * 4294.967296
    idx = np.searchsorted(source.time_s, received.time_s - off - 5e-7)
    idx = np.clip(idx, 0, len(source.time_s) - 1)
    # 6 us: a file keeps 5 decimals (10 us)
    np.testing.assert_allclose(source.time_s[idx] + off, received.time_s, atol=6e-6, rtol=0)
    return idx
