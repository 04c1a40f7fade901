"""Packet encoder (firmware) / decoder (host) round trip, fuzzing, and the assembler."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorcoach.ble import _fw
from sensorcoach.ble import protocol as H
from sensorcoach.errors import PacketError

FP, FIMU, FSAMP = _fw.load()


def test_host_and_firmware_constants_agree():
    for name in ("PROTOCOL_VERSION", "SERVICE_UUID", "DATA_UUID", "CONTROL_UUID", "STATUS_UUID",
                 "HEADER_SIZE", "FLAG_GYRO", "SEQ_MOD", "CLOCK_MOD", "ACC_RANGES_G",
                 "GYR_RANGES_DPS", "MAX_PAYLOAD", "CMD_START", "CMD_STOP", "CMD_SET_RATE",
                 "CMD_SET_RANGE", "CMD_SET_BATCH", "MIN_RATE_HZ", "MAX_RATE_HZ"):
        assert getattr(FP, name) == getattr(H, name), name
    assert FP.STATUS_SIZE == H.STATUS.size
    assert H.cmd_set_rate(200) == bytes([FP.CMD_SET_RATE, 200, 0])


samples_st = st.lists(st.tuples(*[st.integers(-32768, 32767)] * 6), min_size=1, max_size=19)


@given(seq=st.integers(0, 65535), t0=st.integers(0, 2**32 - 1), interval=st.integers(1, 65535),
       acc=st.integers(0, 3), gyr=st.integers(0, 3), samples=samples_st, has_gyro=st.booleans())
def test_round_trip(seq, t0, interval, acc, gyr, samples, has_gyro):
    raw = FP.encode_packet(seq, t0, interval, acc, gyr, samples, has_gyro)
    assert len(raw) <= FP.MAX_PAYLOAD
    p = H.decode_packet(raw)
    assert (p.seq, p.t0_us, p.interval_us, p.count) == (seq, t0, interval, len(samples))
    arr = np.array(samples)
    np.testing.assert_array_equal(p.acc_counts, arr[:, :3])
    assert p.acc_range_g == H.ACC_RANGES_G[acc]
    if has_gyro:
        np.testing.assert_array_equal(p.gyr_counts, arr[:, 3:])
        assert p.gyr_range_dps == H.GYR_RANGES_DPS[gyr]
    else:
        assert p.gyr_counts is None and p.gyr_dps is None


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_packet_error(data):
    try:
        p = H.decode_packet(data)
    except PacketError:
        return
    assert p.count >= 1 and p.acc_counts.shape == (p.count, 3)


@given(st.binary(min_size=12, max_size=300))
def test_mutated_header_never_crashes(tail):
    # valid version byte so more of the decoder is reached
    data = bytes([1]) + tail[1:]
    try:
        H.decode_packet(data)
    except PacketError:
        pass


def test_truncated_and_padded_packets_rejected():
    raw = FP.encode_packet(1, 1000, 10000, 2, 2, [(1, 2, 3, 4, 5, 6)] * 10, True)
    for cut in range(len(raw)):
        with pytest.raises(PacketError):
            H.decode_packet(raw[:cut])
    with pytest.raises(PacketError):
        H.decode_packet(raw + b"\x00")
    with pytest.raises(PacketError):
        H.decode_packet(bytes([2]) + raw[1:])  # version
    with pytest.raises(PacketError):
        H.decode_packet(raw[:1] + bytes([0x81]) + raw[2:])  # unknown flag
    with pytest.raises(PacketError):
        H.decode_packet(None)  # type: ignore[arg-type]


def test_quantisation_half_lsb():
    lsb = 8 / 32768
    for v in (0.0, 0.01001, -0.9104, 7.99, -0.38120, lsb / 2, -lsb / 2):
        c = FP.to_counts(v, 8)
        assert abs(c * lsb - v) <= lsb / 2 + 1e-12
    assert FP.to_counts(100.0, 8) == 32767 and FP.to_counts(-100.0, 8) == -32768


def _packets(n, per=5, start_seq=0, t0=0, interval=10000):
    out = []
    for k in range(n):
        samples = [(k * per + i, 0, 0) for i in range(per)]
        out.append(H.decode_packet(FP.encode_packet(start_seq + k, t0 + k * per * interval,
                                                    interval, 2, 0, samples, False)))
    return out


def _feed(asm, packets):
    chunks = [c for p in packets for c in asm.push(p)] + asm.flush()
    t = np.concatenate([c.time_s for c in chunks]) if chunks else np.array([])
    vals = np.concatenate([c.acc_g[:, 0] for c in chunks]) / (8 / 32768) if chunks else t
    return t, np.round(vals).astype(int)


def test_assembler_in_order_with_seq_and_clock_wrap():
    pk = _packets(40, start_seq=65520, t0=2**32 - 1_000_000)
    asm = H.PacketAssembler()
    t, v = _feed(asm, pk)
    assert list(v) == list(range(200))
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(np.diff(t), 0.01, atol=1e-9)
    assert asm.stats.lost_packets == 0 and asm.stats.resyncs == 0


def test_assembler_duplicates_reorder_loss():
    pk = _packets(30)
    rng = random.Random(3)
    stream = []
    for i, p in enumerate(pk):
        if i == 7:
            continue  # lost
        stream.append(p)
        if rng.random() < 0.2:
            stream.append(p)  # duplicate
    stream[10], stream[11] = stream[11], stream[10]  # reorder
    stream.append(pk[3])  # very late duplicate
    asm = H.PacketAssembler()
    t, v = _feed(asm, stream)
    expected = [x for x in range(150) if not 35 <= x < 40]
    assert list(v) == expected
    assert np.all(np.diff(t) > 0)
    assert asm.stats.lost_packets == 1
    assert asm.stats.duplicates + asm.stats.late >= 2


def test_assembler_resync_on_restart_and_clock_reset():
    a = _packets(10, start_seq=500, t0=50_000_000)
    b = _packets(10, start_seq=0, t0=0)  # sensor rebooted: seq and clock restart
    asm = H.PacketAssembler()
    t, v = _feed(asm, a + b)
    assert len(v) == 100 and np.all(np.diff(t) > 0)
    assert asm.stats.resyncs == 1 and asm.stats.clock_resets == 1


def test_assembler_gap_after_outage_is_a_time_gap():
    pk = _packets(100)
    asm = H.PacketAssembler()
    t, v = _feed(asm, pk[:20] + pk[80:])
    assert len(v) == 200
    gaps = np.diff(t)
    assert gaps.max() == pytest.approx(60 * 5 * 0.01 + 0.01)


def test_sampler_control_and_packet_grid():
    sent = []
    imu = FIMU.FakeIMU([(0.0, 0.0, 1.0)] * 100, False)
    s = FSAMP.Sampler(imu, sent.append, batch=10)
    assert not s.handle_control(b"")
    assert not s.handle_control(b"\x03\x01\x00")  # 1 Hz: out of range
    assert s.handle_control(H.cmd_set_rate(200))
    assert s.handle_control(H.cmd_set_batch(7))
    assert s.handle_control(H.cmd_start())
    for i in range(30):
        s.tick(i * 5000)
    assert s.handle_control(H.cmd_stop())
    st_ = H.decode_status(s.status())
    assert (st_.rate_hz, st_.batch, st_.running, st_.commands_seen) == (200, 7, False, 4)
    counts = [H.decode_packet(p).count for p in sent]
    assert counts == [7, 7, 7, 7, 2]
    assert all(H.decode_packet(p).interval_us == 5000 for p in sent)


@settings(max_examples=200)
@given(st.data())
def test_assembler_any_arrival_order_gives_strictly_increasing_unique_samples(data):
    n = data.draw(st.integers(1, 60))
    start = data.draw(st.integers(0, 65535))
    pk = _packets(n, per=3, start_seq=start, t0=data.draw(st.integers(0, 2**32 - 1)))
    # arrival: drops, duplicates and local shuffles
    stream = []
    for p in pk:
        r = data.draw(st.integers(0, 9))
        if r == 0:
            continue
        stream.append(p)
        if r == 1:
            stream.append(p)
    for i in range(len(stream) - 1):
        if data.draw(st.booleans()) and data.draw(st.integers(0, 4)) == 0:
            stream[i], stream[i + 1] = stream[i + 1], stream[i]
    asm = H.PacketAssembler(reorder_window=data.draw(st.integers(0, 6)))
    t, v = _feed(asm, stream)
    assert np.all(np.diff(t) > 0)
    assert len(set(v.tolist())) == len(v)  # each sample at most once
    assert set(v.tolist()) <= set(range(3 * n))
    # times and values stay paired: sample k of the source is at t0 + k * 10 ms
    np.testing.assert_allclose(np.diff(t), np.diff(v) * 0.01, atol=1e-6)
