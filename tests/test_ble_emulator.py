# ruff: noqa: F811  (pytest fixtures imported from conftest_ble are test parameters)
"""Emulator and session pieces without a bus: fault spec, playback, control, recording."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from conftest_ble import rec100  # noqa: F401 - fixture

from sensorcoach.ble import protocol as H
from sensorcoach.ble.emulator import EmulatedSensor, load_source, parse_faults
from sensorcoach.ble.session import LiveSession
from sensorcoach.errors import SensorcoachError
from sensorcoach.io.recording import read_recording
from sensorcoach.types import SampleChunk


def test_parse_faults():
    f = parse_faults("loss:0.05, burst:2.0@30,drop:3@20,dup:0.01,reorder:0.02,garbage:0.03,"
                     "silent@40,silent:1.5@5")
    assert (f.loss, f.dup, f.reorder, f.garbage) == (0.05, 0.01, 0.02, 0.03)
    assert f.bursts == [(30.0, 2.0)] and f.drops == [(20.0, 3.0)]
    assert f.silents == [(40.0, float("inf")), (5.0, 1.5)]
    assert parse_faults("") == parse_faults(None)
    for bad in ("loss:2", "loss", "drop:3", "drop@3", "silent", "x:1", "loss:0.1@3",
                "burst:-1@2", "loss:abc"):
        with pytest.raises(SensorcoachError):
            parse_faults(bad)


def _run_emulator(path, *, fault="", control=(), speed=200.0, seed=0):
    async def main():
        sensor = EmulatedSensor(load_source(path), speed=speed, faults=parse_faults(fault),
                                seed=seed, tick_s=0.002)
        packets = []
        sensor.notify = packets.append
        sensor.link_connected()
        for c in control:
            sensor.handle_control(c)
        sensor.handle_control(H.cmd_start())
        await asyncio.wait_for(sensor.run(), 30)
        return sensor, packets

    return asyncio.run(main())


def test_emulator_plays_every_sample_through_the_firmware(rec100):
    sensor, packets = _run_emulator(rec100)
    asm = H.PacketAssembler()
    chunks = [c for p in packets for c in asm.push(H.decode_packet(p))] + asm.flush()
    n = sum(len(c) for c in chunks)
    src = read_recording(rec100).samples
    assert n == len(src) == sensor.stats.samples_sent
    assert all(H.decode_packet(p).count == 10 for p in packets)


def test_emulator_rate_change_resamples(rec100):
    sensor, packets = _run_emulator(rec100, control=[H.cmd_set_rate(50)])
    dec = [H.decode_packet(p) for p in packets]
    assert {p.interval_us for p in dec} == {20000}
    assert abs(sum(p.count for p in dec) - 1500) <= 1


def test_emulator_faults_are_applied(rec100):
    sensor, packets = _run_emulator(rec100, fault="burst:5@10,garbage:0.1,dup:0.1", seed=3)
    bad = good = 0
    seqs = []
    for p in packets:
        try:
            seqs.append(H.decode_packet(p).seq)
            good += 1
        except Exception:
            bad += 1
    assert bad == sensor.stats.garbage_sent > 0
    assert len(seqs) - len(set(seqs)) == sensor.stats.duplicates_sent > 0
    assert sensor.stats.packets_dropped == 50  # 5 s of 10 packets per second


def test_live_session_writes_and_feeds(tmp_path):
    fed = []
    out = tmp_path / "s.csv"
    session = LiveSession(out, meta={"mount": "hip"}, feed=lambda c: fed.append(len(c)) or [],
                          finish=lambda: [])
    t = 100.0 + np.arange(50) / 100
    for k in range(0, 50, 10):
        session.on_chunk(SampleChunk(t[k:k + 10], np.ones((10, 3)), np.zeros((10, 3))))
    assert session.writer is not None
    assert len(read_recording(out).samples) == 50  # on disk before close
    session.close()
    rec = read_recording(out)
    assert len(rec.samples) == 50 and rec.meta["mount"] == "hip" and "started_at" in rec.meta
    assert rec.meta["sample_rate_hz"] == "100"
    assert fed == [10] * 5


def test_live_session_keeps_chunks_without_gyro(tmp_path):
    """A chunk without gyro data cannot go into a file with gyro columns: it goes to the
    accelerometer-only side file, and every received sample is on disk."""
    out = tmp_path / "s.csv"
    session = LiveSession(out, meta={"mount": "bar"})
    t = 5.0 + np.arange(30) / 100
    acc = np.column_stack([np.zeros(30), np.zeros(30), 1.0 + np.arange(30) / 1000])
    session.on_chunk(SampleChunk(t[:10], acc[:10], np.zeros((10, 3))))
    session.on_chunk(SampleChunk(t[10:20], acc[10:20], None))
    session.on_chunk(SampleChunk(t[20:], acc[20:], np.zeros((10, 3))))
    session.close()
    main, side = read_recording(out), read_recording(session.side_path)
    assert session.side_path.name == "s.acc-only.csv"
    assert main.has_gyro and not side.has_gyro and side.meta["mount"] == "bar"
    assert session.side_samples == 10 and len(main.samples) == 20
    np.testing.assert_allclose(side.samples.time_s, t[10:20])
    np.testing.assert_allclose(side.samples.acc_g, acc[10:20], atol=1e-5)
    np.testing.assert_allclose(np.concatenate([main.samples.time_s[:10], side.samples.time_s,
                                               main.samples.time_s[10:]]), t)


def test_live_display_redraws_and_cues():
    import io

    from sensorcoach.ble.live_display import LiveDisplay
    from sensorcoach.events import RepEvent, SetDoneEvent

    out = io.StringIO()
    d = LiveDisplay(out, phase_of=lambda: "top", ansi=True)
    d.on_state("connected")
    d.on_samples(10, 12.5)
    d.on_events([RepEvent(set=1, rep=1, at_s=12.4, top_s=12.3, start_s=11.5)])
    d.on_events([{"event": "rep_done", "set": 1, "rep": 1, "at_s": 13.0,
                  "rep_detail": {"flags": ["no_top_pause", "bounce"]}}])
    d.on_events([SetDoneEvent(set=1, at_s=30.0, reps=1)])
    text = out.getvalue()
    assert "\x1b[4F" in text  # redrawn in place
    lines = d.lines()
    assert lines[0].startswith("set 1  reps 1") and "sets done 1" in lines[0]
    assert "phase top" in lines[1]
    assert "hold the top" in lines[2] and "no bounce" in lines[2]
    plain = io.StringIO()
    d2 = LiveDisplay(plain, ansi=False)
    d2.on_events([RepEvent(set=2, rep=3, at_s=1.0, top_s=0.9, start_s=0.1)])
    d2.on_state("lost")
    assert plain.getvalue() == "set 2 rep 3\nlink: lost\n"
