# ruff: noqa: F811  (pytest fixtures imported from conftest_ble are test parameters)
"""Polar H10 (PMD) and WitMotion profiles: decoders, and streaming through bleak."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from conftest_ble import needs_dbus, rec100, simulated, stop_at_end  # noqa: F401 - fixtures
from hypothesis import given
from hypothesis import strategies as st

from sensorcoach.ble import polar as PL
from sensorcoach.ble import witmotion as W
from sensorcoach.ble.client import SensorStream, scan
from sensorcoach.ble.profiles import get_profile
from sensorcoach.errors import DeviceError, PacketError
from sensorcoach.io.recording import read_recording


@given(st.binary(max_size=300))
def test_polar_any_bytes_decode_or_packet_error(data):
    try:
        ts, mg = PL.decode_frame(data)
    except PacketError:
        return
    assert mg.ndim == 2 and mg.shape[1] == 3 and mg.shape[0] >= 1


@given(st.binary(max_size=300))
def test_witmotion_any_bytes_decode_or_packet_error(data):
    try:
        rows = W.decode_notification(data)
    except PacketError:
        return
    assert rows.shape[1] == 6 and rows.shape[0] >= 1


@pytest.mark.parametrize("frame_type", [0, 1, 2])
def test_polar_frame_round_trip(frame_type):
    mg = np.array([[1, -2, 1000], [-100, 50, 990], [7, 8, -9]])
    if frame_type == 0:
        mg = np.clip(mg, -128, 127)
    ts, got = PL.decode_frame(PL.encode_frame(123_456_789_000, mg, frame_type))
    assert ts == 123_456_789_000
    np.testing.assert_array_equal(got, mg)


def test_polar_commands_and_responses():
    assert PL.cmd_start_acc(200, 8).hex() == "02020001c80001011000020108 00".replace(" ", "")
    assert PL.cmd_stop_acc() == b"\x03\x02"
    assert PL.parse_response(bytes([0xF0, 2, 2, 0, 0])) == (2, 2, 0)
    with pytest.raises(PacketError):
        PL.parse_response(b"\x01\x02")
    with pytest.raises(DeviceError):
        PL.cmd_start_acc(30)
    with pytest.raises(PacketError):
        PL.decode_frame(PL.encode_frame(1, [[1, 2, 3]])[:-1])
    with pytest.raises(PacketError):
        PL.decode_frame(bytes([2]) + bytes(8) + bytes([0x81]) + bytes(6))  # compressed


def test_polar_decoder_times_and_gaps():
    dec = PL.PolarDecoder(100)
    chunks = []
    for k in list(range(5)) + list(range(8, 10)):  # frames 5..7 lost
        ts = int((10.0 + (k + 1) * 0.1 - 0.01) * 1e9)  # last sample of a 10-sample frame
        chunks += dec.push(PL.encode_frame(ts, np.zeros((10, 3))), 0.0)
    t = np.concatenate([c.time_s for c in chunks])
    assert len(t) == 70 and np.all(np.diff(t) > 0)
    np.testing.assert_allclose(t[:50], 10.0 + 0.01 * np.arange(50), atol=1e-9)
    assert np.diff(t).max() == pytest.approx(0.31)
    assert dec.stats.lost_packets == 1
    assert dec.push(PL.encode_frame(int(10.2e9), np.zeros((10, 3))), 0.0) == []  # old frame


def test_witmotion_packets_and_times():
    pkt = W.encode_packet([0.0, -1.0, 15.99], [100.0, -2000.0, 0.5])
    assert len(pkt) == 20 and pkt[:2] == b"\x55\x61"
    rows = W.decode_notification(b"\x00" + pkt + b"\x55\x71" + bytes(18) + pkt)
    assert rows.shape == (2, 6)
    dec = W.WitMotionDecoder(100)
    t = []
    for k in range(50):
        arrival = 5.0 + k * 0.01 + (0.003 if k % 2 else 0.0)  # jittery arrivals
        if 20 <= k < 40:
            continue  # 0.2 s link gap
        t += list(dec.push(pkt, arrival)[0].time_s)
    t = np.array(t)
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(np.diff(t[:20]), 0.01, atol=1e-12)  # jitter removed
    assert dec.stats.resyncs == 0  # a 0.2 s gap is within the resync tolerance: bridged
    gap = dec.push(pkt, 5.0 + 50 * 0.01 + 1.0)[0].time_s[0] - t[-1]
    # the bridged 0.2 s left the axis 0.2 s behind the arrivals; a 1 s gap re-anchors
    assert gap == pytest.approx(1.21, abs=0.02) and dec.stats.resyncs == 1
    with pytest.raises(DeviceError):
        W.WitMotionDecoder(33)
    with pytest.raises(DeviceError):
        get_profile("garmin")


@needs_dbus
@pytest.mark.parametrize("kind", ["polar", "witmotion"])
def test_stream_through_bleak(simulated, rec100, kind):
    sim = simulated(rec100, speed=30, kind=kind, fault="drop:2@10")
    chunks = []

    async def main():
        found = await scan(1.0)
        stop = asyncio.Event()
        s = SensorStream(sim.name, chunks.append, profile=get_profile(kind), rate_hz=100)
        ender = asyncio.create_task(stop_at_end(sim, stop))
        stats = await s.run(stop)
        await ender
        return found, stats

    found, stats = asyncio.run(main())
    assert [d.kind for d in found] == [kind]
    assert stats.connects == 2 and stats.bad_packets == 0
    src = read_recording(rec100).samples
    t = np.concatenate([c.time_s for c in chunks])
    acc = np.concatenate([c.acc_g for c in chunks])
    assert np.all(np.diff(t) > 0)
    # the outage costs its 2 s plus the reconnect, which at 30x real time is many seconds
    # of recording on a loaded machine: what is lost must be one stretch (checked below),
    # and the reconnect must not take a large part of the session
    assert 0.5 * len(src) < len(t) < len(src)
    if kind == "polar":
        # sensor timestamps: every sample is matched to its source sample exactly
        idx = np.searchsorted(src.time_s, t - 1e-6)
        np.testing.assert_allclose(src.time_s[idx], t, atol=1e-6)
        np.testing.assert_allclose(acc, src.acc_g[idx], atol=0.0005 + 1e-9)
        assert chunks[0].gyr_dps is None
    else:
        # no timestamps (times come from the host clock, meaningless at 20x): the values
        # are the source's, in order, with one stretch missing (the outage)
        gyr = np.concatenate([c.gyr_dps for c in chunks])
        q = np.round(src.acc_g * 2048).astype(int)  # 16 g / 32768 = 1/2048 g per count
        got = np.round(acc * 2048).astype(int)
        first = int(np.flatnonzero((q == got[0]).all(axis=1))[0])
        n_before = next(i for i in range(len(got)) if not (got[i] == q[first + i]).all())
        rest = got[n_before:]
        start2 = int(np.flatnonzero((q == rest[0]).all(axis=1))[0])
        np.testing.assert_array_equal(rest, q[start2:start2 + len(rest)])
        assert start2 - (first + n_before) >= 150  # >= 1.5 s of 100 Hz lost in the drop
        np.testing.assert_allclose(gyr[:n_before], src.gyr_dps[first:first + n_before],
                                   atol=1000 / 32768 + 1e-9)
